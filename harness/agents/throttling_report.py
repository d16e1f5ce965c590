"""What throttling did to each agent of a run, for summary.json.

Per agent: requests sent, let through to the engine, rejected by reason (gateway reasons, and
engine reasons as `engine:<reason>`), retries and give-ups, time its IP spent banned, queue delay
and order-to-ack latency percentiles, exit intents and the missed ones, and its equity at the end.

Missed exits. An exit intent is a reduce-only order the strategy asked for. Its trigger is the
stop price of a stop-market order, else the last journaled mark at or before the request. It is
missed when a journaled mark between the request and the moment it reached the engine (or the
end of the run, if it never did) passed the trigger by more than `[gateway] missed_exit_ticks`
on the wrong side (below it for a sell closing a long, above it for a buy).

Cost. With `[gateway] compare_unthrottled = true` the scenario runs a second time with
`throttle = false` (no limits, tightening, overload refusals or unknown statuses; same data, seed,
latency and faults) and each agent's cost is its equity there minus its equity here, in quote
units (1e-8 USDT): positive when throttling cost money.

Engine overload. Per agent: new orders refused by an overloaded engine queue (`overload_rejects`,
retries included), unknown statuses received, how the careful client's reconciliation queries
were answered (`reconciled_found`: the order had reached the engine; `reconciled_resent`: it had
not and was resent under its own id), orders doubled by resends (`doubled_orders`) and exits let
through an overloaded queue (`exits_passed_overload`, from the journal's `overload_passed`
records). Per symbol (`queues`): the depth each message met on arrival as percentiles, the time
the queue spent at or above its overload depth (clipped to the run's end), and the first and last
overload reject; the journal's `request_throttled`, `overload_passed` and `order_query` records
carry the same events one by one.

Percentiles are nearest-rank on the integer values, so they are exact and reproducible.
"""

from __future__ import annotations

import dataclasses
from bisect import bisect_right
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness.journal import MARK, OVERLOAD_PASSED, REQUEST_THROTTLED, Journal
from harness.sim.clock import iso
from harness.venue.exchange.orders import Side

if TYPE_CHECKING:
    from harness.agents.resilient_client import ExitIntent
    from harness.agents.runtime import AgentRuntime
    from harness.venue.gateway.engine_queue import EngineQueue
    from harness.venue.venue import Venue

PERCENTILES = (50, 90, 99)
MISSED_EXITS_SHOWN = 5
"""summary.json lists the first missed exits of an agent in detail and counts them all."""


