"""`harness book`: what the recorded book looked like at an instant."""

from __future__ import annotations

import json

import click

from harness.cli.context import Ctx, db_option
from harness.cli.timefmt import iso, parse_time
from harness.data.book_replay import BookAt, rebuild_at
from harness.data.store import connect
from harness.venue.exchange.l2book import ASK, BID


@click.command(short_help="Rebuild a symbol's order book at an instant from the store.")
@click.argument("symbol")
@click.option("--at", "at_text", required=True, help="Instant: ISO 8601 UTC or ns since epoch.")
@click.option("--depth", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--exchange", help="Exchange, when the store holds the symbol from several.")
@click.option("--json", "as_json", is_flag=True, help='{"bids": [[price, qty]...], "asks": ...}')
@db_option
@click.pass_obj
def book(
    ctx: Ctx, symbol: str, at_text: str, depth: int, exchange: str | None, as_json: bool
) -> None:
    """Rebuild SYMBOL's public book from the store at an instant and print the top levels.

    The rebuild starts from the last snapshot at or before the instant and applies every depth
    update up to and including it; it is compared with the last recorded book ticker.
    """
    at_ns = parse_time(at_text)
    if not ctx.db.exists():
        raise click.ClickException(f"no tick store at {ctx.db}; run `harness ingest` first")
    con = connect(ctx.db, read_only=True)
    try:
        state = rebuild_at(con, symbol, at_ns, exchange)
        ticker = con.execute(
            "SELECT ts, bid_price, bid_qty, ask_price, ask_qty FROM book_tops "
            "WHERE symbol = ? AND ts <= ? ORDER BY ts DESC, seq DESC LIMIT 1",
            [symbol, at_ns],
        ).fetchall()
    finally:
        con.close()
    if not state.synced:
        raise click.ClickException(
            f"no depth snapshot of {symbol} at or before {iso(at_ns)}: the book cannot be rebuilt"
        )
    bids = list(state.book.levels(BID, depth))
    asks = list(state.book.levels(ASK, depth))
    if as_json:
        payload = {
            "symbol": symbol,
            "ts": at_ns,
            "bids": [[p, q] for p, q in bids],
            "asks": [[p, q] for p, q in asks],
            "last_update_ts": state.last_update_ts,
            "gaps": state.gaps_before,
        }
        click.echo(json.dumps(payload))
        return
    _print_table(state, bids, asks)
    if ticker:
        _print_ticker_check(state, ticker[0])


def _print_table(
    state: BookAt, bids: list[tuple[float, float]], asks: list[tuple[float, float]]
) -> None:
    click.echo(f"{state.symbol} at {iso(state.ts)} (last depth update {iso(state.last_update_ts)})")
    if state.gaps_before:
        click.secho(
            f"warning: {state.gaps_before} sequence gap(s) since the snapshot: levels may be wrong",
            fg="yellow",
        )
    click.echo(f"{'bid qty':>14} {'bid':>14} | {'ask':<14} {'ask qty'}")
    for i in range(max(len(bids), len(asks))):
        left = f"{bids[i][1]:>14g} {bids[i][0]:>14.8g}" if i < len(bids) else " " * 29
        right = f"{asks[i][0]:<14.8g} {asks[i][1]:<14g}" if i < len(asks) else ""
        click.echo(f"{left} | {right}".rstrip())


def _print_ticker_check(state: BookAt, row: tuple[int, float, float, float, float]) -> None:
    ts, bid, bid_qty, ask, ask_qty = row
    best_bid, best_ask = state.book.best_bid(), state.book.best_ask()
    rebuilt = (best_bid or (None, None)) + (best_ask or (None, None))
    verdict = "matches" if rebuilt == (bid, bid_qty, ask, ask_qty) else "differs from"
    click.echo(
        f"rebuilt top {verdict} the book ticker recorded at {iso(ts)}: "
        f"{bid_qty:g} @ {bid:.8g} / {ask:.8g} x {ask_qty:g}"
    )
