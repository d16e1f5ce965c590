"""Bracket tables against the published cum column, TOML loading, and the fixed-point grid."""

from __future__ import annotations

import tomllib
from fractions import Fraction

import pytest

from harness.venue.ledger.instruments import BracketTable, exact
from harness.venue.profiles.binance_usdm import BINANCE_USDM, BTCUSDT, ETHUSDT

F = Fraction

# The cum columns as MECHANICS.md publishes them (USDT), not derived here.
PUBLISHED_CUM = {
    "binance-btcusdt-2024": [
        0,
        300,
        1_500,
        12_000,
        132_000,
        482_000,
        2_982_000,
        14_482_000,
        26_482_000,
        41_482_000,
        121_482_000,
        421_482_000,
    ],
    "binance-btcusdt-2021": [
        0,
        50,
        1_300,
        46_300,
        546_300,
        2_546_300,
        5_046_300,
        8_046_300,
        28_046_300,
        103_046_300,
    ],
}


@pytest.mark.parametrize("name", sorted(PUBLISHED_CUM))
def test_derived_cum_matches_published(name: str) -> None:
    table = BINANCE_USDM.bracket_table(name)
    assert [b.cum for b in table.tiers] == PUBLISHED_CUM[name]
    assert [b.tier for b in table.tiers] == list(range(1, len(PUBLISHED_CUM[name]) + 1))


def test_2024_table_rows() -> None:
    tiers = BINANCE_USDM.bracket_tables["binance-btcusdt-2024"].tiers
    assert (tiers[2].floor, tiers[2].cap) == (F(800_000), F(3_000_000))
    assert tiers[2].max_leverage == 75
    assert tiers[2].mmr == Fraction(65, 10_000)
    assert tiers[-1].max_leverage == 1
    assert tiers[-1].mmr == Fraction(1, 2)


def test_maintenance_margin_is_continuous_at_every_boundary() -> None:
    for table in BINANCE_USDM.bracket_tables.values():
        for lower, upper in zip(table.tiers, table.tiers[1:], strict=False):
            at = upper.floor
            assert at * lower.mmr - lower.cum == at * upper.mmr - upper.cum


def test_bracket_lookup_boundaries() -> None:
    table = BINANCE_USDM.bracket_table("binance-btcusdt-2024")
    assert table.bracket_for(Fraction(0)).tier == 1
    assert table.bracket_for(Fraction("299999.99")).tier == 1
    assert table.bracket_for(Fraction(300_000)).tier == 2
    assert table.bracket_for(Fraction(5_000_000_000)).tier == 12


TOML_TABLE = """
name = "custom-2021"
[[tiers]]
floor = 0
cap = 50_000
max_leverage = 125
mmr = 0.004
cum = 0
[[tiers]]
floor = 50_000
cap = 250_000
max_leverage = 100
mmr = "0.5%"
cum = 50
[[tiers]]
floor = 250_000
cap = 3_000_000
max_leverage = 50
mmr = 0.01
cum = 1_300.0
"""


def test_table_from_toml_checks_published_cum() -> None:
    table = BracketTable.from_dict(tomllib.loads(TOML_TABLE))
    assert table.name == "custom-2021"
    assert [b.mmr for b in table.tiers] == [Fraction(4, 1000), Fraction(5, 1000), Fraction(1, 100)]
    assert [b.cum for b in table.tiers] == [0, 50, 1_300]
    assert table.tiers == BINANCE_USDM.bracket_tables["binance-btcusdt-2021"].tiers[:3]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("cum = 50\n", "cum = 51\n"), "published cum 51 != derived 50"),
        (("floor = 250_000", "floor = 240_000"), "floor 240000 != previous cap"),
        (("mmr = 0.01", "mmr = 0.003"), "MMR falls"),
        (("max_leverage = 50", "max_leverage = 200"), "leverage rises"),
        (("mmr = 0.004", "mmr = 0.004\nextra = 1"), "unknown"),
        (("mmr = 0.004", "mmr = 0.000000001"), "finer than 1e-8"),
    ],
)
def test_table_from_toml_rejects_bad_tables(edit: tuple[str, str], message: str) -> None:
    text = TOML_TABLE.replace(*edit)
    with pytest.raises(ValueError, match=message):
        BracketTable.from_dict(tomllib.loads(text))