def percentiles(values: Sequence[int]) -> dict[str, int]:
    """Nearest-rank p50, p90, p99 and the max of integer values (empty: no keys)."""
    if not values:
        return {}
    ordered = sorted(values)
    n = len(ordered)
    out = {f"p{p}": ordered[max(0, -(-p * n // 100) - 1)] for p in PERCENTILES}
    out["max"] = ordered[-1]
    return out


def banned_ns(bans: Sequence[tuple[int, int]], end: int) -> int:
    """Time spent banned, from the (start, length) of the bans in time order, clipped to the end
    and never counting an overlap twice."""
    total = 0
    covered_until = 0
    for start, length in bans:
        stop = min(start + length, end)
        total += max(0, stop - max(start, covered_until))
        covered_until = max(covered_until, stop)
    return total


@dataclass
class _JournalFacts:
    """What the report reads from the journal, in one pass: marks per symbol, bans per IP (a
    ban stops every agent on the IP, whichever request caused it)."""

    marks: dict[str, tuple[list[int], list[int]]] = field(default_factory=dict)
    bans: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    exits_passed: Counter[str] = field(default_factory=Counter)
    """`overload_passed` records per account."""
    overload_rejects: dict[str, list[int]] = field(default_factory=dict)
    """Times of the OVERLOADED rejects per symbol."""
    unknown_statuses: Counter[str] = field(default_factory=Counter)
    """UNKNOWN_STATUS answers per symbol."""

    @classmethod
    def read(cls, journal: Journal) -> _JournalFacts:
        facts = cls()
        for record in journal.records():
            if record.kind == MARK:
                times, prices = facts.marks.setdefault(record.symbol, ([], []))
                mark = record.fields["mark"]
                assert isinstance(mark, int)
                times.append(record.ts)
                prices.append(mark)
            elif record.kind == REQUEST_THROTTLED:
                ban = record.fields["ban_ns"]
                if isinstance(ban, int) and ban > 0:
                    ip = str(record.fields["ip"])
                    facts.bans.setdefault(ip, []).append((record.ts, ban))
                reason = record.fields["reason"]
                if reason == "OVERLOADED":
                    facts.overload_rejects.setdefault(record.symbol, []).append(record.ts)
                elif reason == "UNKNOWN_STATUS":
                    facts.unknown_statuses[record.symbol] += 1
            elif record.kind == OVERLOAD_PASSED:
                facts.exits_passed[record.account] += 1
        return facts


def missed_exit(
    intent: ExitIntent, times: list[int], marks: list[int], threshold: int, end: int
) -> dict[str, Any] | None:
    """The missed exit's details, or None when it reached the engine in time (or has no mark)."""
    trigger = intent.stop_price
    if trigger is None:
        at = bisect_right(times, intent.asked_at) - 1
        if at < 0:
            return None
        trigger = marks[at]
    until = intent.reached_at if intent.reached_at is not None else end
    first = bisect_right(times, intent.asked_at)
    last = bisect_right(times, until)
    sign = -1 if intent.side is Side.SELL else 1  # a sell exit loses when the mark falls
    worst = max((sign * (m - trigger) for m in marks[first:last]), default=0)
    if worst <= threshold:
        return None
    return {
        "asked_at": iso(intent.asked_at),
        "reached_at": iso(intent.reached_at) if intent.reached_at is not None else None,
        "side": intent.side.name,
        "qty_lots": intent.qty,
        "trigger": trigger,
        "worst_ticks_past": worst,
    }


@dataclass
class AgentThrottling:
    client: str
    ip: str
    sent: int
    delivered: int
    retries: int
    given_up: int
    rejected: dict[str, int]
    banned_ns: int
    queue_delay_ns: dict[str, int]
    order_to_ack_ns: dict[str, int]
    exits: int
    missed_exits: list[dict[str, Any]]
    equity_units: int
    overload_rejects: int = 0
    unknown_statuses: int = 0
    reconciled_found: int = 0
    reconciled_resent: int = 0
    doubled_orders: int = 0
    exits_passed_overload: int = 0
    cost_vs_unthrottled_units: int | None = None

    def summary(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["missed_exits"] = self.missed_exits[:MISSED_EXITS_SHOWN]
        out["missed_exit_count"] = len(self.missed_exits)
        return out


@dataclass
class ThrottlingRun:
    throttled: bool
    agents: dict[str, AgentThrottling] = field(default_factory=dict)
    compared: bool = False
    queues: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def measure(
        cls,
        journal: Journal,
        venue: Venue,
        agents: Sequence[AgentRuntime],
        end: int,
        queues: Mapping[str, EngineQueue] | None = None,
        *,
        throttled: bool,
        missed_exit_ticks: int,
    ) -> ThrottlingRun:
        """`throttled` and `missed_exit_ticks` are the run's `[gateway]` throttle and
        missed_exit_ticks."""
        facts = _JournalFacts.read(journal)
        run = cls(throttled)
        for agent in agents:
            stats = agent.client.stats
            missed = []
            for intent in stats.exits:
                times, marks = facts.marks.get(intent.symbol, ([], []))
                found = missed_exit(intent, times, marks, missed_exit_ticks, end)
                if found is not None:
                    missed.append(found)
            run.agents[agent.name] = AgentThrottling(
                client=agent.settings.client,
                ip=agent.client.ip,
                sent=stats.sent,
                delivered=stats.delivered,
                retries=stats.retries,
                given_up=stats.given_up,
                rejected=dict(sorted(stats.rejected.items())),
                banned_ns=banned_ns(facts.bans.get(agent.client.ip, []), end),
                queue_delay_ns=percentiles(stats.queue_delays_ns),
                order_to_ack_ns=percentiles(stats.ack_latencies_ns),
                exits=len(stats.exits),
                missed_exits=missed,
                equity_units=_equity(venue, agent.name),
                overload_rejects=stats.rejected["OVERLOADED"],
                unknown_statuses=stats.rejected["UNKNOWN_STATUS"],
                reconciled_found=stats.reconciled_found,
                reconciled_resent=stats.reconciled_resent,
                doubled_orders=stats.doubled,
                exits_passed_overload=facts.exits_passed[agent.name],
            )
        for symbol, queue in (queues or {}).items():
            run.queues[symbol] = queue_summary(queue, facts, end)
        return run

    def summary(self) -> dict[str, Any]:
        return {
            "throttled": self.throttled,
            "compared_with_unthrottled": self.compared,
            "agents": {name: agent.summary() for name, agent in self.agents.items()},
            "queues": self.queues,
        }


def queue_summary(queue: EngineQueue, facts: _JournalFacts, end: int) -> dict[str, Any]:
    """One symbol's engine queue over the run (see the module docstring)."""
    settings = queue.settings
    refused = facts.overload_rejects.get(queue.symbol, [])
    return {
        "service_rate_per_s": settings.service_rate_per_s,
        "overload_depth": settings.overload_depth,
        "arrivals": len(queue.arrival_depths),
        "depth_at_arrival": percentiles(queue.arrival_depths),
        "overloaded_ns": queue.overloaded_ns - max(0, queue.overloaded_until - end),
        "overload_rejects": len(refused),
        "first_overload_reject": iso(refused[0]) if refused else None,
        "last_overload_reject": iso(refused[-1]) if refused else None,
        "unknown_statuses": facts.unknown_statuses[queue.symbol],
    }


def _equity(venue: Venue, account: str) -> int:
    """Wallet plus unrealized PnL at the last marks, in quote units."""
    ledger = venue.ledger
    equity = ledger.account(account).wallet
    for symbol, mark in venue.marks.items():
        equity += ledger.unrealized_pnl(account, symbol, mark)
    return equity


def compare_unthrottled(run: ThrottlingRun, twin: ThrottlingRun | None) -> None:
    """Fill in each agent's cost of throttling from the unthrottled twin run."""
    assert twin is not None
    run.compared = True
    for name, agent in run.agents.items():
        agent.cost_vs_unthrottled_units = twin.agents[name].equity_units - agent.equity_units
