"""Consumed liquidity under the two replenishment models, and the venue's visible best prices."""

from __future__ import annotations

from typing import Any

from harness.venue.exchange.l2book import ASK
from harness.venue.exchange.matching import MatchingEngine
from harness.venue.exchange.orders import TimeInForce
from tests.venue.test_matching import BUY, P, fills, make, order, seed

S = 1_000_000_000
H = 4 * S


def _eat_best_ask(**settings: Any) -> MatchingEngine:
    engine = make(**settings)
    seed(engine, [(P - 1, 10)], [(P, 8), (P + 1, 5)])
    events = engine.submit(order("a", BUY, 8, P, tif=TimeInForce.IOC), S)
    assert [f[2] for f in fills(events)] == [8]
    return engine


def test_following_the_data_refills_a_level_at_its_next_update() -> None:
    engine = _eat_best_ask()
    assert engine.best_visible(ASK, S) == P + 1
    engine.on_depth(ASK, P, 8, S + 1)
    assert engine.visible(ASK, P) == 8
    assert engine.best_visible(ASK, S + 1) == P


def test_decay_keeps_the_footprint_through_updates_and_halves_it_per_half_life() -> None:
    engine = _eat_best_ask(replenish_half_life_ns=H)
    engine.on_depth(ASK, P, 8, S + 1)
    # The data restates 8 lots; the sim took 8 a moment ago: nothing is back yet.
    assert engine.best_visible(ASK, S + 1) == P + 1
    # One half-life later half of it has come back: 4 of the 8 lots are visible again.
    assert engine.best_visible(ASK, S + H) == P
    assert engine.visible(ASK, P) == 4
    # A taker then finds 4 lots at P and walks on to P + 1.
    events = engine.submit(order("b", BUY, 6, P + 1, tif=TimeInForce.IOC), S + H)
    assert [(f[1], f[2]) for f in fills(events)] == [(P, 4), (P + 1, 2)]
    # The level's 8 missing lots (4 left of the first take, 4 just taken) all come back within
    # four half-lives of the second take (8 >> 4 == 0).
    assert engine.consumed(ASK, P) == 8
    assert engine.best_visible(ASK, S + 5 * H - 1) == P and engine.visible(ASK, P) == 7
    assert engine.best_visible(ASK, S + 5 * H) == P and engine.visible(ASK, P) == 8


def test_a_gap_forgets_consumed_liquidity_in_both_models() -> None:
    for settings in ({}, {"replenish_half_life_ns": H}):
        engine = _eat_best_ask(**settings)
        engine.clear()
        seed(engine, [(P - 1, 10)], [(P, 8)])
        assert engine.visible(ASK, P) == 8
