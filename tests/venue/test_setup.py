"""A run's instruments from built-ins and scenario overrides."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from harness.assembly import build_instruments, engine_config
from harness.config.scenario import loads_scenario

CUSTOM = """
name = "alt-2025"
[[tiers]]
floor = 0
cap = 50000
max_leverage = 75
mmr = "1%"
[[tiers]]
floor = 50000
cap = 500000
max_leverage = 25
mmr = "2.5%"
cum = 750
"""


def test_overrides_and_a_custom_bracket_table_from_toml(tmp_path: Path) -> None:
    table = tmp_path / "alt.toml"
    table.write_text(CUSTOM)
    scenario = loads_scenario(
        f"""
name = "x"
[data]
symbols = ["BTCUSDT", "ALTUSDT"]
[venue]
queue_model = "proportional"
[venue.instruments.ALTUSDT]
tick_size = "0.001"
lot_size = "1"
brackets = "{table}"
taker_fee = "0.04%"
""",
        source="x.toml",
    )
    instruments = build_instruments(scenario.data.symbols, scenario.venue.instruments)
    alt = instruments["ALTUSDT"]
    assert (alt.tick_size, alt.lot_size) == (Fraction(1, 1000), Fraction(1))
    assert alt.brackets.bracket_for(Fraction(60_000)).cum == 750  # 50,000 x (2.5% - 1%)
    assert alt.fees.rate("regular", is_maker=False) == 40_000  # 0.04% in parts per 1e8
    assert instruments["BTCUSDT"].tick_size == Fraction(1, 10)
    assert engine_config(scenario.venue, alt).queue_model == "proportional"


def test_unknown_symbol_without_grid_is_refused() -> None:
    with pytest.raises(ValueError, match=r"no built-in instrument DOGEUSDT: set venue.instruments"):
        build_instruments(("DOGEUSDT",), {})
