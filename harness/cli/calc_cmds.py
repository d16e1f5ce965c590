"""`harness calc ...`: the venue's money formulas on the command line, exact, for checking by hand.

Numbers are read as exact decimals ("0.004" or "0.4%"), never floats, and printed rounded half
away from zero to a fixed number of places.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from fractions import Fraction

import click

from harness.cli.help import PipelineGroup
from harness.venue.ledger.funding import average_premium, funding_rate, rate_e8_toward_zero
from harness.venue.ledger.instruments import BracketTable, exact
from harness.venue.ledger.margin import (
    LONG,
    SHORT,
    Liquidation,
    liquidation_price,
    liquidation_price_entry_mm,
    liquidation_price_fixed,
)
from harness.venue.profiles import default_profile, load_bracket_table

PRICE_PLACES = 3
RATE_PLACES = 8


class ExactNumber(click.ParamType[Fraction, object]):
    name = "number"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> Fraction:
        if isinstance(value, Fraction):
            return value
        try:
            return exact(value)
        except (TypeError, ValueError) as exc:
            self.fail(str(exc), param, ctx)


EXACT = ExactNumber()


def fixed(value: Fraction, places: int) -> str:
    """`value` with exactly `places` decimals, rounded half away from zero."""
    scaled = math.floor(abs(value) * 10**places + Fraction(1, 2))
    digits = str(scaled).rjust(places + 1, "0")
    body = f"{digits[:-places]}.{digits[-places:]}" if places else digits
    return f"-{body}" if value < 0 and scaled else body


def plain(value: Fraction) -> str:
    """The shortest exact decimal for a config value such as an MMR (12 places at most)."""
    places = next((k for k in range(13) if (value * 10**k).denominator == 1), 12)
    return fixed(value, places)


@click.group(
    cls=PipelineGroup, short_help="Venue money formulas (liquidation price, funding), exactly."
)
def calc() -> None:
    """Venue money formulas (liquidation price, funding rate), computed exactly.

    \b
    Examples (MECHANICS.md):
      harness calc liquidation-price --mmr 0.4% --side long --qty 0.02 --entry 50000 --wallet 500
      harness calc liquidation-price --brackets binance-btcusdt-2021 --side short \\
          --qty 1 --entry 49000 --wallet 2450
      harness calc liquidation-price --style bybit --mmr 0.5% --leverage 50 \\
          --side long --qty 1 --entry 20000
      harness calc funding --premium -0.10%
    """


def _load_brackets(spec: str) -> BracketTable:
    try:
        return load_bracket_table(spec)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--brackets") from None


@calc.command("liquidation-price")
@click.option("--side", type=click.Choice(["long", "short"]), required=True)
@click.option("--qty", type=EXACT, required=True, help="Position size in the base asset (> 0).")
@click.option("--entry", type=EXACT, required=True, help="Average entry price.")
@click.option(
    "--wallet",
    type=EXACT,
    help="Wallet balance: the cross wallet, or the isolated position's margin.",
)
@click.option(
    "--leverage",
    type=click.IntRange(min=1),
    help="Isolated only, instead of --wallet: margin = qty x entry / leverage. "
    "With --brackets it must not exceed the entry bracket's max leverage.",
)
@click.option(
    "--brackets",
    "brackets_spec",
    metavar="NAME|FILE.toml",
    help=f"Tier table: built in ({', '.join(default_profile().bracket_tables)}) or a TOML file "
    "with name and [[tiers]] floor/cap/max_leverage/mmr (optional published cum, checked).",
)
@click.option("--mmr", type=EXACT, help="One maintenance margin rate instead of --brackets.")
@click.option("--cum", type=EXACT, help="Maintenance amount with --mmr (default 0).")
@click.option(
    "--margin",
    type=click.Choice(["isolated", "cross"]),
    default="isolated",
    show_default=True,
)
@click.option(
    "--other-mm",
    type=EXACT,
    default="0",
    help="Cross only: maintenance margin of the account's other positions (TMM1).",
)
@click.option(
    "--other-upnl",
    type=EXACT,
    default="0",
    help="Cross only: unrealized PnL of the account's other positions (UPNL1).",
)
@click.option(
    "--style",
    type=click.Choice(["binance", "bybit"]),
    default="binance",
    show_default=True,
    help="binance: MM valued at the liquidation price, bracket recomputed there. "
    "bybit: isolated, MM fixed at the entry price (LP = EP - (IM - MM) / Q for a long).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object, with tier, mmr and cum.")
def liquidation_price_cmd(
    side: str,
    qty: Fraction,
    entry: Fraction,
    wallet: Fraction | None,
    leverage: int | None,
    brackets_spec: str | None,
    mmr: Fraction | None,
    cum: Fraction | None,
    margin: str,
    other_mm: Fraction,
    other_upnl: Fraction,
    style: str,
    as_json: bool,
) -> None:
    """Liquidation and bankruptcy price of a one-way position (MECHANICS section 2).

    Give the tiers with --brackets, or a single rate with --mmr [--cum]. Prices print with
    three decimals; "none" means no positive mark price reaches it.
    """
    source: BracketTable | tuple[Fraction, Fraction]
    if brackets_spec is not None and mmr is None and cum is None:
        source = _load_brackets(brackets_spec)
    elif brackets_spec is None and mmr is not None:
        source = (mmr, cum or Fraction(0))
    else:
        raise click.UsageError("give either --brackets, or --mmr with an optional --cum")
    if margin == "isolated" and (other_mm or other_upnl):
        raise click.UsageError("--other-mm and --other-upnl describe a cross account")
    if style == "bybit" and margin == "cross":
        raise click.UsageError("--style bybit is an isolated-margin formula")
    if qty <= 0 or entry <= 0:
        raise click.UsageError("--qty and --entry must be positive")
    if wallet is None:
        if leverage is None:
            raise click.UsageError("give --wallet, or --leverage for isolated initial margin")
        if margin == "cross":
            raise click.UsageError("a cross account needs --wallet")
        wallet = qty * entry / leverage
    if isinstance(source, BracketTable) and leverage is not None:
        limit = source.bracket_for(qty * entry).max_leverage
        if leverage > limit:
            raise click.ClickException(f"leverage {leverage} above {limit}x for this notional")
    s = LONG if side == "long" else SHORT
    try:
        result = _liquidation(s, qty, entry, wallet, source, other_mm, other_upnl, style)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    lp = None if result.price is None else fixed(result.price, PRICE_PLACES)
    bp = None if result.bankruptcy is None else fixed(result.bankruptcy, PRICE_PLACES)
    if as_json:
        body = {
            "liquidation_price": lp,
            "bankruptcy_price": bp,
            "tier": result.tier,
            "mmr": plain(result.mmr),
            "cum": plain(result.cum),
        }
        click.echo(json.dumps(body))
        return
    click.echo(f"liquidation_price={lp or 'none'}")
    click.echo(f"bankruptcy_price={bp or 'none'}")


def _liquidation(
    side: int,
    qty: Fraction,
    entry: Fraction,
    wallet: Fraction,
    source: BracketTable | tuple[Fraction, Fraction],
    other_mm: Fraction,
    other_upnl: Fraction,
    style: str,
) -> Liquidation:
    if style == "bybit":
        if isinstance(source, BracketTable):
            bracket = source.bracket_for(qty * entry)
            found = liquidation_price_entry_mm(side, qty, entry, wallet, bracket.mmr, bracket.cum)
            return replace(found, tier=bracket.tier)
        return liquidation_price_entry_mm(side, qty, entry, wallet, *source)
    if isinstance(source, BracketTable):
        return liquidation_price(side, qty, entry, wallet, source, other_mm, other_upnl)
    mmr, cum = source
    return liquidation_price_fixed(side, qty, entry, wallet, mmr, cum, other_mm, other_upnl)


@calc.command("funding")
@click.option(
    "--premium",
    type=EXACT,
    required=True,
    multiple=True,
    help="Average premium index (0.0003 or 0.03%). Repeat to give an interval's samples, "
    "oldest first: they are averaged with weights 1..n, as Binance does.",
)
@click.option("--interest", type=EXACT, default="0.01%", show_default=True, help="Per 8 hours.")
@click.option(
    "--clamp",
    "clamp_band",
    type=EXACT,
    default="0.05%",
    show_default=True,
    help="Band around the interest rate: F = P + clamp(I - P, -band, +band).",
)
@click.option(
    "--interval-hours",
    type=click.IntRange(1, 8),
    default=8,
    show_default=True,
    help="Funding interval; the 8-hour rate is divided by 8 / interval.",
)
@click.option("--cap", type=EXACT, help="Symbol's cap on the rate (default: none).")
@click.option("--floor", type=EXACT, help="Symbol's floor on the rate (default: minus the cap).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
def funding_cmd(
    premium: tuple[Fraction, ...],
    interest: Fraction,
    clamp_band: Fraction,
    interval_hours: int,
    cap: Fraction | None,
    floor: Fraction | None,
    as_json: bool,
) -> None:
    """Funding rate from the average premium index (MECHANICS section 4).

    Prints the rate as the venue publishes it: a fraction with 8 decimals, truncated towards
    zero (0.00010000 is 0.01%).
    """
    if floor is None and cap is not None:
        floor = -cap
    if cap is not None and floor is not None and floor > cap:
        raise click.UsageError("--floor is above --cap")
    avg = average_premium(list(premium))
    rate = funding_rate(
        avg,
        interest=interest,
        clamp_band=clamp_band,
        interval_hours=interval_hours,
        cap=cap,
        floor=floor,
    )
    published = fixed(Fraction(rate_e8_toward_zero(rate), 10**RATE_PLACES), RATE_PLACES)
    if as_json:
        body = {
            "funding_rate": published,
            "funding_rate_e8": rate_e8_toward_zero(rate),
            "average_premium": fixed(avg, 12),
        }
        click.echo(json.dumps(body))
        return
    click.echo(f"funding_rate={published}")
