"""`harness data export` / `data import`: a window of the store as Parquet, for other machines."""

from __future__ import annotations

from pathlib import Path

import click

from harness.cli.context import Ctx, db_option
from harness.cli.timefmt import iso, parse_time
from harness.data.export import ExportError, export_window, import_export
from harness.data.store import connect


@click.command("export", short_help="Write a window of the store to Parquet files for workers.")
@click.option("--start", required=True, help="First instant (ISO 8601 UTC or ns).")
@click.option("--end", required=True, help="Instant the window stops (exclusive).")
@click.option("--symbols", required=True, help="Comma-separated symbols, e.g. BTCUSDT,ETHUSDT.")
@click.option("--exchange", help="Exchange name as stored (default: every exchange).")
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write (shared storage, for workers on other machines).",
)
@db_option
@click.pass_obj
def data_export(
    ctx: Ctx, start: str, end: str, symbols: str, exchange: str | None, out: Path
) -> None:
    """Write a window of the store to OUT as Parquet (one file per table, plus manifest.json).

    The folder replays like the store itself: pass it as `--db` to `harness replay` or
    `harness sweep`, or load it into a store file with `harness data import`.
    """
    if not ctx.db.exists():
        raise click.ClickException(f"no tick store at {ctx.db}; run `harness ingest` first")
    names = [name.strip() for name in symbols.split(",") if name.strip()]
    con = connect(ctx.db, read_only=True)
    try:
        manifest = export_window(
            con,
            out,
            start=parse_time(start),
            end=parse_time(end),
            symbols=names,
            exchange=exchange,
        )
    except ExportError as error:
        raise click.ClickException(str(error)) from None
    finally:
        con.close()
    rows = sum(manifest["rows"].values())
    click.echo(
        f"exported {rows:,} rows of {', '.join(names)} from {iso(manifest['warm_start'])} "
        f"(last snapshot before the start) to {iso(manifest['end'])} into {out}"
    )


@click.command("import")
@click.argument("folder", type=click.Path(file_okay=False, exists=True, path_type=Path))
@db_option
@click.pass_obj
def data_import(ctx: Ctx, folder: Path) -> None:
    """Load a `harness data export` folder into a new (empty) store file."""
    try:
        rows = import_export(folder, ctx.db)
    except ExportError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"imported {sum(rows.values()):,} rows from {folder} into {ctx.db}")
