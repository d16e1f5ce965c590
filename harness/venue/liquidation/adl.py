"""Auto-deleveraging: rank the opposite side's positions and close them at the bankruptcy price.

Used when the insurance fund cannot absorb what the book would not take (MECHANICS 5.4). The
positions that can be hit are those on the opposite side of the liquidated one, held by simulated
accounts: `EXTERNAL` (the recorded market) and the venue's own accounts are never deleveraged.

Rankings, behind the `AdlRanking` protocol and registered by name in `ADL_RANKINGS` (a user adds
one with `@ADL_RANKINGS.register("name")`, docs/profiles.md). Each scores a position at the mark
with an exact fraction, or leaves it out:
- `binance` (default): PnL% x margin ratio with `margin.binance_adl_score`, where WB is the
  position's isolated wallet, or the cross wallet for a cross position, and UPnL and MM are the
  position's own. Using the position's own UPnL and MM for a cross position is a simplification:
  the venue publishes the formula per position and does not say how the cross wallet is shared.
- `bitmex`: PnL% x effective leverage (`margin.bitmex_adl_score`) with the position's bankruptcy
  price from the ledger (0 when none: a fully collateralised long). A position at or past its
  bankruptcy price is left out: it belongs to the liquidation engine.
Highest score first; equal scores keep the ledger's account order (`margin.adl_ranking`).

Each counterparty is closed by a fee-free `Ledger.transfer_position` at the bankruptcy price,
walking the ranking until the quantity is covered; each step gives an `adl` record.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from typing import Protocol

from harness import journal as jk
from harness.registry import Registry
from harness.units import MONEY_SCALE, Side
from harness.venue.ledger.accounts import EXTERNAL, Account, Ledger, Position
from harness.venue.ledger.margin import adl_ranking, binance_adl_score, bitmex_adl_score
from harness.venue.liquidation.insurance_fund import Record, record


class AdlMethod(StrEnum):
    """The built-in rankings' names, for the venue settings' annotation; any name in
    `ADL_RANKINGS` works."""

    BINANCE = "binance"
    BITMEX = "bitmex"


@dataclass(frozen=True)
class AdlCandidate:
    account_id: str
    qty: int
    """Signed lots of the position at ranking time."""
    score: Fraction


@dataclass(frozen=True)
class AdlContext:
    """What a ranking may read: the ledger, the symbol and the marks at ranking time."""

    ledger: Ledger
    symbol: str
    side: int
    """+1: longs are ranked, -1: shorts."""
    mark_ticks: int
    marks: Mapping[str, int]


class AdlRanking(Protocol):
    """Scores one position on the ranked side; None leaves it out of the ranking."""

    def score(self, ctx: AdlContext, account: Account, pos: Position) -> Fraction | None: ...


ADL_RANKINGS: Registry[Callable[[], AdlRanking]] = Registry("ADL ranking")


@ADL_RANKINGS.register("binance")
class BinanceRanking:
    """PnL% x margin ratio of the position (module docstring)."""

    def score(self, ctx: AdlContext, account: Account, pos: Position) -> Fraction | None:
        ledger, symbol, mark = ctx.ledger, ctx.symbol, ctx.mark_ticks
        wallet = pos.isolated_wallet if pos.isolated else account.wallet
        return binance_adl_score(
            Fraction(ledger.unrealized_pnl(account.account_id, symbol, mark), MONEY_SCALE),
            Fraction(wallet, MONEY_SCALE),
            Fraction(ledger.maintenance_margin(account.account_id, symbol, mark), MONEY_SCALE),
        )


@ADL_RANKINGS.register("bitmex")
class BitmexRanking:
    """PnL% x effective leverage; positions at or past bankruptcy are left out."""

    def score(self, ctx: AdlContext, account: Account, pos: Position) -> Fraction | None:
        ledger, symbol = ctx.ledger, ctx.symbol
        liq = ledger.liquidation_price(account.account_id, symbol, ctx.marks)
        entry = ledger.entry_price(account.account_id, symbol)
        assert liq is not None and entry is not None
        bankruptcy = liq.bankruptcy if liq.bankruptcy is not None else Fraction(0)
        inst = ledger.instrument(symbol)
        mark = inst.ticks_to_price(ctx.mark_ticks)
        if (mark - bankruptcy) * ctx.side <= 0:
            return None
        qty = inst.lots_to_qty(abs(pos.qty))
        return bitmex_adl_score(ctx.side, qty, entry, mark, bankruptcy)


def rank(
    ledger: Ledger,
    symbol: str,
    side: int,
    mark_ticks: int,
    marks: Mapping[str, int],
    method: str = AdlMethod.BINANCE,
    exclude: Collection[str] = (),
) -> list[AdlCandidate]:
    """Positions in `symbol` on `side` (+1 longs, -1 shorts), best candidate first, by the
    ranking registered as `method`."""
    ranking = ADL_RANKINGS.get(method)()
    ledger.instrument(symbol)
    ctx = AdlContext(ledger, symbol, side, mark_ticks, marks)
    scores: dict[str, Fraction] = {}
    sizes: dict[str, int] = {}
    for account_id, account in ledger.accounts.items():
        if account_id == EXTERNAL or account_id in exclude:
            continue
        pos = account.positions.get(symbol)
        if pos is None or pos.qty * side <= 0:
            continue
        score = ranking.score(ctx, account, pos)
        if score is not None:
            scores[account_id] = score
            sizes[account_id] = pos.qty
    return [AdlCandidate(a, sizes[a], scores[a]) for a in adl_ranking(scores)]


def deleverage(
    ledger: Ledger,
    symbol: str,
    holder: str,
    qty_lots: int,
    price_ticks: int,
    ranking: list[AdlCandidate],
    ts: int,
    liquidated: str = "",
) -> tuple[list[Record], int]:
    """Close `qty_lots` of `holder`'s position against the ranked counterparties at
    `price_ticks`, fee-free. Returns the records and the lots left uncovered (ranking ran out).

    `holder` is the side being unwound (the liquidator's taken-over position); `liquidated`
    names the account whose liquidation caused it, for the journal."""
    holder_qty = ledger.position(holder, symbol).qty
    if qty_lots <= 0 or qty_lots > abs(holder_qty):
        raise ValueError(f"cannot deleverage {qty_lots} lots of a {holder_qty}-lot position")
    holder_side = Side.BUY if holder_qty > 0 else Side.SELL
    records: list[Record] = []
    remaining = qty_lots
    for number, candidate in enumerate(ranking, start=1):
        if remaining == 0:
            break
        if candidate.qty * holder_side >= 0:
            raise ValueError(f"{candidate.account_id} is not on the opposite side")
        lots = min(remaining, abs(ledger.position(candidate.account_id, symbol).qty))
        if lots == 0:
            continue
        if holder_side > 0:
            leg, _ = ledger.transfer_position(
                symbol, lots, price_ticks, candidate.account_id, holder
            )
        else:
            _, leg = ledger.transfer_position(
                symbol, lots, price_ticks, holder, candidate.account_id
            )
        remaining -= lots
        records.append(
            record(
                ts,
                jk.ADL,
                candidate.account_id,
                symbol,
                rank=number,
                score=str(candidate.score),
                qty=lots,
                price=price_ticks,
                realized_pnl=leg.realized_pnl,
                position_after=leg.position_after,
                liquidated=liquidated,
            )
        )
    return records, remaining
