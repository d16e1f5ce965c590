"""The gateway wired into runs: keys, IPs, faults, tightening rules, unknown status, websockets."""

from __future__ import annotations

from fractions import Fraction
from itertools import pairwise
from math import isqrt
from pathlib import Path

import pytest

from harness.agents.throttling_report import banned_ns
from harness.config.scenario import loads_scenario
from harness.journal import ENGINE_QUEUE, REQUEST_THROTTLED
from harness.replay import RunResult, run_scenario
from harness.sim.clock import parse_instant
from tests.strategies import FeedWatcher, Recorder

START = "2024-08-08T23:55:00Z"
END = "2024-08-08T23:55:12Z"
NS_PER_S = 1_000_000_000


@pytest.fixture(scope="module")
def db(capture_db: Path) -> Path:
    """The session's store of the bundled capture (replays only read it)."""
    return capture_db


def _run(db: Path, agent: str, gateway: str = "") -> RunResult:
    text = f"""
seed = 3
[data]
db = "{db}"
symbols = ["BTCUSDT"]
start = "{START}"
end = "{END}"
{gateway}
[[agents]]
name = "watcher"
strategy = "tests.strategies:FeedWatcher"
{agent}
"""
    Recorder.RUNS.clear()
    return run_scenario(loads_scenario(text, source="wiring.toml"))


def _watcher() -> FeedWatcher:
    (watcher,) = Recorder.RUNS
    assert isinstance(watcher, FeedWatcher)
    return watcher


def _throttled(result: RunResult) -> list[str]:
    return [
        str(r.fields["reason"]) for r in result.journal.records() if r.kind == REQUEST_THROTTLED
    ]


def test_default_gateway_lets_an_order_through_with_an_ack(db: Path) -> None:
    result = _run(db, "")
    assert result.agents["watcher"]["position_lots"] == 1
    assert _throttled(result) == []
    assert result.throttling is not None
    stats = result.throttling.agents["watcher"]
    assert (stats.sent, stats.delivered, stats.ip) == (1, 1, "10.0.0.1")
    # 2 ms up, one 0.5 ms service slot, 2 ms down: the ack comes 4.5 ms after the order.
    assert stats.order_to_ack_ns == {
        "p50": 4_500_000,
        "p90": 4_500_000,
        "p99": 4_500_000,
        "max": 4_500_000,
    }


def test_a_read_only_key_cannot_trade(db: Path) -> None:
    result = _run(db, 'scopes = ["READ"]')
    assert result.agents["watcher"]["position_lots"] == 0
    assert _throttled(result) == ["SCOPE"]
    assert [reason for _, reason in _watcher().throttled] == ["SCOPE"]


def test_a_key_used_from_an_ip_off_its_allow_list_is_refused(db: Path) -> None:
    result = _run(db, 'ip = "10.1.1.1"\nallowed_ips = ["10.9.9.9"]')
    assert result.agents["watcher"]["position_lots"] == 0
    assert _throttled(result) == ["IP_NOT_ALLOWED"]
    allowed = _run(db, 'ip = "10.9.9.9"\nallowed_ips = ["10.9.9.9"]')
    assert allowed.agents["watcher"]["position_lots"] == 1


def test_market_data_disconnect_makes_the_book_stale_and_tells_the_strategy(db: Path) -> None:
    down, up = "2024-08-08T23:55:04Z", "2024-08-08T23:55:07Z"
    faults = f"""
[[gateway.faults]]
kind = "disconnect"
start = "{down}"
end = "{up}"
"""
    _run(db, "", faults)
    watcher = _watcher()
    down_ns, up_ns = parse_instant(down), parse_instant(up)
    assert watcher.feed[0] == (down_ns, True)
    stale_again_at, stale = watcher.feed[1]
    assert not stale and up_ns < stale_again_at < up_ns + 10_000_000
    # Nothing arrived while the link was down; the first book after it is the fresh snapshot.
    arrivals = [t for t, _ in watcher.books] + [t for t, _ in watcher.trades]
    assert not [t for t in arrivals if down_ns <= t < up_ns]
    assert next(t for t, _ in watcher.books if t >= up_ns) == stale_again_at
    assert any(t < down_ns for t in arrivals) and any(t > up_ns for t in arrivals)


def test_extra_latency_on_the_order_link_delays_the_ack(db: Path) -> None:
    faults = f"""
[[gateway.faults]]
kind = "latency"
link = "orders"
add_ms = 40
start = "{START}"
end = "{END}"
"""
    result = _run(db, "", faults)
    assert result.throttling is not None
    assert result.throttling.agents["watcher"].order_to_ack_ns["max"] == 44_500_000


