"""Grid options, expansion order and run ids, scenario edits through the loader."""

from __future__ import annotations

import hashlib

import pytest

from harness.config.settings import ScenarioError, SettingError
from harness.sweep.grid import GridError, expand, parse_axis, seed_list, toml_literal
from harness.sweep.overrides import build_scenario, set_key

BASE = """
name = "g"
seed = 5
[[agents]]
name = "a"
strategy = "m:C"
"""


def test_values_are_toml_values() -> None:
    assert parse_axis("liquidation.clearance_fee=0.005,0.0125").values == (0.005, 0.0125)
    assert parse_axis('venue.replenishment="data", "decay"').values == ("data", "decay")
    assert parse_axis("x.flag=true,false").values == (True, False)
    axis = parse_axis('data.symbols=["BTCUSDT"],["ETHUSDT", "A,B"]')
    assert axis.values == (["BTCUSDT"], ["ETHUSDT", "A,B"])
    assert parse_axis("agents[0].leverage=10").key == "agents[0].leverage"


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("liquidation.clearance_fee", "expected key=value"),
        ("liquidation.clearance_fee=", "expected key=value"),
        ("liquidation..fee=1", "not a dotted key"),
        ("venue.replenishment=decay", "not TOML values"),
        ("a.b=1,2,1", "value 1 is given twice"),
    ],
)
def test_bad_grid_options_are_named(option: str, message: str) -> None:
    with pytest.raises(GridError, match=message):
        parse_axis(option)


def test_expansion_order_first_key_slowest_seeds_fastest() -> None:
    axes = [parse_axis("a.x=1,2"), parse_axis('b.y="p","q"')]
    runs = expand(axes, seed_list(5, 2), base_text=BASE, source="g.toml", db=None)
    assert [(r.overrides, r.seed) for r in runs] == [
        ((("a.x", 1), ("b.y", "p")), 5),
        ((("a.x", 1), ("b.y", "p")), 6),
        ((("a.x", 1), ("b.y", "q")), 5),
        ((("a.x", 1), ("b.y", "q")), 6),
        ((("a.x", 2), ("b.y", "p")), 5),
        ((("a.x", 2), ("b.y", "p")), 6),
        ((("a.x", 2), ("b.y", "q")), 5),
        ((("a.x", 2), ("b.y", "q")), 6),
    ]
    assert [r.index for r in runs] == list(range(8))
    assert len({r.run_id for r in runs}) == 8


def test_run_id_is_the_documented_digest_and_stable() -> None:
    runs = expand([parse_axis("a.x=0.5")], [7], base_text=BASE, source="g.toml", db=None)
    base = hashlib.sha256(BASE.encode()).hexdigest()
    expected = hashlib.sha256(f"{base}\na.x = 0.5\n7".encode()).hexdigest()[:16]
    assert runs[0].run_id == expected
    again = expand([parse_axis("a.x=0.5,1")], [7], base_text=BASE, source="other.toml", db="x")
    assert again[0].run_id == expected  # same base text, overrides and seed: same run
    edited = expand([parse_axis("a.x=0.5")], [7], base_text=BASE + "\n", source="g", db=None)
    assert edited[0].run_id != expected


def test_seed_rules() -> None:
    assert seed_list(5, 3) == [5, 6, 7]
    with pytest.raises(GridError, match="at least 1"):
        seed_list(5, 0)
    with pytest.raises(GridError, match="--seeds"):
        expand([parse_axis("seed=1,2")], [0], base_text=BASE, source="g", db=None)
    with pytest.raises(GridError, match="given twice"):
        expand([parse_axis("a=1"), parse_axis("a=2")], [0], base_text=BASE, source="g", db=None)


def test_toml_literal() -> None:
    assert toml_literal(0.1) == "0.1"
    assert toml_literal(True) == "true"
    assert toml_literal('say "hi"') == '"say \\"hi\\""'
    assert toml_literal([1, "a"]) == '[1, "a"]'
    assert toml_literal({"k": 2}) == '{"k" = 2}'


def test_set_key_creates_tables_and_indexes_lists() -> None:
    table: dict[str, object] = {"agents": [{"name": "a"}, {"name": "b"}]}
    set_key(table, "liquidation.clearance_fee", 0.01)
    set_key(table, "agents[1].params.qty_lots", 3)
    assert table == {
        "agents": [{"name": "a"}, {"name": "b", "params": {"qty_lots": 3}}],
        "liquidation": {"clearance_fee": 0.01},
    }
    with pytest.raises(SettingError, match=r"agents\[2\].*out of range \(the list has 2"):
        set_key(table, "agents[2].leverage", 3)
    with pytest.raises(SettingError, match=r"gateway\.tightening: missing"):
        set_key(table, "gateway.tightening[0].factor", 5)
    with pytest.raises(SettingError, match=r"liquidation\.clearance_fee: is not a table"):
        set_key(table, "liquidation.clearance_fee.x", 1)
    with pytest.raises(SettingError, match=r"liquidation\.clearance_fee: is not a table"):
        set_key(table, "liquidation.clearance_fee.x.y", 1)
    with pytest.raises(SettingError, match="liquidation: is not a list"):
        set_key(table, "liquidation[0]", 1)


def test_grid_values_go_through_the_scenario_loader() -> None:
    scenario = build_scenario(BASE, "g.toml", (("liquidation.clearance_fee", 0.0125),), 9)
    assert str(scenario.liquidation.clearance_fee) == "0.0125"
    assert scenario.seed == 9
    assert scenario.name == "g"
    edited = build_scenario(BASE, "g.toml", (("agents[0].leverage", 10),), 9)
    assert edited.agents[0].leverage == 10
    with pytest.raises(ScenarioError, match=r"g.toml: liquidation.clearance_fee: expected a num"):
        build_scenario(BASE, "g.toml", (("liquidation.clearance_fee", 2),), 0)
    with pytest.raises(ScenarioError, match="did you mean 'clearance_fee'"):
        build_scenario(BASE, "g.toml", (("liquidation.clearence_fee", 0.1),), 0)
    with pytest.raises(ScenarioError, match=r"venue.replenishment: unknown value 'fast'"):
        build_scenario(BASE, "g.toml", (("venue.replenishment", "fast"),), 0)
