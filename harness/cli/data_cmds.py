"""`harness ingest` and `harness data ...`: loading recordings and seeing what the store holds."""

from __future__ import annotations

import json
from pathlib import Path

import click

from harness.cli.context import Ctx, db_option
from harness.cli.help import PipelineGroup
from harness.cli.timefmt import iso
from harness.data.errors import IngestError
from harness.data.formats import FORMATS
from harness.data.formats.base import DEFAULT_TS_TOLERANCE_NS, IngestOptions
from harness.data.ingest import FileReport, ingest_paths
from harness.data.store import connect, inventory

FORMAT_LIST = "\b\nFormats (--format):\n" + "\n".join(
    f"  {fmt.name:<32} {fmt.description}" for fmt in FORMATS
)


@click.command(
    short_help="Load venue recordings into the tick store (one transaction).", epilog=FORMAT_LIST
)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "format_name",
    type=click.Choice([fmt.name for fmt in FORMATS]),
    metavar="FORMAT",
    help="Input format, one of those listed below; detected from content when absent.",
)
@click.option("--exchange", help="Exchange name stored on every row (default: from the data).")
@click.option("--symbol", help="Symbol stored on every row (default: from the data or file name).")
@click.option("--force", is_flag=True, help="Ingest files whose sha256 is already in the store.")
@click.option("--dry-run", is_flag=True, help="Parse and validate only; write nothing.")
@click.option(
    "--ts-tolerance-ms",
    type=click.IntRange(min=0),
    default=DEFAULT_TS_TOLERANCE_NS // 1_000_000,
    show_default=True,
    help="How far a series' timestamps may step backwards before the file is refused.",
)
@db_option
@click.pass_obj
def ingest(
    ctx: Ctx,
    paths: tuple[Path, ...],
    format_name: str | None,
    exchange: str | None,
    symbol: str | None,
    force: bool,
    dry_run: bool,
    ts_tolerance_ms: int,
) -> None:
    """Load venue recordings into the tick store, all files in one transaction.

    Gzip (.gz) and zstd (.zst) files are read transparently. On any error nothing is written and
    the message names the file and line.
    """
    options = IngestOptions(
        exchange=exchange, symbol=symbol, ts_tolerance_ns=ts_tolerance_ms * 1_000_000
    )
    con = connect(ctx.db)
    try:
        reports = ingest_paths(
            con,
            paths,
            format_name=format_name,
            options=options,
            force=force,
            dry_run=dry_run,
            on_file=_print_report,
        )
    except IngestError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        con.close()
    total = sum(sum(r.rows.values()) for r in reports)
    verb = "validated (dry run, nothing written)" if dry_run else f"ingested into {ctx.db}"
    click.echo(f"{len(reports)} file(s), {total:,} rows {verb}")


def _print_report(report: FileReport) -> None:
    counts = ", ".join(f"{n:,} {kind}" for kind, n in report.messages.items())
    click.echo(f"{report.path}: {report.format} [{report.exchange}] {counts}", err=True)
    click.echo(f"  {iso(report.first_ts)} .. {iso(report.last_ts)}", err=True)
    for gap in report.gaps:
        click.echo(
            f"  GAP {gap.symbol} {gap.kind} at line {gap.line} ({iso(gap.ts)}): {gap.reason}; "
            f"expected {gap.expected}, got {gap.got}",
            err=True,
        )


@click.group(cls=PipelineGroup)
def data() -> None:
    """Inspect the tick store."""


@data.command("ls", short_help="Rows, time range and sequence gaps per exchange, symbol and kind.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per row, for machines.")
@db_option
@click.pass_obj
def data_ls(ctx: Ctx, as_json: bool) -> None:
    """Rows, first and last timestamp, and sequence gaps per exchange, symbol and kind."""
    if not ctx.db.exists():
        raise click.ClickException(f"no tick store at {ctx.db}; run `harness ingest` first")
    con = connect(ctx.db, read_only=True)
    try:
        table = inventory(con)
    finally:
        con.close()
    rows = table.to_dicts()
    if as_json:
        for row in rows:
            row["first"] = iso(row["first_ts"])
            row["last"] = iso(row["last_ts"])
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("the store is empty")
        return
    header = ("exchange", "symbol", "kind", "rows", "first", "last", "gaps")
    body = [
        (
            r["exchange"],
            r["symbol"],
            r["kind"],
            f"{r['rows']:,}",
            iso(r["first_ts"]),
            iso(r["last_ts"]),
            str(r["gaps"]),
        )
        for r in rows
    ]
    widths = [max(len(line[i]) for line in (header, *body)) for i in range(len(header))]
    for line in (header, *body):
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
