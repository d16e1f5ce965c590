"""A population of accounts with positions already open when the run starts (`[population]`).

Cascades need many levered accounts; agents are too few and too slow to build them. A population
is either synthetic (drawn from the scenario's seed on the stream "population") or an explicit
list, and both end up as `Member`s that `open_population` opens in the ledger:

- each member deposits its balance (for a synthetic member, the initial margin of its positions
  at their entry and leverage, so its leverage at entry is the drawn one);
- each position is a fee-free fill against `EXTERNAL` at its entry price (it was traded before
  the run), so conservation holds exactly: the outside market holds the other side;
- the account is registered in the risk engine's trigger index, and journaled (`balance` with
  reason "population", then one `position` record per position with its entry).

Synthetic draws use integers only (no floating-point logarithms whose last bit could differ
between machines): sizes are log-uniform on a grid of eighths of an octave computed with
`Decimal`, shares and entry offsets are integer draws in millionths.

Rules: leverage is capped by the bracket of the position's notional (a 100x draw on a large
position gets the bracket's maximum); isolated accounts hold one symbol; a cross account drawn
as multi-symbol holds every population symbol (or, with `multi_symbol_counts`, a uniform subset
of a drawn size), its notional split evenly, each side drawn on its own; `symbol_leverage_weights`
gives a symbol its own leverage distribution (alts levered higher than the major); entries are
uniform within +- `entry_spread` of the symbol's first trade price in the window, rounded to the
tick.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import duckdb
import numpy as np

from harness import journal as jk
from harness.venue.ledger.instruments import QUOTE_SCALE, Instrument
from harness.venue.venue import Venue

STREAM = "population"
MILLION = 1_000_000
OCTAVE_STEPS = 8


@dataclass(frozen=True)
class Listed:
    """One position of an explicitly listed account (`[[population.accounts]]`)."""

    name: str
    symbol: str
    long: bool
    qty: Decimal
    """Base units."""
    entry: Decimal
    """Price."""
    leverage: int
    isolated: bool
    balance: Decimal | None
    """USDT deposited for this entry; None: the initial margin at entry."""


@dataclass(frozen=True)
class PopulationSettings:
    """What `[population]` asks for: the synthetic draws' parameters and the listed accounts."""

    count: int
    symbols: tuple[str, ...]
    """Empty: every symbol of the run."""
    leverages: tuple[int, ...]
    leverage_weights: tuple[int, ...]
    """Empty: equal weights."""
    entry_spread: Decimal
    long_share: Decimal
    isolated_share: Decimal
    multi_symbol_share: Decimal
    multi_symbol_counts: tuple[int, ...]
    symbol_leverage_weights: Mapping[str, tuple[int, ...]]
    notional_min: Decimal
    notional_max: Decimal
    fee_tier: str
    accounts: tuple[Listed, ...]


@dataclass(frozen=True)
class Holding:
    symbol: str
    lots: int
    """Signed: positive long."""
    entry: int
    """Entry price in ticks."""
    leverage: int
    isolated: bool


@dataclass(frozen=True)
class Member:
    name: str
    deposit: int
    """Units of 1e-8 USDT deposited before the positions open."""
    holdings: tuple[Holding, ...]