def test_max_leverage_cut() -> None:
    cut = BINANCE_USDM.bracket_table("binance-btcusdt-2024").with_max_leverage(8)
    assert [b.max_leverage for b in cut.tiers][:6] == [8] * 6
    assert cut.tiers[7].max_leverage == 5
    assert [b.cum for b in cut.tiers] == PUBLISHED_CUM["binance-btcusdt-2024"]


def test_exact_reads_decimals_percentages_and_toml_floats() -> None:
    assert exact("0.4%") == Fraction(1, 250)
    assert exact(0.004) == Fraction(4, 1000)
    assert exact("300,000") == 300_000
    assert exact(0.1) + exact(0.2) == exact("0.3")
    with pytest.raises(ValueError, match="finite"):
        exact("nan")
    with pytest.raises(TypeError):
        exact(True)


def test_grid_conversions() -> None:
    assert BTCUSDT.units_per_lot_tick == 10_000
    assert ETHUSDT.units_per_lot_tick == 1_000
    assert BTCUSDT.price_to_ticks(exact("61800.3")) == 618_003
    assert BTCUSDT.ticks_to_price(618_003) == exact("61800.3")
    with pytest.raises(ValueError, match="not a multiple"):
        BTCUSDT.price_to_ticks(exact("61800.35"))
    assert BTCUSDT.price_to_ticks(exact("61800.35"), "floor") == 618_003
    assert BTCUSDT.price_to_ticks(exact("61800.35"), "ceil") == 618_004
    assert BTCUSDT.qty_to_lots(exact("0.02")) == 20
    assert BTCUSDT.lots_to_qty(20) == exact("0.02")
    # 1 BTC at 60,000 USDT is 60,000 x 1e8 units; a short's value is negative.
    assert BTCUSDT.notional_units(1_000, 600_000) == 60_000 * 10**8
    assert BTCUSDT.notional_units(-1_000, 600_000) == -60_000 * 10**8


def test_price_protection_bounds_round_inwards() -> None:
    # Mark 60,000.1: band 5% -> [57,000.095, 63,000.105] -> ticks [570_001, 630_001].
    assert BTCUSDT.limit_price_bounds(600_001) == (570_001, 630_001)
    assert BTCUSDT.market_take_bounds(600_000) == (570_000, 630_000)


def test_impact_notional_is_200_times_max_leverage() -> None:
    assert BTCUSDT.impact_notional == 30_000


def test_instrument_refuses_a_grid_finer_than_money_units() -> None:
    with pytest.raises(ValueError, match="1e-8"):
        BINANCE_USDM.contract("TINY", Fraction(1, 10**6), Fraction(1, 10**3))


def test_maintenance_units_in_integers_matches_the_tiers() -> None:
    """Table 2024: 60,000 in tier 1 (0.4%) is 240; 904,000 in tier 3 is 4,376 (as in the
    liquidator's tier test); a notional at a cap belongs to the next tier."""
    table = BINANCE_USDM.bracket_tables["binance-btcusdt-2024"]
    usdt = 10**8
    assert table.maintenance_units(60_000 * usdt) == 240 * usdt
    assert table.maintenance_units(904_000 * usdt) == 4_376 * usdt
    at_cap = table.tiers[0].cap * usdt
    second = table.tiers[1]
    assert table.maintenance_units(int(at_cap)) == (at_cap * second.mmr - second.cum * usdt)
    assert table.maintenance_units(1) == 1  # 0.4% of one unit rounds up
