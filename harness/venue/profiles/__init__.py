"""Venue profiles: everything that makes one venue itself, as one frozen value per venue.

The mechanics under `ledger/` and `liquidation/` are venue-neutral: they take brackets, fee
schedules, funding settings and model names as arguments. A profile gathers one venue's values
(contract grid, bracket tables, fee tiers, funding interval and cap, price bands, mark method and
its inputs, ADL ranking, rate-limit defaults, liquidation clearance fee) in one module, registered
by name in `PROFILES`. A scenario names a profile and overrides fields; adding a venue is one new
module here (docs/profiles.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from types import MappingProxyType
from typing import Final, TypeVar

from harness.registry import Registry
from harness.venue.ledger.fees import FeeSchedule
from harness.venue.ledger.funding import FundingParams
from harness.venue.ledger.instruments import BracketTable, Instrument

T = TypeVar("T")


def _pick(items: Mapping[str, T], key: str, what: str) -> T:
    """`items[key]`, or a KeyError that lists the known keys."""
    try:
        return items[key]
    except KeyError:
        raise KeyError(f"{what} {key!r} (known: {', '.join(items)})") from None


@dataclass(frozen=True)
class ContractSpec:
    """One listed perpetual: its grid and the name of its bracket table in the profile."""

    symbol: str
    tick_size: Fraction
    lot_size: Fraction
    brackets: str


@dataclass(frozen=True)
class RateLimitDefaults:
    """The venue's published request limits (the gateway's `Limits`)."""

    weight_1m: int
    """Request weight per minute per IP."""
    orders_10s: int
    """Orders per 10 s per account."""
    orders_1m: int
    """Orders per minute per account."""


@dataclass(frozen=True)
class VenueProfile:
    """One venue's rules. `instruments` is derived from `contracts` and the shared settings."""

    name: str
    bracket_tables: Mapping[str, BracketTable]
    contracts: tuple[ContractSpec, ...]
    default_brackets: str
    """Bracket table of a symbol the profile does not list (a scenario gives its grid)."""
    fees: FeeSchedule
    funding: FundingParams
    min_notional: Fraction
    """USDT; reduce-only orders are exempt."""
    price_band: Fraction
    """Limit orders further than this fraction from the mark are rejected."""
    market_take_bound: Fraction
    """Market orders fill no further than this fraction from the mark."""
    mark_method: str
    """A name in `ledger.mark_price.MARK_METHODS`."""
    mark_interval_ns: int
    """How often the mark is sampled."""
    mark_premium_samples: int
    """Mark samples the basis moving average of the `binance` method spans."""
    premium_index_every_ns: int
    """How often the premium index is sampled for the funding rate."""
    adl_ranking: str
    """A name in `liquidation.adl.ADL_RANKINGS`."""
    clearance_fee: Fraction
    """Rate the liquidator charges on the notional it fills through the book."""
    rate_limits: RateLimitDefaults
    instruments: Mapping[str, Instrument] = field(init=False)

    def __post_init__(self) -> None:
        tables = MappingProxyType(dict(self.bracket_tables))
        object.__setattr__(self, "bracket_tables", tables)
        self._table(self.default_brackets)
        built = {
            c.symbol: self.contract(c.symbol, c.tick_size, c.lot_size, c.brackets)
            for c in self.contracts
        }
        object.__setattr__(self, "instruments", MappingProxyType(built))

    def _table(self, name: str) -> BracketTable:
        return _pick(self.bracket_tables, name, f"{self.name}: unknown bracket table")

    def contract(
        self, symbol: str, tick_size: Fraction, lot_size: Fraction, brackets: str | None = None
    ) -> Instrument:
        """A perpetual on this venue's terms: its fees, funding, bands and minimum notional."""
        return Instrument(
            symbol=symbol,
            tick_size=tick_size,
            lot_size=lot_size,
            brackets=self._table(brackets or self.default_brackets),
            min_notional=self.min_notional,
            price_band=self.price_band,
            market_take_bound=self.market_take_bound,
            fees=self.fees,
            funding=self.funding,
        )

    def instrument(self, symbol: str) -> Instrument:
        return _pick(self.instruments, symbol, f"{self.name}: unknown instrument")

    def bracket_table(self, spec: str) -> BracketTable:
        """A table of this profile by name, or a custom one from a `.toml` file.

        Errors are one-line `ValueError`s naming the table or the file."""
        path = Path(spec)
        if path.suffix == ".toml":
            return BracketTable.from_toml(path)
        try:
            return self._table(spec)
        except KeyError as exc:
            raise ValueError(str(exc.args[0])) from None


PROFILES: Registry[VenueProfile] = Registry("venue profile")
DEFAULT_PROFILE: Final = "binance-usdm"


def default_profile() -> VenueProfile:
    """The built-in profile, which code without a scenario (tests, `harness calc`) uses."""
    return PROFILES.get(DEFAULT_PROFILE)


def load_bracket_table(spec: str) -> BracketTable:
    """A bracket table of the default profile by name, or one from a `.toml` file."""
    return default_profile().bracket_table(spec)


# The built-in profiles register themselves on import; they need the types above.
from harness.venue.profiles import binance_usdm as binance_usdm  # noqa: E402
