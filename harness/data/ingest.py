"""Ingest driver: detect, parse and validate every file first, then write it all in one transaction.

Parsing everything before the first write means a bad line in the last file of a call leaves the
store exactly as it was; the single transaction covers failures during the write itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from harness.data.errors import AlreadyIngestedError, IngestError
from harness.data.formats import FORMATS, format_by_name
from harness.data.formats.base import Format, Gap, IngestOptions, Parsed, check_time_order
from harness.data.schema import frame_schema, table_columns
from harness.data.source import SourceFile

SNIFF_BYTES = 65536


@dataclass
class FileReport:
    path: str
    sha256: str
    format: str
    exchange: str
    rows: dict[str, int] = field(default_factory=dict)
    messages: dict[str, int] = field(default_factory=dict)
    gaps: list[Gap] = field(default_factory=list)
    first_ts: int | None = None
    last_ts: int | None = None
    ingest_id: int | None = None


def detect_format(src: SourceFile) -> Format:
    head = src.head(SNIFF_BYTES)
    if not head.strip():
        raise IngestError(src.name, None, "file is empty")
    for fmt in FORMATS:
        if fmt.sniff(src, head):
            return fmt
    known = ", ".join(f.name for f in FORMATS)
    raise IngestError(src.name, 1, f"format not recognised from content; pass --format ({known})")


def _validate(src: SourceFile, parsed: Parsed, options: IngestOptions) -> None:
    for kind, frame in parsed.frames.items():
        expected = frame_schema(kind)
        if dict(frame.schema) != expected:
            raise IngestError(src.name, None, f"parser produced {kind} columns {frame.schema}")
        nulls = frame.select(pl.col("ts", "symbol").null_count()).row(0)
        if any(nulls):
            raise IngestError(src.name, None, f"{kind}: rows without a timestamp or symbol")
        check_time_order(src, kind, frame, options.ts_tolerance_ns)


def parse_file(
    src: SourceFile, fmt: Format | None, options: IngestOptions
) -> tuple[Format, Parsed]:
    chosen = fmt or detect_format(src)
    parsed = chosen.parse(src, options)
    _validate(src, parsed, options)
    return chosen, parsed


def _report(src: SourceFile, sha: str, fmt: Format, parsed: Parsed) -> FileReport:
    firsts = [int(f["ts"].min()) for f in parsed.frames.values() if f.height]  # type: ignore[arg-type]
    lasts = [int(f["ts"].max()) for f in parsed.frames.values() if f.height]  # type: ignore[arg-type]
    return FileReport(
        path=src.name,
        sha256=sha,
        format=fmt.name,
        exchange=parsed.exchange,
        rows={kind: frame.height for kind, frame in parsed.frames.items()},
        messages=dict(parsed.messages),
        gaps=list(parsed.gaps),
        first_ts=min(firsts) if firsts else None,
        last_ts=max(lasts) if lasts else None,
    )


def ingest_paths(
    con: duckdb.DuckDBPyConnection,
    paths: Sequence[str | Path],
    *,
    format_name: str | None = None,
    options: IngestOptions | None = None,
    force: bool = False,
    dry_run: bool = False,
    on_file: Callable[[FileReport], None] | None = None,
) -> list[FileReport]:
    """Ingest `paths` as one unit: every file lands, or (on any error) none does."""
    opts = options or IngestOptions()
    fmt = format_by_name(format_name) if format_name else None
    known = {row[0] for row in con.execute("SELECT sha256 FROM ingests").fetchall()}
    staged: list[tuple[FileReport, Parsed]] = []
    for raw in paths:
        src = SourceFile(Path(raw))
        if not src.path.is_file():
            raise IngestError(src.name, None, "no such file")
        sha = src.sha256()
        if sha in known and not force:
            raise AlreadyIngestedError(
                src.name, None, f"already ingested (sha256 {sha[:12]}...); use --force to add again"
            )
        known.add(sha)
        chosen, parsed = parse_file(src, fmt, opts)
        report = _report(src, sha, chosen, parsed)
        staged.append((report, parsed))
        if on_file is not None:
            on_file(report)
    if not dry_run:
        _write(con, staged)
    return [report for report, _ in staged]


def refuse_known(con: duckdb.DuckDBPyConnection, name: str, sha256: str) -> None:
    """Raise when rows with this sha256 are in the store already (`--force` skips the check)."""
    if con.execute("SELECT 1 FROM ingests WHERE sha256 = ?", [sha256]).fetchall():
        raise AlreadyIngestedError(
            name, None, f"already in the store (sha256 {sha256[:12]}...); use --force to add again"
        )


def ingest_generated(
    con: duckdb.DuckDBPyConnection,
    report: FileReport,
    parsed: Parsed,
    *,
    force: bool = False,
    dry_run: bool = False,
) -> FileReport:
    """Write rows made in-process (the synthetic generator) exactly like a file's rows.

    `report.path` describes the generator and `report.sha256` identifies its output, so the
    same validation, duplicate refusal, `ingests` record and single transaction apply, and a
    replay cannot tell generated rows from captured ones.
    """
    if not force:
        refuse_known(con, report.path, report.sha256)
    _validate(SourceFile(Path(report.path)), parsed, IngestOptions())
    if not dry_run:
        _write(con, [(report, parsed)])
    return report


def _write(con: duckdb.DuckDBPyConnection, staged: list[tuple[FileReport, Parsed]]) -> None:
    con.begin()
    try:
        rows = con.execute("SELECT coalesce(max(ingest_id), 0) + 1 FROM ingests").fetchall()
        ingest_id = int(rows[0][0])
        for report, parsed in staged:
            report.ingest_id = ingest_id
            for kind, frame in parsed.frames.items():
                if frame.height:
                    _insert(con, kind, frame.sort("ts", "seq"), ingest_id)
            if parsed.gaps:
                _insert_gaps(con, parsed, ingest_id)
            con.execute(
                "INSERT INTO ingests VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    ingest_id,
                    report.path,
                    report.sha256,
                    report.format,
                    report.exchange,
                    sum(report.rows.values()),
                    report.first_ts,
                    report.last_ts,
                ],
            )
            ingest_id += 1
        con.commit()
    except Exception:
        con.rollback()
        raise


def _insert(con: duckdb.DuckDBPyConnection, kind: str, frame: pl.DataFrame, ingest_id: int) -> None:
    columns = ", ".join(table_columns(kind))
    con.register("staged_rows", frame.to_arrow())
    try:
        con.execute(f"INSERT INTO {kind} ({columns}) SELECT *, {ingest_id} FROM staged_rows")
    finally:
        con.unregister("staged_rows")


def _insert_gaps(con: duckdb.DuckDBPyConnection, parsed: Parsed, ingest_id: int) -> None:
    frame = pl.DataFrame(
        {
            "exchange": [parsed.exchange] * len(parsed.gaps),
            "symbol": [g.symbol for g in parsed.gaps],
            "kind": [g.kind for g in parsed.gaps],
            "ts": [g.ts for g in parsed.gaps],
            "seq": [g.seq for g in parsed.gaps],
            "line": [g.line for g in parsed.gaps],
            "expected": [g.expected for g in parsed.gaps],
            "got": [g.got for g in parsed.gaps],
            "reason": [g.reason for g in parsed.gaps],
        },
        schema_overrides={"expected": pl.Int64, "got": pl.Int64},
    )
    con.register("staged_gaps", frame.to_arrow())
    try:
        con.execute(f"INSERT INTO gaps SELECT *, {ingest_id} FROM staged_gaps")
    finally:
        con.unregister("staged_gaps")
