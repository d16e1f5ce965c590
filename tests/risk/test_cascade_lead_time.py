"""The monitor ahead of a hand-built cascade: twenty accounts idle for two minutes, then every
margin ratio climbs 2 points a second until the first reaches 100% and is liquidated."""

from __future__ import annotations

from fractions import Fraction

from harness.assembly import monitor_settings
from harness.config.risk import RiskConfig
from harness.journal import Journal
from harness.risk.alert_summary import alert_summary
from harness.risk.features import PPM
from harness.risk.market_view import Exposure
from harness.risk.monitor import RiskMonitor
from harness.sim.clock import SimEnv
from tests.risk.hand_view import HandView

S = 1_000_000_000
ACCOUNTS = [f"acct{i:02d}" for i in range(20)]
CLIMB_FROM = 120


def ratio_ppm(i: int, second: int) -> int:
    """0.20 to 0.24 (a deterministic wiggle), then +0.02 a second from 120 s on."""
    wiggle = ((i * 7 + second) % 5) * PPM // 100
    return PPM // 5 + wiggle + max(0, second - CLIMB_FROM) * PPM // 50


def test_venue_wide_margin_pressure_alerts_well_before_the_first_liquidation() -> None:
    env = SimEnv(0)
    journal = Journal()
    view = HandView()
    monitor = RiskMonitor(env, journal, view, monitor_settings(RiskConfig()))
    for account in ACCOUNTS:
        journal.append(0, "position", account, "X", before=0, after=10)
    liquidated: list[str] = []

    def move(second: int) -> None:
        for i, account in enumerate(ACCOUNTS):
            if account in liquidated:
                continue
            ratio = ratio_ppm(i, second)
            view.exposures[account] = Exposure(ratio, PPM, 20 * PPM)
            if ratio >= PPM:
                view.exposures[account] = Exposure(0, PPM, 0)  # taken over: flat
                liquidated.append(account)
                journal.append(env.now, "liquidation", account, "X", step="queued", ratio="1")

    for second in range(0, 200):
        env.call_at(second * S + S // 2, lambda second=second: move(second))
    env.process(monitor.process(200 * S))
    env.run()
    # 0.20 + wiggle + 0.02 x (t - 120) >= 1 needs 0.02 x (t - 120) >= 0.76 with the largest
    # wiggle (0.04): t = 158, for an account with (7i + 158) % 5 == 4, i % 5 == 3: acct03.
    first_liquidation = next(r for r in journal.records() if r.kind == "liquidation")
    assert (first_liquidation.ts, first_liquidation.account) == (158 * S + S // 2, "acct03")
    alerts = [r for r in journal.records() if r.kind == "risk_alert"]
    first = alerts[0]
    # The sample at 124 s sees the ratios set at 123.5 s: 3 x 0.02 above those of 10 s before
    # (same wiggle, its period is 5 s), >= 0.05 for every account: the rising share jumps from
    # 0 to 1 against a floor of 0.1 (z 10) - the venue-wide alert. At 123 s the rise is 0.04.
    assert (first.ts, first.account, first.symbol) == (124 * S, "", "")
    assert first.fields["feature_1"] == "margin_rising_share"
    assert first.fields["z_1"] == 1_000
    # Each account is then named on its own once its ratio is 8 floors (0.05) above its usual
    # 0.22 - 0.62 to 0.64 - between 140 s and 142 s, 16 s and more before the first liquidation.
    named = {r.account: r.ts for r in alerts if r.account}
    assert sorted(named) == ACCOUNTS
    assert min(named.values()) == 140 * S and max(named.values()) == 142 * S
    assert {r.fields["feature_1"] for r in alerts if r.account} == {"margin_ratio"}
    # At 140 s acct00, 05, 10 and 15 share the top ratio (0.62), 16 accounts are below:
    # quantile (2 x 16 + 4) / 40 = 90%.
    acct00 = next(r for r in alerts if r.account == "acct00")
    assert (acct00.fields["quantile_pct_1"], acct00.fields["peers_1"]) == (90, 20)
    assert str(acct00.fields["reason"]).startswith(
        "account acct00: margin ratio (maintenance / margin balance) (latest) 0.62 vs usual "
        "0.22 (robust z 8.0; percentile 90 of 20 accounts): the account is moving toward "
        "liquidation"
    )
    summary = alert_summary(journal.records(), 0, 200 * S, Fraction(8), 600 * S)
    assert summary["lead_time_s"] == "34.500"  # 158.5 s - 124 s: the goal is at least 30
    assert summary["false_alerts"] == 0
