"""`harness calc` against every MECHANICS.md liquidation and funding example."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import main

EXAMPLES = {
    "1-binance-published": (
        "--mmr 0.4% --cum 0 --side long --qty 0.02 --entry 50000 --wallet 500",
        "25100.402",
        "25000.000",
    ),
    "2-isolated-long-2021": (
        "--brackets binance-btcusdt-2021 --side long --qty 1 --entry 60000 --wallet 6000",
        "54221.106",
        "54000.000",
    ),
    "3-isolated-short-2021": (
        "--brackets binance-btcusdt-2021 --side short --qty 1 --entry 49000 --wallet 2450",
        "51243.781",
        "51450.000",
    ),
    "4-isolated-long-2024": (
        "--brackets binance-btcusdt-2024 --side long --qty 10 --entry 100000 --wallet 100000",
        "90437.846",
        "90000.000",
    ),
    "5-cross-long-2024": (
        "--brackets binance-btcusdt-2024 --margin cross --side long --qty 10 --entry 100000"
        " --wallet 50000 --other-mm 2000 --other-upnl -3000",
        "95973.830",
        "95300.000",
    ),
    "6-bybit-isolated-50x": (
        "--style bybit --mmr 0.005 --leverage 50 --side long --qty 1 --entry 20000",
        "19700.000",
        "19600.000",
    ),
}


def run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_liquidation_examples(name: str) -> None:
    args, lp, bp = EXAMPLES[name]
    out = run("calc", "liquidation-price", *args.split())
    assert out == f"liquidation_price={lp}\nbankruptcy_price={bp}\n"


def test_example_1_matches_binance_to_the_cent() -> None:
    out = run("calc", "liquidation-price", *EXAMPLES["1-binance-published"][0].split())
    assert out.splitlines()[0].startswith("liquidation_price=25100.40")


def test_json_carries_the_bracket() -> None:
    args = EXAMPLES["3-isolated-short-2021"][0].split()
    body = json.loads(run("calc", "liquidation-price", *args, "--json"))
    assert body == {
        "liquidation_price": "51243.781",
        "bankruptcy_price": "51450.000",
        "tier": 2,
        "mmr": "0.005",
        "cum": "50",
    }
    direct = json.loads(
        run("calc", "liquidation-price", *EXAMPLES["6-bybit-isolated-50x"][0].split(), "--json")
    )
    assert (direct["tier"], direct["mmr"], direct["cum"]) == (None, "0.005", "0")


def test_no_liquidation_price_prints_none() -> None:
    args = "--mmr 0.4% --side long --qty 1 --entry 100 --wallet 200"
    out = run("calc", "liquidation-price", *args.split())
    assert out == "liquidation_price=none\nbankruptcy_price=none\n"


def test_brackets_from_a_toml_file(tmp_path: Path) -> None:
    table = tmp_path / "tiers.toml"
    table.write_text(
        'name = "two-tier"\n'
        "[[tiers]]\nfloor = 0\ncap = 50000\nmax_leverage = 125\nmmr = 0.004\n"
        "[[tiers]]\nfloor = 50000\ncap = 250000\nmax_leverage = 100\nmmr = 0.005\ncum = 50\n"
    )
    args = f"--brackets {table} --side short --qty 1 --entry 49000 --wallet 2450 --json"
    body = json.loads(run("calc", "liquidation-price", *args.split()))
    assert (body["liquidation_price"], body["tier"]) == ("51243.781", 2)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ("--side long --qty 1 --entry 1 --wallet 1", "--brackets, or --mmr"),
        ("--brackets nope --side long --qty 1 --entry 1 --wallet 1", "unknown bracket table"),
        ("--mmr 0.4% --side long --qty 1 --entry 1", "--wallet, or --leverage"),
        ("--mmr 0.4% --side long --qty 1 --entry 1 --wallet 1 --other-mm 5", "cross account"),
        ("--mmr 0.4% --side long --qty 0.02 --entry x --wallet 1", "not a number"),
        (
            "--brackets binance-btcusdt-2024 --side long --qty 10 --entry 100000 --leverage 100",
            "above 75x",
        ),
    ],
)
def test_liquidation_usage_errors(args: str, message: str) -> None:
    result = CliRunner().invoke(main, ["calc", "liquidation-price", *args.split()])
    assert result.exit_code != 0
    assert message in result.output


@pytest.mark.parametrize(
    ("premium", "rate"),
    [
        ("-0.10%", "-0.00050000"),
        ("-0.02%", "0.00010000"),
        ("0.03%", "0.00010000"),
        ("0.10%", "0.00050000"),
    ],
)
def test_funding_examples(premium: str, rate: str) -> None:
    assert run("calc", "funding", f"--premium={premium}") == f"funding_rate={rate}\n"


def test_funding_options() -> None:
    # 4-hour interval halves the 8-hour rate; the cap then bounds it.
    assert run("calc", "funding", "--premium", "0.001", "--interval-hours", "4") == (
        "funding_rate=0.00025000\n"
    )
    assert run("calc", "funding", "--premium=-1%", "--cap", "0.3%") == "funding_rate=-0.00300000\n"
    assert run("calc", "funding", "--premium=0", "--interest", "0") == "funding_rate=0.00000000\n"
    # Two samples weighted 1 and 2: (0.03% + 2 x 0.12%) / 3 = 0.09%; F = 0.09% - 0.05% = 0.04%.
    body = json.loads(run("calc", "funding", "--premium=0.03%", "--premium=0.12%", "--json"))
    assert body == {
        "funding_rate": "0.00040000",
        "funding_rate_e8": 40_000,
        "average_premium": "0.000900000000",
    }
