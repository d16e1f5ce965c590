"""Generating a preset's rows and writing them to the tick store like a captured file.

The `ingests` record names the generator, the preset, its version and every parameter in one
canonical JSON line (`path`), and `sha256` is the hash of that line: the same request is refused a
second time unless forced, exactly like the same file, and `harness data ls` users can see where
rows came from.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import polars as pl

from harness.data.formats.base import Parsed
from harness.data.ingest import FileReport, ingest_generated, refuse_known
from harness.sim.clock import iso
from harness.synth.book import Placement, depth_frame, trade_frame
from harness.synth.presets import Preset, Request

GENERATOR = "harness-synth"
FORMAT = "synth"
UPDATE_ID_BASE = 1_000_000_000
"""First update id of each symbol's snapshot; symbols are apart by this, trades likewise."""


@dataclass(frozen=True)
class SymbolDone:
    """Progress: one symbol's rows are drawn."""

    symbol: str
    depth_messages: int
    trades: int
    rows: int


def describe(preset: Preset, request: Request) -> str:
    """The canonical one-line description stored as the ingest's path."""
    params = {
        "seed": request.seed,
        "start": iso(request.start_ns),
        "symbols": list(request.symbols),
        "exchange": request.exchange,
        **{name: request.knobs[name] for name in sorted(request.knobs)},
    }
    text = json.dumps(params, sort_keys=True, separators=(",", ":"))
    return f"{GENERATOR}:{preset.name}@v{preset.version} {text}"


def generate(
    preset: Preset,
    request: Request,
    on_symbol: Callable[[SymbolDone], None] | None = None,
) -> Parsed:
    """Every row of the request, as a parser would hand them to the ingest path."""
    request = preset.checked(request)
    drawn = preset.draw(preset, request)
    depth_parts, trade_parts = [], []
    messages = {"depth": 0, "trade": 0}
    for number, tape in enumerate(drawn.tapes):
        rng = preset.stream(request, f"book/{tape.spec.symbol}")
        where = Placement(
            exchange=request.exchange,
            start_ns=request.start_ns,
            step_ns=drawn.step_ns,
            symbol_index=number,
            symbols=len(drawn.tapes),
            first_id=UPDATE_ID_BASE * (number + 1),
        )
        depth, grid, touch_bid, touch_ask = depth_frame(rng, tape.spec, tape.path, where)
        trades = trade_frame(rng, tape.spec, tape.path, where, grid, touch_bid, touch_ask)
        depth_parts.append(depth)
        trade_parts.append(trades)
        messages["depth"] += grid.size
        messages["trade"] += trades.height
        if on_symbol is not None:
            on_symbol(
                SymbolDone(tape.spec.symbol, grid.size, trades.height, depth.height + trades.height)
            )
    parsed = Parsed(exchange=request.exchange, messages=messages)
    parsed.frames["book_deltas"] = pl.concat(depth_parts)
    parsed.frames["trades"] = pl.concat(trade_parts)
    return parsed


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def report_for(preset: Preset, request: Request, parsed: Parsed) -> FileReport:
    path = describe(preset, request)
    frames = [f for f in parsed.frames.values() if f.height]
    first = min(int(f["ts"].min()) for f in frames)  # type: ignore[arg-type]
    last = max(int(f["ts"].max()) for f in frames)  # type: ignore[arg-type]
    return FileReport(
        path=path,
        sha256=_sha256(path),
        format=FORMAT,
        exchange=request.exchange,
        rows={kind: frame.height for kind, frame in parsed.frames.items()},
        messages=dict(parsed.messages),
        first_ts=first,
        last_ts=last,
    )


def synthesize(
    con: duckdb.DuckDBPyConnection,
    preset: Preset,
    request: Request,
    *,
    force: bool = False,
    dry_run: bool = False,
    on_symbol: Callable[[SymbolDone], None] | None = None,
) -> FileReport:
    """Generate and write one request in a single transaction; the ingest record it made.

    A request already in the store is refused before anything is drawn (unless forced)."""
    request = preset.checked(request)
    if not force:
        path = describe(preset, request)
        refuse_known(con, path, _sha256(path))
    parsed = generate(preset, request, on_symbol)
    return ingest_generated(
        con, report_for(preset, request, parsed), parsed, force=force, dry_run=dry_run
    )