def _initial_margin(inst: Instrument, holding: Holding) -> int:
    return -(-abs(inst.notional_units(holding.lots, holding.entry)) // holding.leverage)


def _capped_leverage(inst: Instrument, lots: int, entry: int, leverage: int) -> int:
    notional = Fraction(abs(inst.notional_units(lots, entry)), QUOTE_SCALE)
    return max(1, min(leverage, inst.brackets.bracket_for(notional).max_leverage))


def size_grid(low: Decimal, high: Decimal) -> list[Fraction]:
    """Notionals low x 2^(k/8) up to high: the support of the log-uniform size draw."""
    steps = int((high / low).ln() / Decimal(2).ln() * OCTAVE_STEPS)
    grid = [Fraction(low * Decimal(2) ** (Decimal(k) / OCTAVE_STEPS)) for k in range(steps + 1)]
    return [size for size in grid if size <= high] or [Fraction(low)]


def synthetic(
    settings: PopulationSettings,
    instruments: Mapping[str, Instrument],
    prices: Mapping[str, int],
    rng: np.random.Generator,
) -> list[Member]:
    """`settings.count` members drawn from `rng`; `prices` are the reference prices in ticks."""
    n = settings.count
    symbols = list(settings.symbols or instruments)
    weights = np.cumsum(np.array(settings.leverage_weights or [1] * len(settings.leverages)))
    grid = size_grid(settings.notional_min, settings.notional_max)
    leverage_at = np.searchsorted(weights, rng.integers(0, int(weights[-1]), n), side="right")
    size_at = rng.integers(0, len(grid), n)
    isolated = rng.integers(0, MILLION, n) < int(settings.isolated_share * MILLION)
    multi = rng.integers(0, MILLION, n) < int(settings.multi_symbol_share * MILLION)
    symbol_at = rng.integers(0, len(symbols), n)
    longs = rng.integers(0, MILLION, (n, len(symbols))) < int(settings.long_share * MILLION)
    offsets = rng.integers(-MILLION, MILLION + 1, (n, len(symbols)))
    chosen = _multi_symbol_draws(settings, len(symbols), n, rng)
    leverage_by_symbol = _symbol_leverage_draws(settings, symbols, n, rng)
    spread = Fraction(settings.entry_spread)
    width = len(str(max(n - 1, 0)))
    members: list[Member] = []
    for i in range(n):
        held = chosen[i] if multi[i] and not isolated[i] else [int(symbol_at[i])]
        share = grid[int(size_at[i])] / len(held)
        holdings = []
        for s in held:
            symbol = symbols[s]
            inst = instruments[symbol]
            ref = prices[symbol]
            entry = max(1, round(ref + ref * spread * Fraction(int(offsets[i, s]), MILLION)))
            lots = max(1, math.floor(share / (inst.tick_size * inst.lot_size * entry)))
            lots = lots if longs[i, s] else -lots
            drawn = leverage_by_symbol.get(symbol, leverage_at)
            leverage = _capped_leverage(inst, lots, entry, settings.leverages[int(drawn[i])])
            holdings.append(Holding(symbol, lots, entry, leverage, bool(isolated[i])))
        deposit = sum(_initial_margin(instruments[h.symbol], h) for h in holdings)
        members.append(Member(f"pop{i:0{width}d}", deposit, tuple(holdings)))
    return members


def _multi_symbol_draws(
    settings: PopulationSettings, count: int, n: int, rng: np.random.Generator
) -> list[list[int]]:
    """The symbol indexes each account would hold if drawn multi-symbol: every symbol, or (with
    `multi_symbol_counts`) a uniform subset of a drawn size, in the population's symbol order.
    Drawn after every other stream so that leaving the setting out keeps earlier populations."""
    if not settings.multi_symbol_counts:
        return [list(range(count))] * n
    sizes = [min(size, count) for size in settings.multi_symbol_counts]
    size_at = rng.integers(0, len(sizes), n)
    order = np.argsort(rng.integers(0, MILLION, (n, count)), axis=1, kind="stable")
    return [sorted(int(s) for s in order[i, : sizes[int(size_at[i])]]) for i in range(n)]


def _symbol_leverage_draws(
    settings: PopulationSettings, symbols: list[str], n: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Per symbol with its own `symbol_leverage_weights`, each account's leverage index for a
    position in that symbol (drawn in the population's symbol order, after every other draw)."""
    drawn: dict[str, np.ndarray] = {}
    for symbol in symbols:
        weights = settings.symbol_leverage_weights.get(symbol)
        if weights:
            bounds = np.cumsum(np.array(weights))
            draws = rng.integers(0, int(bounds[-1]), n)
            drawn[symbol] = np.searchsorted(bounds, draws, side="right")
    return drawn


def explicit(settings: PopulationSettings, instruments: Mapping[str, Instrument]) -> list[Member]:
    """The `[[population.accounts]]` entries, grouped by name in order of first appearance."""
    grouped: dict[str, tuple[int, list[Holding]]] = {}
    for i, entry in enumerate(settings.accounts):
        where = f"population.accounts[{i}]"
        inst = instruments.get(entry.symbol)
        if inst is None:
            raise ValueError(f"{where}.symbol: {entry.symbol} is not in data.symbols")
        try:
            lots = inst.qty_to_lots(Fraction(entry.qty)) * (1 if entry.long else -1)
            ticks = inst.price_to_ticks(Fraction(entry.entry))
        except ValueError as exc:
            raise ValueError(f"{where}: {exc} (the instrument's grid)") from None
        holding = Holding(entry.symbol, lots, ticks, entry.leverage, entry.isolated)
        allowed = _capped_leverage(inst, lots, ticks, entry.leverage)
        if allowed < entry.leverage:
            raise ValueError(f"{where}.leverage: the brackets allow at most {allowed}x here")
        if entry.balance is None:
            deposit = _initial_margin(inst, holding)
        else:
            deposit = int(Fraction(entry.balance) * QUOTE_SCALE)
        before, holdings = grouped.get(entry.name, (0, []))
        if any(h.symbol == entry.symbol for h in holdings):
            raise ValueError(f"{where}: {entry.name} already holds {entry.symbol}")
        grouped[entry.name] = (before + deposit, [*holdings, holding])
    return [Member(name, deposit, tuple(h)) for name, (deposit, h) in grouped.items()]


def open_population(venue: Venue, members: list[Member], fee_tier: str, ts: int) -> None:
    """Deposit, open each position against the outside market, index and journal."""
    ledger, journal = venue.ledger, venue.journal
    for member in members:
        name = member.name
        ledger.open_account(name, fee_tier=fee_tier)
        if member.deposit > 0:
            ledger.deposit(name, member.deposit)
        journal.append(ts, jk.BALANCE, name, "", wallet=member.deposit, reason="population")
        for h in member.holdings:
            ledger.set_leverage(name, h.symbol, h.leverage)
            if h.isolated:
                ledger.set_margin_mode(name, h.symbol, True)
            side = 1 if h.lots > 0 else -1
            ledger.apply_fill(name, h.symbol, side, abs(h.lots), h.entry, True, charge_fee=False)
            journal.append(
                ts,
                jk.POSITION,
                name,
                h.symbol,
                before=0,
                after=h.lots,
                realized_pnl=0,
                entry=h.entry,
                leverage=h.leverage,
                isolated=h.isolated,
                reason="population",
            )
        venue.risk.update_account(name)


def first_trade_prices(
    con: duckdb.DuckDBPyConnection,
    exchange: str,
    symbols: list[str],
    instruments: Mapping[str, Instrument],
    start: int,
    end: int,
) -> dict[str, int]:
    """Each symbol's first trade price in [start, end), in ticks: the synthetic entries' centre."""
    prices: dict[str, int] = {}
    for symbol in symbols:
        row = con.execute(
            "SELECT price FROM trades WHERE exchange = ? AND symbol = ? AND ts >= ? AND ts < ? "
            "ORDER BY ts, seq LIMIT 1",
            [exchange, symbol, start, end],
        ).fetchone()
        if row is None:
            raise ValueError(f"population: no trade of {symbol} in the window to centre entries on")
        prices[symbol] = round(Fraction(repr(row[0])) / instruments[symbol].tick_size)
    return prices


def populate(
    venue: Venue,
    settings: PopulationSettings,
    con: duckdb.DuckDBPyConnection,
    exchange: str,
    start: int,
    end: int,
) -> int:
    """Open the scenario's population at `start` (after the agents' accounts, whose names it may
    not take); the number of accounts opened."""
    instruments = {symbol: market.instrument for symbol, market in venue.markets.items()}
    members = explicit(settings, instruments)
    if settings.count:
        for symbol in settings.symbols:
            if symbol not in instruments:
                raise ValueError(f"population.symbols: {symbol} is not in data.symbols")
        symbols = list(settings.symbols or instruments)
        for symbol in settings.symbol_leverage_weights:
            if symbol not in symbols:
                raise ValueError(
                    f"population.symbol_leverage_weights: {symbol} is not a population symbol"
                )
        prices = first_trade_prices(con, exchange, symbols, instruments, start, end)
        members += synthetic(settings, instruments, prices, venue.env.streams.get(STREAM))
    for member in members:
        if member.name in venue.ledger.accounts:
            raise ValueError(f"population: account {member.name} exists (an agent's name?)")
    open_population(venue, members, settings.fee_tier, start)
    return len(members)
