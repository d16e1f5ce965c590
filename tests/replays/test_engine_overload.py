"""replays/engine-overload.toml on the bundled capture: two order bursters overload BTCUSDT's engine
queue; new orders are refused, unknown statuses are reconciled, exits still pass. Pinned by the
golden snapshot, and the story checked against the journal record by record."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from harness.config.scenario import load_scenario
from harness.journal import (
    ORDER_ACCEPTED,
    ORDER_QUERY,
    ORDER_REJECTED,
    OVERLOAD_PASSED,
    REQUEST_THROTTLED,
    Record,
)
from harness.replay import RunResult
from harness.sim.clock import parse_instant
from harness.testing import Golden
from tests.conftest import ROOT

REPLAY = ROOT / "replays" / "engine-overload.toml"
NS_PER_S = 1_000_000_000
CAREFUL = ("trader", "maker", "burster-a", "burster-b")


@pytest.fixture(scope="module")
def result(capture_db: Path) -> RunResult:
    return Golden.run(REPLAY, db=capture_db)


@pytest.fixture(scope="module")
def records(result: RunResult) -> list[Record]:
    return list(result.journal.records())


def _fields(record: Record) -> dict[str, Any]:
    return dict(record.fields)


def test_engine_overload_replay(golden: Golden, result: RunResult) -> None:
    golden.check(result)


def test_new_orders_refused_for_tens_of_seconds_at_the_overload_depth(
    result: RunResult, records: list[Record]
) -> None:
    refused = [
        r for r in records if r.kind == REQUEST_THROTTLED and r.fields["reason"] == "OVERLOADED"
    ]
    assert refused
    # Every refusal is a new order (place), met a queue at or past the overload depth, and came
    # inside the burst (23:55:30 .. 23:56:30) or while its backlog drained.
    assert {r.fields["endpoint"] for r in refused} == {"place"}
    assert min(int(str(r.fields["queue_depth"])) for r in refused) >= 1000
    assert refused[0].ts >= parse_instant("2024-08-08T23:55:30Z")
    assert refused[-1].ts - refused[0].ts >= 30 * NS_PER_S
    assert result.throttling is not None
    queue = result.throttling.queues["BTCUSDT"]
    assert queue["overload_rejects"] == len(refused)
    assert queue["depth_at_arrival"]["max"] >= 1000
    assert queue["overloaded_ns"] > 10 * NS_PER_S
    # Per agent and per symbol counts tell the same story.
    agents = result.throttling.agents
    assert sum(a.overload_rejects for a in agents.values()) == len(refused)
    unknown = sum(1 for r in records if r.fields.get("reason") == "UNKNOWN_STATUS")
    assert queue["unknown_statuses"] == unknown == sum(a.unknown_statuses for a in agents.values())


def test_unknown_statuses_reconciled_without_doubling_an_order(
    result: RunResult, records: list[Record]
) -> None:
    assert result.throttling is not None
    agents = result.throttling.agents
    assert sum(agents[name].unknown_statuses for name in CAREFUL) > 100
    assert sum(agents[name].reconciled_found for name in CAREFUL) > 0
    assert sum(agents[name].reconciled_resent for name in CAREFUL) > 0
    assert all(agents[name].doubled_orders == 0 for name in CAREFUL)
    # The journal agrees: no client order id was accepted twice.
    accepted = Counter(
        (r.account, str(r.fields["client_id"])) for r in records if r.kind == ORDER_ACCEPTED
    )
    assert max(accepted.values()) == 1
    # A query answered "found" names an order the engine had answered by the time of the answer
    # (FIFO queue); "not found" names one the engine had never seen by then. (An engine reject of
    # a cancel carries the id of the order it meant to cancel: not an answer to the order.)
    answered: dict[tuple[str, str], int] = {}
    for r in records:
        if r.kind == ORDER_ACCEPTED or (
            r.kind == ORDER_REJECTED and r.fields["request"] == "SUBMIT"
        ):
            answered.setdefault((r.account, str(r.fields["client_id"])), r.ts)
    queries = [r for r in records if r.kind == ORDER_QUERY]
    found = [q for q in queries if q.fields["found"] and q.fields["client_id"]]
    assert found
    for query in found:
        first = answered.get((query.account, str(query.fields["client_id"])))
        assert first is not None and first <= int(str(query.fields["answer_ns"]))
    for query in queries:
        if not query.fields["found"]:
            first = answered.get((query.account, str(query.fields["client_id"])))
            assert first is None or first > int(str(query.fields["answer_ns"]))


def test_reduce_only_exit_passes_while_new_orders_are_refused(
    result: RunResult, records: list[Record]
) -> None:
    passed = [r for r in records if r.kind == OVERLOAD_PASSED and r.account == "trader"]
    assert result.throttling is not None
    assert result.throttling.agents["trader"].exits_passed_overload == len(passed) > 0
    refused_at = [r.ts for r in records if r.fields.get("reason") == "OVERLOADED"]
    accepted = {
        str(r.fields["client_id"]): _fields(r)
        for r in records
        if r.kind == ORDER_ACCEPTED and r.account == "trader"
    }
    # The stop-loss exit: a reduce-only market sell let into the overloaded queue, accepted by the
    # engine, with new orders refused within a second either side of it.
    exits = [
        p
        for p in passed
        if p.fields["outcome"] == "queued"
        and accepted.get(str(p.fields["client_id"]), {}).get("type") == "MARKET"
    ]
    assert exits
    exit_record = exits[0]
    assert accepted[str(exit_record.fields["client_id"])]["reduce_only"] is True
    assert int(str(exit_record.fields["queue_depth"])) >= 1000
    assert any(abs(ts - exit_record.ts) <= NS_PER_S for ts in refused_at)
    # It waited about ten seconds in the queue (1,000 messages at 100 a second), and the price
    # fell past the trigger meanwhile: a missed exit.
    trader = result.throttling.agents["trader"]
    missed = trader.missed_exits[0]
    waited = parse_instant(missed["reached_at"]) - parse_instant(missed["asked_at"])
    assert 10 * NS_PER_S <= waited < 11 * NS_PER_S
    assert trader.overload_rejects == 0  # the trader only sent exits and cancels meanwhile


def test_summary_json_carries_the_figures(result: RunResult) -> None:
    summary = json.loads(json.dumps(result.summary()))
    throttling = summary["throttling"]
    assert throttling["queues"]["BTCUSDT"]["overload_rejects"] > 0
    trader = throttling["agents"]["trader"]
    assert trader["exits_passed_overload"] > 0
    assert {"unknown_statuses", "reconciled_found", "reconciled_resent", "doubled_orders"} <= set(
        trader
    )


def test_before_october_2025_exits_were_refused_like_new_orders(capture_db: Path) -> None:
    """`exits_pass_overload = false`, the older policy: the same stop-loss exit bounces off the
    overloaded queue (given up and sent again by the strategy) and nothing passes as an exit."""
    scenario = load_scenario(REPLAY)
    old = dataclasses.replace(scenario.gateway, exits_pass_overload=False)
    result = Golden.run(dataclasses.replace(scenario, gateway=old), db=capture_db)
    assert result.throttling is not None
    trader = result.throttling.agents["trader"]
    assert trader.exits_passed_overload == 0
    assert trader.overload_rejects > 0 and trader.given_up > 0
    assert not any(r.kind == OVERLOAD_PASSED for r in result.journal.records())
    # Its first exit intent never reached the engine; a later one did.
    assert trader.missed_exits[0]["reached_at"] is None
    assert trader.exits > 1
