import pytest

from harness.registry import Registry
from harness.units import NS_PER_DAY, NS_PER_HOUR, Side


def test_registry_keeps_order_and_names_known_on_miss() -> None:
    reg: Registry[type] = Registry("widget")
    reg.register("b")(int)
    reg.register("a")(str)
    assert reg.names() == ("b", "a")
    assert reg.get("a") is str
    with pytest.raises(KeyError, match=r"unknown widget 'c' \(known: b, a\)"):
        reg.get("c")
    with pytest.raises(ValueError, match="registered twice"):
        reg.register("a")(float)


def test_units() -> None:
    assert NS_PER_HOUR == 3_600_000_000_000
    assert NS_PER_DAY == 86_400_000_000_000
    assert 5 * Side.SELL == -5
    assert str(Side.BUY) == "1"
