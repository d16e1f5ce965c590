"""Instruments and engine rules for a run: the built-in definitions and a scenario's overrides."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any

from harness.config.scenario import InstrumentOverrides, VenueConfig
from harness.venue.exchange.matching import EngineConfig
from harness.venue.exchange.orders import StpMode
from harness.venue.exchange.queue_position import QueueModel
from harness.venue.ledger.fees import FeeSchedule, FeeTier, rate_e8
from harness.venue.ledger.instruments import Instrument
from harness.venue.profiles import default_profile, load_bracket_table


def _fraction(value: Decimal) -> Fraction:
    return Fraction(value)


def build_instrument(
    symbol: str, overrides: InstrumentOverrides | None, price_band: Decimal | None = None
) -> Instrument:
    """`price_band` is the scenario's `guardrails.price_band`; the symbol's own override wins."""
    profile = default_profile()
    base = profile.instruments.get(symbol)
    o = overrides or InstrumentOverrides()
    if o.price_band is None and price_band is not None:
        o = dataclasses.replace(o, price_band=price_band)
    if base is None:
        if o.tick_size is None or o.lot_size is None:
            raise ValueError(
                f"no built-in instrument {symbol}: set venue.instruments.{symbol}.tick_size, "
                "lot_size and brackets"
            )
        base = profile.contract(symbol, _fraction(o.tick_size), _fraction(o.lot_size))
    changes: dict[str, Any] = {}
    if o.tick_size is not None:
        changes["tick_size"] = _fraction(o.tick_size)
    if o.lot_size is not None:
        changes["lot_size"] = _fraction(o.lot_size)
    if o.min_notional is not None:
        changes["min_notional"] = _fraction(o.min_notional)
    if o.price_band is not None:
        changes["price_band"] = _fraction(o.price_band)
    if o.brackets is not None:
        changes["brackets"] = load_bracket_table(o.brackets)
    if o.funding_interval_hours is not None:
        changes["funding"] = dataclasses.replace(
            base.funding, interval_hours=o.funding_interval_hours
        )
    if o.maker_fee is not None or o.taker_fee is not None:
        changes["fees"] = _override_fees(base.fees, o.maker_fee, o.taker_fee)
    return dataclasses.replace(base, **changes) if changes else base


def _override_fees(base: FeeSchedule, maker: Decimal | None, taker: Decimal | None) -> FeeSchedule:
    """A scenario's fee override replaces that rate in every tier of the schedule."""
    tiers = {
        name: FeeTier(
            maker=tier.maker if maker is None else rate_e8(Fraction(maker)),
            taker=tier.taker if taker is None else rate_e8(Fraction(taker)),
        )
        for name, tier in base.tiers.items()
    }
    return FeeSchedule(name=f"{base.name}+scenario", tiers=tiers)


def build_instruments(
    symbols: tuple[str, ...],
    overrides: Mapping[str, InstrumentOverrides],
    price_band: Decimal | None = None,
) -> dict[str, Instrument]:
    unknown = [symbol for symbol in overrides if symbol not in symbols]
    if unknown:
        raise ValueError(f"venue.instruments names symbols not replayed: {', '.join(unknown)}")
    return {
        symbol: build_instrument(symbol, overrides.get(symbol), price_band) for symbol in symbols
    }


def engine_config(venue: VenueConfig, instrument: Instrument) -> EngineConfig:
    return dataclasses.replace(
        EngineConfig.from_instrument(instrument.symbol, instrument),
        max_open_orders=venue.max_open_orders,
        price_band=instrument.price_band,
        market_take_bound=instrument.market_take_bound,
        queue_model=QueueModel(venue.queue_model),
        default_stp=StpMode(venue.self_trade_prevention),
        replenish_half_life_ns=(
            venue.replenish_half_life_ns if venue.replenishment == "decay" else None
        ),
    )
