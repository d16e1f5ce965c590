"""Input formats the tick store ingests, in the order content sniffing tries them."""

from __future__ import annotations

from harness.data.formats import binance_csv, tardis_csv
from harness.data.formats.base import Format
from harness.data.formats.binance_ws import BinanceWs
from harness.data.formats.cryptofeed_bybit import CryptofeedBybit

FORMATS: tuple[Format, ...] = (
    BinanceWs(),
    CryptofeedBybit(),
    *tardis_csv.FORMATS,
    *binance_csv.FORMATS,
)


def format_by_name(name: str) -> Format:
    for fmt in FORMATS:
        if fmt.name == name:
            return fmt
    known = ", ".join(f.name for f in FORMATS)
    raise ValueError(f"unknown format {name!r} (known: {known})")