def test_volatility_rule_tightens_in_a_run_and_the_journal_shows_why(db: Path) -> None:
    rules = """
[[gateway.rules]]
on = "volatility"
threshold = 0.0002
window_ms = 5000
factor = 0.5
"""
    result = _run(db, "", rules)
    changes = [r for r in result.journal.records() if r.kind == "limits_changed"]
    assert changes, "the slide at 23:55 moves the mark more than 0.02% in 5 s"
    first = changes[0]
    assert first.fields["cause"] == "volatility"
    assert (first.fields["weight_1m"], first.fields["orders_10s"]) == (1200, 150)
    volatility = first.fields["volatility_e6"]
    assert isinstance(volatility, int) and volatility >= 200
    assert first.ts % NS_PER_S == 0  # evaluated right after a mark (1 s interval)
    # The input is the marks' realized volatility over (t - 5 s, t], the mark at t included:
    # recomputed here from the journaled marks (one a second, all of them).
    marks = [(r.ts, r.fields["mark"]) for r in result.journal.records() if r.kind == "mark"]
    squares = sum(
        (
            Fraction(int(b) - int(a), int(a)) ** 2
            for (_, a), (t, b) in pairwise(marks)
            if first.ts - 5 * NS_PER_S < t <= first.ts
        ),
        Fraction(0),
    )
    assert volatility == isqrt(squares.numerator * 10**12 // squares.denominator)
    # Every change alternates between tightened and restored, each with its input.
    for before, after in pairwise(changes):
        assert before.fields["weight_1m"] != after.fields["weight_1m"]
    restored = [r.fields["volatility_e6"] for r in changes if r.fields["cause"] == "base"]
    assert restored and all(isinstance(v, int) and v < 200 for v in restored)


def _maker_run(db: Path, client: str) -> RunResult:
    """A slow engine (10 messages a second) where every timeout answers "unknown status" and half
    of those still execute: the maker's quotes pile up behind each other."""
    text = f"""
seed = 3
[data]
db = "{db}"
symbols = ["BTCUSDT"]
start = "{START}"
end = "{END}"
[gateway]
service_rate_per_s = 10
overload_depth = 0
timeout_ms = 300
unknown_share = 1
unknown_executes = 0.5
[[agents]]
name = "maker"
strategy = "harness.agents.examples.market_maker:PostOnlyMarketMaker"
params = {{ qty_lots = 1 }}
fee_tier = "mm3"
client = "{client}"
"""
    return run_scenario(loads_scenario(text, source="slow.toml"))


def test_unknown_status_in_a_run_is_reconciled_and_never_doubles_an_order(db: Path) -> None:
    result = _maker_run(db, "careful")
    assert result.throttling is not None
    maker = result.throttling.agents["maker"]
    assert maker.rejected["UNKNOWN_STATUS"] > 0
    assert maker.retries > 0  # reconciliation queries, then resends under the same id
    accepted = [
        str(r.fields["client_id"])
        for r in result.journal.records()
        if r.kind == "order_accepted" and r.account == "maker"
    ]
    assert accepted and len(accepted) == len(set(accepted))
    assert result.conservation_gap == 0


def _ws_run(db: Path, client: str) -> RunResult:
    """A take-profit ladder of 6 re-laid on every move of the ask: bursts of 12 messages."""
    text = f"""
seed = 3
[data]
db = "{db}"
symbols = ["BTCUSDT"]
start = "{START}"
end = "{END}"
[[agents]]
name = "ws"
strategy = "harness.agents.examples.stop_loss_trader:StopLossTrader"
params = {{ qty_lots = 100, stop_ticks = 100000, tp_ticks = 300, levels = 6 }}
transport = "websocket"
client = "{client}"
"""
    return run_scenario(loads_scenario(text, source="ws.toml"))


def test_websocket_message_limit_closes_a_bursting_connection_a_paced_one_never(db: Path) -> None:
    naive = _ws_run(db, "naive")
    throttled = [r for r in naive.journal.records() if r.kind == REQUEST_THROTTLED]
    assert {r.fields["reason"] for r in throttled} == {"WS_DISCONNECTED", "IP_BANNED"}
    assert naive.throttling is not None and naive.throttling.agents["ws"].given_up > 0
    # The connection is closed again and again (a close, and what else arrives at its instant,
    # answers 1008 with the full reconnect time); the fifth close bans the IP for two minutes
    # (ws_closes_before_ban, on the 418 ladder) instead.
    first_ban = next(i for i, r in enumerate(throttled) if r.fields["ban_ns"])
    closes = {
        r.ts
        for r in throttled[:first_ban]
        if r.fields["status"] == 1008 and r.fields["retry_after_ns"] == 1_000_000_000
    }
    assert len(closes) == 4
    assert throttled[first_ban].fields["ban_ns"] == 120 * 1_000_000_000
    assert throttled[first_ban].fields["status"] == 418
    assert naive.throttling.agents["ws"].banned_ns > 0
    careful = _ws_run(db, "careful")
    assert careful.throttling is not None
    paced = careful.throttling.agents["ws"]
    assert _throttled(careful) == [] and paced.given_up == 0
    assert paced.sent == paced.delivered > 12


def test_time_banned_counts_each_ban_once_and_stops_at_the_end() -> None:
    s = NS_PER_S
    # Two bans of 120 s and 240 s, the second starting inside the first; the run ends at 300 s.
    assert banned_ns([(0, 120 * s), (100 * s, 240 * s)], 300 * s) == 300 * s
    assert banned_ns([(10 * s, 5 * s), (20 * s, 5 * s)], 300 * s) == 10 * s


def test_engine_queue_depth_is_sampled_each_second_when_it_changes(db: Path) -> None:
    result = _maker_run(db, "careful")
    samples = [r for r in result.journal.records() if r.kind == ENGINE_QUEUE]
    depths = [int(r.fields["depth"]) for r in samples]
    assert max(depths) > 0 and min(depths) >= 0  # 10 messages/s: the quotes pile up
    start = parse_instant(START)
    assert all((r.ts - start) % NS_PER_S == 0 and r.symbol == "BTCUSDT" for r in samples)
    assert all(a != b for a, b in pairwise([0, *depths]))  # journaled only when it changed
    # Only the maker sends: the queue never holds more than it sent.
    assert result.throttling is not None
    assert max(depths) <= result.throttling.agents["maker"].sent


def test_a_quiet_engine_queue_journals_no_samples(db: Path) -> None:
    result = _run(db, "")
    assert not [r for r in result.journal.records() if r.kind == ENGINE_QUEUE]
