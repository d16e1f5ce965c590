"""The liquidation path through the real venue: a single isolated long goes at the right mark, and
random populations on random price paths keep conservation exact with every loss journaled."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.journal import Journal
from harness.sim.clock import SimEnv
from harness.venue.ledger.accounts import EXTERNAL, SYSTEM_FEE_TIER
from harness.venue.liquidation.insurance_fund import INSURANCE_FUND
from harness.venue.population import Holding, Member, open_population
from harness.venue.profiles.binance_usdm import BINANCE_USDM, BTCUSDT, ETHUSDT
from harness.venue.venue import Market, Venue, VenueSettings

START = 1_723_161_256_000_000_000
SECOND = 1_000_000_000
USDT = 10**8
LEVELS = 30


def _quote(market: Market, ts: int, bid: int, old: int | None, step: int = 1) -> None:
    """Re-quote the book: bids from `bid` down, asks from bid + 2 up (the mid is bid + 1)."""
    if old is not None:
        for level in range(LEVELS):
            market.depth(ts, 1, old - level * step, 0)
            market.depth(ts, -1, old + 2 + level * step, 0)
    for level in range(LEVELS):
        market.depth(ts, 1, bid - level * step, 5_000)
        market.depth(ts, -1, bid + 2 + level * step, 5_000)


def test_single_isolated_long_is_liquidated_at_the_mark_of_example_2() -> None:
    """MECHANICS example 2: isolated long 1 at 60,000, WB 6,000, table 2021: LP 54,221.106.
    A mark of 54,221.2 leaves it in the band; 54,221.1 makes it due, bankruptcy 54,000. Its
    notional, 54,221.1, is in tier 2 (above 50,000): the cut keeps 922 lots (49,991.85, tier 1),
    where it complies."""
    inst = replace(BTCUSDT, brackets=BINANCE_USDM.bracket_table("binance-btcusdt-2021"))
    env = SimEnv(START, seed=1)
    venue = Venue(
        env, Journal(), {"BTCUSDT": inst}, VenueSettings(mark_method="mid", clearance_fee=0)
    )
    market = venue.markets["BTCUSDT"]
    _quote(market, START, 542_211, None)  # mid 54,221.2
    holding = Holding("BTCUSDT", 1_000, 600_000, 10, isolated=True)
    open_population(venue, [Member("a", 6_000 * USDT, (holding,))], "regular", START)
    env.call_at(START + 2_500_000_000, lambda: _quote(market, env.now, 542_210, 542_211))
    env.process(venue.mark_process(START + 4 * SECOND))
    env.run()
    records = list(venue.journal.records())
    steps = [(r.ts, r.fields.get("step")) for r in records if r.kind == "liquidation"]
    assert steps[:2] == [(START + 3 * SECOND, "queued"), (START + 3 * SECOND, "dequeued")]
    (cut,) = [r for r in records if r.fields.get("step") == "partial"]
    assert (cut.fields["mark"], cut.fields["bankruptcy_price"]) == (542_211, 540_000)
    assert (cut.fields["qty"], cut.fields["position_after"]) == (78, 922)
    assert steps[-1] == (START + 3 * SECOND, "recheck")
    marks = [r.fields["mark"] for r in records if r.kind == "mark"]
    assert marks[:3] == [542_212, 542_212, 542_211]
    assert venue.ledger.position("a", "BTCUSDT").qty == 922
    venue.ledger.check_conservation()


holding_st = st.tuples(
    st.sampled_from(["BTCUSDT", "ETHUSDT"]),
    st.integers(-3_000, 3_000).filter(bool),  # lots
    st.integers(-300, 300),  # entry offset in basis points of the start price
)
member_st = st.tuples(
    st.lists(holding_st, min_size=1, max_size=2, unique_by=lambda h: h[0]),
    st.sampled_from([5, 20, 50, 100, 125]),
    st.booleans(),  # isolated (one symbol only)
    st.integers(0, 200),  # extra balance, % of the initial margin
)
path_st = st.lists(st.integers(-400, 400), min_size=2, max_size=8)  # basis points a second


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    st.lists(member_st, min_size=1, max_size=6),
    path_st,
    path_st,
    st.integers(0, 2_000),
)
def test_random_populations_and_price_paths_conserve_and_journal_every_loss(
    members: list[tuple[list[tuple[str, int, int]], int, bool, int]],
    btc_path: list[int],
    eth_path: list[int],
    fund_usdt: int,
) -> None:
    instruments = {"BTCUSDT": BTCUSDT, "ETHUSDT": ETHUSDT}
    start = {"BTCUSDT": 600_000, "ETHUSDT": 250_000}
    env = SimEnv(START, seed=1)
    venue = Venue(
        env,
        Journal(),
        instruments,
        VenueSettings(mark_method="mid", insurance_fund_units=fund_usdt * USDT),
    )
    population = []
    for n, (holdings, leverage, isolated, extra) in enumerate(members):
        held = holdings[:1] if isolated else holdings
        built = tuple(
            Holding(s, lots, start[s] * (10_000 + bp) // 10_000, leverage, isolated)
            for s, lots, bp in held
        )
        margin = sum(
            -(-abs(instruments[h.symbol].notional_units(h.lots, h.entry)) // leverage)
            for h in built
        )
        population.append(Member(f"m{n}", margin + margin * extra // 100, built))
    bids = dict(start)
    for symbol, market in venue.markets.items():
        _quote(market, START, bids[symbol], None, step=10)
    open_population(venue, population, "regular", START)
    venue.ledger.check_conservation()

    def move(symbol: str, bp: int) -> None:
        new = max(1_000, bids[symbol] * (10_000 + bp) // 10_000)
        _quote(venue.markets[symbol], env.now, new, bids[symbol], step=10)
        bids[symbol] = new
        venue.ledger.check_conservation()

    for k, bp in enumerate(btc_path):
        env.call_at(START + k * SECOND + SECOND // 2, lambda bp=bp: move("BTCUSDT", bp))
    for k, bp in enumerate(eth_path):
        env.call_at(START + k * SECOND + SECOND // 2, lambda bp=bp: move("ETHUSDT", bp))
    end = START + (max(len(btc_path), len(eth_path)) + 3) * SECOND
    env.process(venue.mark_process(end))
    env.run()

    ledger = venue.ledger
    ledger.check_conservation()
    records = list(venue.journal.records())
    # Every fund flow is journaled: the balance is the sum of the journaled amounts.
    flows = [r for r in records if r.kind == "insurance_fund"]
    assert venue.fund.balance == sum(int(r.fields["amount"]) for r in flows) >= 0
    resets = {r.account for r in flows if r.fields["reason"] == "negative_balance_reset"}
    for account_id, account in ledger.accounts.items():
        if account.fee_tier == SYSTEM_FEE_TIER:
            continue
        # No balance stays negative once nothing is open to carry it.
        cross_open = any(p.qty and not p.isolated for p in account.positions.values())
        assert cross_open or account.wallet >= 0, account_id
        for pos in account.positions.values():
            assert pos.qty or pos.isolated_wallet >= 0, account_id
    # Nothing is left with the liquidator, and the fund holds no position.
    for symbol in instruments:
        assert ledger.position("@liquidator", symbol).qty == 0
        assert ledger.position(INSURANCE_FUND, symbol).qty == 0
        assert ledger.position(EXTERNAL, symbol).qty == -sum(
            a.positions[symbol].qty
            for name, a in ledger.accounts.items()
            if name != EXTERNAL and symbol in a.positions
        )
    assert resets <= set(ledger.accounts)
