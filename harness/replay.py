"""Running a scenario: store window -> Tape -> venue and agents -> journal, summary, fingerprint."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from harness.agents.runtime import AgentRuntime
from harness.agents.throttling_report import ThrottlingRun, compare_unthrottled
from harness.assembly import assemble, unthrottled
from harness.config.scenario import Scenario
from harness.data.export import open_read_only
from harness.data.tape import Scale, Tape, TapeStats
from harness.journal import Journal
from harness.report import real_liquidations, units, write_outputs
from harness.sim.clock import iso
from harness.venue.liquidation.report import liquidation_report
from harness.venue.venue import Venue


class ReplayError(RuntimeError):
    """The scenario cannot run on this store (no data in the window, unknown symbol, ...)."""


@dataclass
class RunResult:
    scenario: Scenario
    start: int
    end: int
    journal: Journal
    messages: int
    wall_seconds: float
    conservation_gap: int
    """Deposits minus (wallets + fee pool + open entry value): exactly 0 unless money leaked."""
    insurance_fund_units: int
    agents: dict[str, dict[str, int]] = field(default_factory=dict)
    real_liquidations: dict[str, Any] = field(default_factory=dict)
    """`real_liquidations.summary`: the store's real forced orders against the simulated ones."""
    risk: dict[str, Any] | None = None
    throttling: ThrottlingRun | None = None
    instruments: dict[str, dict[str, str]] = field(default_factory=dict)
    """`units.scales`: tick and lot size per symbol, to show prices in USDT later."""

    @property
    def fingerprint(self) -> str:
        return self.journal.fingerprint()

    _summary: tuple[int, dict[str, Any]] | None = field(default=None, repr=False, compare=False)
    """The last summary and the journal length it was made at: reading back a large journal
    (a crash replay's 400k records) costs seconds, and writing a run needs the summary thrice."""

    def summary(self) -> dict[str, Any]:
        if self._summary is None or self._summary[0] != len(self.journal):
            self._summary = (len(self.journal), self._make_summary())
        return self._summary[1]

    def _make_summary(self) -> dict[str, Any]:
        records = list(self.journal.records())
        kinds = Counter(record.kind for record in records)
        liquidations = [
            r for r in records if r.kind == "liquidation" and r.fields.get("step") == "dequeued"
        ]
        return {
            "name": self.scenario.name,
            "fingerprint": self.fingerprint,
            "start": iso(self.start),
            "end": iso(self.end),
            "seed": self.scenario.seed,
            "instruments": self.instruments,
            "messages": self.messages,
            "records": len(self.journal),
            "records_by_kind": dict(sorted(kinds.items())),
            "agents": self.agents,
            "conservation_gap_units": self.conservation_gap,
            "insurance_fund_units": self.insurance_fund_units,
            "liquidations": len(liquidations),
            "margin_calls": kinds.get("margin_call", 0),
            **liquidation_report(records, self.scenario.venue.mark_interval_ns),
            **self.real_liquidations,
            "risk": self.risk,
            "throttling": self.throttling.summary() if self.throttling else {},
            "wall_seconds": round(self.wall_seconds, 3),
        }

    def write(self, out_dir: Path) -> list[str]:
        """Write the run's folder; returns the names of the files derived from the journal."""
        out_dir.mkdir(parents=True, exist_ok=True)
        self.journal.write_parquet(out_dir / "journal.parquet")
        text = json.dumps(self.summary(), indent=2, sort_keys=False)
        (out_dir / "summary.json").write_text(text + "\n", encoding="utf-8")
        return write_outputs(out_dir, self.journal, self.summary())


def _window(con: duckdb.DuckDBPyConnection, scenario: Scenario) -> tuple[int, int]:
    data = scenario.data
    marks = ", ".join("?" for _ in data.symbols)
    found = con.execute(
        f"SELECT min(ts), max(ts) FROM book_deltas WHERE exchange = ? AND symbol IN ({marks})",
        [data.exchange, *data.symbols],
    ).fetchall()[0]
    if found[0] is None:
        symbols = ", ".join(data.symbols)
        raise ReplayError(f"no depth data for {symbols} on {data.exchange}; ingest it first")
    start = data.start if data.start is not None else int(found[0])
    end = data.end if data.end is not None else int(found[1]) + 1
    return start, end


def run_scenario(
    scenario: Scenario,
    *,
    db: Path | None = None,
    on_progress: Callable[[TapeStats], None] | None = None,
) -> RunResult:
    store = db if db is not None else scenario.data.db
    if not Path(store).exists():
        raise ReplayError(f"no tick store at {store}; run `harness ingest` first")
    con = open_read_only(store)  # a store file or an exported Parquet folder
    try:
        result = _run(con, scenario, on_progress)
        if scenario.gateway.compare_unthrottled and result.throttling is not None:
            twin = _run(con, unthrottled(scenario), None)
            compare_unthrottled(result.throttling, twin.throttling)
        return result
    finally:
        con.close()


def _run(
    con: duckdb.DuckDBPyConnection,
    scenario: Scenario,
    on_progress: Callable[[TapeStats], None] | None,
) -> RunResult:
    start, end = _window(con, scenario)
    try:
        parts = assemble(scenario, con, start, end)
    except ValueError as exc:
        raise ReplayError(str(exc)) from None
    env, journal, venue, agents = parts.env, parts.journal, parts.venue, parts.agents
    tape = Tape(
        env,
        con,
        start=start,
        end=end,
        feeds=venue.markets,
        scales={s: Scale.of(i.tick_size, i.lot_size) for s, i in parts.instruments.items()},
        exchange=scenario.data.exchange,
        on_batch=on_progress,
        book_tops=False,
    )
    for agent in agents:
        agent.start()
    env.process(venue.mark_process(end))
    env.process(venue.funding_process(end))
    # After the marks: a volatility rule reads each mark the instant it is set.
    parts.gateway.start(end)
    env.process(tape.run())
    started = time.perf_counter()  # wall-clock ok: reported in the summary, never journaled
    env.run()
    wall = time.perf_counter() - started  # wall-clock ok
    return RunResult(
        scenario=scenario,
        start=start,
        end=end,
        journal=journal,
        messages=tape.stats.messages,
        wall_seconds=wall,
        conservation_gap=venue.ledger.conservation_gap(),
        insurance_fund_units=venue.fund.balance,
        agents={a.name: _agent_summary(venue, a) for a in agents},
        real_liquidations=real_liquidations.summary(
            con, scenario.data.exchange, scenario.data.symbols, start, end, journal.records()
        ),
        risk=parts.risk.summary() if parts.risk is not None else None,
        throttling=ThrottlingRun.measure(
            journal,
            venue,
            agents,
            end,
            parts.gateway.gateway.queues,
            throttled=scenario.gateway.throttle,
            missed_exit_ticks=scenario.gateway.missed_exit_ticks,
        ),
        instruments=units.scales(parts.instruments),
    )


def _agent_summary(venue: Venue, agent: AgentRuntime) -> dict[str, int]:
    account = venue.ledger.account(agent.name)
    positions = {s: venue.ledger.position(agent.name, s) for s in venue.markets}
    return {
        "fills": agent.fills,
        "rejects": agent.rejects,
        "wallet_units": account.wallet,
        "realized_pnl_units": sum(p.realized_pnl for p in positions.values()),
        "fees_paid_units": sum(p.fees_paid for p in positions.values()),
        "position_lots": sum(abs(p.qty) for p in positions.values()),
    }
