"""The liquidation path of a run as a table: one row per step, read from the journal.

A step is a journal record of the path (docs/liquidation.md): a `margin_call` (the band), a
`liquidation` record (`queued`, `dequeued`, `cancel_orders`, `partial`, `recheck`, `full`, `ioc`,
`ioc_fund_backed`, `unresolved`), an `adl` fill, or an `insurance_fund` flow. Each row carries the
columns a reader of a post-mortem asks for first; everything else the record holds goes into
`detail` as sorted `name=value` pairs, so no field is lost and records with fields added later
still show. The fund balance is carried forward from the last fund record, so every row says
what the fund held at that step.

Everything is an integer or a fixed string: prices in ticks, quantities in lots, money in units
of 1e-8 USDT, the margin ratio in basis points rounded down (`inf` once the margin balance is
gone), so the table diffs exactly between runs.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path
from typing import NamedTuple

from harness import journal as jk
from harness.journal import Record
from harness.sim.clock import iso

COLUMNS = (
    "seq",
    "time",
    "ts_ns",
    "account",
    "symbol",
    "stage",
    "price_ticks",
    "qty_lots",
    "mark_ticks",
    "margin_ratio_bp",
    "queue_wait_ns",
    "fund_balance_units",
    "detail",
)

PATH_KINDS = (jk.MARGIN_CALL, jk.LIQUIDATION, jk.ADL, jk.INSURANCE_FUND)

# Fields that fill the price and qty columns (the first one a record has); the rest of a
# record's fields, but the one that names its stage, go to `detail`.
_PRICE = ("bankruptcy_price", "limit", "price")
_QTY = ("qty", "filled", "position")
_STAGE_FIELD = {jk.LIQUIDATION: "step", jk.INSURANCE_FUND: "reason"}


class Step(NamedTuple):
    seq: int
    ts: int
    account: str
    symbol: str
    stage: str
    price: int | None
    qty: int | None
    mark: int | None
    ratio_bp: str
    """Margin ratio in basis points rounded down, "inf", or "" when the record has none."""
    wait_ns: int | None
    fund_balance: int | None
    detail: str

    def cells(self) -> list[str]:
        """The row as CSV cells, in `COLUMNS` order; absent values are empty."""
        return [
            str(self.seq),
            iso(self.ts),
            str(self.ts),
            self.account,
            self.symbol,
            self.stage,
            _text(self.price),
            _text(self.qty),
            _text(self.mark),
            self.ratio_bp,
            _text(self.wait_ns),
            _text(self.fund_balance),
            self.detail,
        ]

    def line(self) -> str:
        """One readable line for snapshots and diffs: time, who, stage, then the set values.
        The journal seq is left out so that an extra record elsewhere does not shift every
        line."""
        parts = [iso(self.ts), self.account or "-", self.symbol or "-", self.stage]
        named = (
            ("price", self.price),
            ("qty", self.qty),
            ("mark", self.mark),
            ("ratio_bp", self.ratio_bp or None),
            ("wait_ns", self.wait_ns),
            ("fund", self.fund_balance),
        )
        parts += [f"{name}={value}" for name, value in named if value is not None]
        if self.detail:
            parts.append(self.detail)
        return " ".join(parts)


def _text(value: int | None) -> str:
    return "" if value is None else str(value)


def ratio_bp(ratio: str) -> str:
    """A journaled ratio ("a/b" or "inf") in basis points, rounded down."""
    if ratio == "inf":
        return "inf"
    return str(int(Fraction(ratio) * 10_000 // 1))


def _pick(fields: dict[str, jk.Value], names: tuple[str, ...], used: list[str]) -> int | None:
    """The first of `names` the record holds as an integer; its name is added to `used`."""
    for name in names:
        value = fields.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            used.append(name)
            return value
    return None


def _value(value: jk.Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _stage(record: Record) -> str:
    fields = record.fields
    if record.kind == jk.LIQUIDATION:
        return str(fields.get("step", "liquidation"))
    if record.kind == jk.INSURANCE_FUND:
        return f"fund_{fields.get('reason', 'flow')}"
    return record.kind


def steps(records: Iterable[Record]) -> list[Step]:
    """The path's steps in journal order."""
    rows: list[Step] = []
    fund: int | None = None
    for record in records:
        if record.kind not in PATH_KINDS:
            continue
        fields = record.fields
        if record.kind == jk.INSURANCE_FUND:
            balance = fields.get("balance")
            fund = balance if isinstance(balance, int) else fund
        ratio = fields.get("ratio")
        used = [_STAGE_FIELD.get(record.kind, ""), "ratio"]
        if record.kind == jk.INSURANCE_FUND:
            used.append("balance")
        price = _pick(fields, _PRICE, used)
        qty = _pick(fields, _QTY, used)
        mark = _pick(fields, ("mark",), used)
        wait = _pick(fields, ("wait_ns",), used)
        detail = " ".join(
            f"{name}={_value(fields[name])}" for name in sorted(fields) if name not in used
        )
        rows.append(
            Step(
                seq=record.seq,
                ts=record.ts,
                account=record.account,
                symbol=record.symbol,
                stage=_stage(record),
                price=price,
                qty=qty,
                mark=mark,
                ratio_bp=ratio_bp(ratio) if isinstance(ratio, str) else "",
                wait_ns=wait,
                fund_balance=fund,
                detail=detail,
            )
        )
    return rows


def to_csv(rows: Iterable[Step]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(row.cells())
    return out.getvalue()


def write_csv(path: Path, rows: Iterable[Step]) -> None:
    path.write_text(to_csv(rows), encoding="utf-8")
