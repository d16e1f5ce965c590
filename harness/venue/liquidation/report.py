"""What the summary says about the liquidation path, read back from the journal alone.

Band (`liquidation_band`): per liquidated account, its first forced reduction (the first
`partial` or `full` liquidation step) and the first warning crossing (`margin_call`) of the same
account since its previous forced reduction (or the run's start), with the mark of each and the
time between. An account that fell past every level between two mark samples has its warning at
the reduction's own check, or none when no warning was journaled before it (`warning_ts` null).

Cascade (`cascade`): which liquidation's price impact made which accounts due, through which
symbol. Attribution rule: an account falls due at a mark update (its `queued` record, at a mark
sample time t, on symbol S); it is attributed to every liquidation whose orders filled through
the book of S (an `ioc` or `ioc_fund_backed` step with `filled` > 0) after the previous mark update
of S and before the `queued` record. "After the previous mark update" is: a later instant than
t - interval, or that very instant and journaled after the first record the mark process wrote
then (a `mark`, `margin_call` or `queued` record); fills at an instant where the mark process
journaled nothing count for the next update. An account with no such liquidation is a root.

Each account counts once, at its first `queued` record. A mark update that makes accounts due
is a `step` of the cascade: its time, symbol, the liquidations it is attributed to (`caused_by`)
and the accounts it made due (`triggered`). Generation: 1 for roots, else 1 + the highest
generation among the causes. Depth is the highest generation, width the most accounts in one
generation; notional is the total filled through books by liquidations (units of 1e-8 USDT).
ADL closes positions off the book and moves no price, so it is not a cause.

Insurance fund (`insurance_fund`): its starting balance (the `seed` flows journaled before any
other flow), lowest and final balance, the drawdown (start minus lowest, never negative: what the
run cost the fund at its worst) and the net flow per reason. ADL (`adl`): positions of simulated
accounts closed by auto-deleveraging (`deleveraged`) and remainders closed against the recorded
market (`outside`), one `adl` record each.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from harness import journal as jk
from harness.journal import Record
from harness.venue.ledger.accounts import EXTERNAL
from harness.venue.liquidation.insurance_fund import SEED

IMPACT_STEPS = ("ioc", "ioc_fund_backed")
REDUCTION_STEPS = ("partial", "full")
CASCADE_RULE = (
    "an account due at a mark update of symbol S is caused by the liquidations that filled "
    "through S's book since the previous mark update of S; none: a root"
)


def liquidation_report(records: list[Record], mark_interval_ns: int) -> dict[str, Any]:
    """The summary's `liquidation_band`, `cascade`, `insurance_fund` and `adl` entries."""
    return {
        "liquidation_band": liquidation_band(records),
        "cascade": cascade(records, mark_interval_ns),
        "insurance_fund": insurance_fund_path(records),
        "adl": adl_counts(records),
    }


def insurance_fund_path(records: list[Record]) -> dict[str, Any]:
    """Start, lowest and end balance of the fund, its drawdown and net flows by reason."""
    start = 0
    started = False
    balances: list[int] = []  # after each flow past the starting seeds
    flows: dict[str, int] = {}
    for r in records:
        if r.kind != jk.INSURANCE_FUND:
            continue
        amount, balance = int(r.fields["amount"]), int(r.fields["balance"])
        reason = str(r.fields["reason"])
        if reason == SEED and not started:
            start += amount
            continue
        started = True
        flows[reason] = flows.get(reason, 0) + amount
        balances.append(balance)
    lowest = min([start, *balances])
    return {
        "start_units": start,
        "min_units": lowest,
        "end_units": balances[-1] if balances else start,
        "drawdown_units": max(0, start - lowest),
        "flows_units": dict(sorted(flows.items())),
    }


def adl_counts(records: list[Record]) -> dict[str, int]:
    adl = [r for r in records if r.kind == jk.ADL]
    outside = sum(1 for r in adl if r.account == EXTERNAL)
    return {"deleveraged": len(adl) - outside, "outside": outside}


def _step(record: Record) -> object:
    return record.fields.get("step")


def liquidation_band(records: list[Record]) -> dict[str, dict[str, Any]]:
    """Per liquidated account (in order of first reduction): warning and reduction."""
    warned: dict[str, Record] = {}
    band: dict[str, dict[str, Any]] = {}
    for r in records:
        if r.kind == jk.MARGIN_CALL and r.account not in band:
            warned.setdefault(r.account, r)
        elif r.kind == jk.LIQUIDATION and _step(r) in REDUCTION_STEPS and r.account not in band:
            warning = warned.get(r.account)
            band[r.account] = {
                "symbol": r.symbol,
                "warning_ts": warning.ts if warning else None,
                "warning_level": warning.fields["level"] if warning else None,
                "warning_mark": warning.fields["mark"] if warning else None,
                "reduction_ts": r.ts,
                "reduction_step": _step(r),
                "reduction_mark": r.fields["mark"],
                "warning_to_reduction_ns": r.ts - warning.ts if warning else None,
            }
    return band


def cascade(records: list[Record], mark_interval_ns: int) -> dict[str, Any]:
    # The first record the mark process journaled at each instant: the update's boundary.
    boundary: dict[int, int] = {}
    for r in records:
        if r.kind in (jk.MARK, jk.MARGIN_CALL) or (
            r.kind == jk.LIQUIDATION and _step(r) == "queued"
        ):
            boundary.setdefault(r.ts, r.seq)
    impacts: dict[str, list[Record]] = defaultdict(list)
    generation: dict[str, int] = {}
    steps: dict[tuple[int, str], dict[str, Any]] = {}
    notional = 0
    for r in records:
        if r.kind != jk.LIQUIDATION:
            continue
        if _step(r) in IMPACT_STEPS and int(r.fields["filled"]) > 0:
            impacts[r.symbol].append(r)
            notional += int(r.fields["notional"])
        elif _step(r) == "queued" and r.account not in generation:
            previous = r.ts - mark_interval_ns
            after = (previous, boundary.get(previous, -1))
            causes = [
                i.account for i in impacts[r.symbol] if (i.ts, i.seq) > after and i.seq < r.seq
            ]
            causes = list(dict.fromkeys(causes))
            level = 1 + max((generation.get(c, 1) for c in causes), default=0)
            generation[r.account] = level
            step = steps.setdefault(
                (r.ts, r.symbol),
                {
                    "ts": r.ts,
                    "symbol": r.symbol,
                    "generation": level,
                    "caused_by": causes,
                    "triggered": [],
                },
            )
            step["triggered"].append(r.account)
    widths: dict[int, int] = defaultdict(int)
    for level in generation.values():
        widths[level] += 1
    return {
        "rule": CASCADE_RULE,
        "accounts": len(generation),
        "roots": sum(1 for level in generation.values() if level == 1),
        "depth": max(widths, default=0),
        "width": max(widths.values(), default=0),
        "notional_units": notional,
        "steps": list(steps.values()),
    }
