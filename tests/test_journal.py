"""The journal's canonical text, fingerprint, refusal of floats and Parquet round trip."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from harness.journal import FILL, MARK, ORDER_ACCEPTED, Journal, JournalError, Record

TS = 1_723_161_256_000_000_000


def _sample() -> Journal:
    journal = Journal()
    journal.append(TS, MARK, "", "BTCUSDT", mark=600_001, index=600_000)
    journal.append(
        TS + 5, ORDER_ACCEPTED, "mm1", "BTCUSDT", side="buy", qty=25, price=599_990, post_only=True
    )
    journal.append(TS + 5, FILL, "mm1", "BTCUSDT", fee=-3, qty=25, price=599_990, maker=True)
    journal.append(TS + 9, "custom_event", "mm1", "", note='quote "x"\n\tß')
    return journal


GOLDEN = (
    '{"ts":1723161256000000000,"seq":0,"kind":"mark","account":"","symbol":"BTCUSDT",'
    '"index":600000,"mark":600001}\n'
    '{"ts":1723161256000000005,"seq":1,"kind":"order_accepted","account":"mm1",'
    '"symbol":"BTCUSDT","post_only":true,"price":599990,"qty":25,"side":"buy"}\n'
    '{"ts":1723161256000000005,"seq":2,"kind":"fill","account":"mm1","symbol":"BTCUSDT",'
    '"fee":-3,"maker":true,"price":599990,"qty":25}\n'
    '{"ts":1723161256000000009,"seq":3,"kind":"custom_event","account":"mm1","symbol":"",'
    '"note":"quote \\"x\\"\\n\\tß"}\n'
)


def test_canonical_text_is_stable() -> None:
    journal = _sample()
    assert "".join(line + "\n" for line in journal.lines()) == GOLDEN
    assert journal.fingerprint() == hashlib.sha256(GOLDEN.encode("utf-8")).hexdigest()


def test_canonical_text_matches_the_reference_encoder_for_every_kind_of_character() -> None:
    text = "".join(chr(c) for c in [*range(0x80), 0x7F, 0xA0, 0x2028, 0x2029, 0xFEFF, 0x1F600])
    journal = Journal()
    journal.append(TS, "text", "ü", "BTCUSDT", s=text, big=2**70, neg=-(2**64), small=-1)
    expected = {
        "ts": TS,
        "seq": 0,
        "kind": "text",
        "account": "ü",
        "symbol": "BTCUSDT",
        "big": 2**70,
        "neg": -(2**64),
        "s": text,
        "small": -1,
    }
    reference = json.dumps(expected, separators=(",", ":"), ensure_ascii=False)
    assert next(journal.lines()) == reference
    # Reading it back gives the same values, the integers beyond 64 bits included.
    assert next(journal.records()).fields == {
        "big": 2**70,
        "neg": -(2**64),
        "s": text,
        "small": -1,
    }


def test_fingerprint_is_incremental_and_sensitive_to_one_field() -> None:
    base = _sample()
    again = _sample()
    assert base.fingerprint() == again.fingerprint()
    changed = Journal()
    for record in _sample().records():
        fields = dict(record.fields)
        if record.seq == 2:
            fields["fee"] = -4
        changed.append(record.ts, record.kind, record.account, record.symbol, **fields)
    assert changed.fingerprint() != base.fingerprint()
    # Asking mid-run does not disturb the final value.
    halfway = Journal()
    for record in _sample().records():
        halfway.append(record.ts, record.kind, record.account, record.symbol, **record.fields)
        halfway.fingerprint()
    assert halfway.fingerprint() == base.fingerprint()


def test_fingerprint_over_many_batches() -> None:
    journal = Journal()
    lines = []
    for i in range(5_000):
        journal.append(TS + i, MARK, "", "BTCUSDT", mark=i)
        head = f'{{"ts":{TS + i},"seq":{i},"kind":"mark","account":"","symbol":"BTCUSDT"'
        lines.append(f'{head},"mark":{i}}}\n')
    assert journal.fingerprint() == hashlib.sha256("".join(lines).encode()).hexdigest()
    assert len(journal) == 5_000


@pytest.mark.parametrize(
    "value", [1.0, 0.1, float("nan"), Decimal("1.5"), None, [1], np.float64(2)]
)
def test_non_integer_values_are_refused(value: object) -> None:
    journal = Journal()
    with pytest.raises(JournalError, match=r"fill\.price = .*fixed-point integers"):
        journal.append(TS, FILL, "mm1", "BTCUSDT", qty=1, price=value)  # type: ignore[arg-type]
    assert len(journal) == 0


def test_integer_likes_become_ints() -> None:
    journal = Journal()
    journal.append(TS, FILL, "mm1", "BTCUSDT", qty=np.int64(3), price=np.uint32(7))  # type: ignore[arg-type]
    assert next(journal.records()).fields == {"price": 7, "qty": 3}


@pytest.mark.parametrize(
    ("ts", "kind", "fields", "message"),
    [
        (TS + 0.5, FILL, {}, "integer ns"),
        (TS, "Fill", {}, "lower_snake_case"),
        (TS, "", {}, "lower_snake_case"),
        (TS, FILL, {"ts": 1}, "reserved"),
        (TS, FILL, {"symbol": "ETHUSDT"}, "reserved"),
    ],
)
def test_malformed_records_are_refused(
    ts: object, kind: str, fields: dict[str, int], message: str
) -> None:
    with pytest.raises(JournalError, match=message):
        Journal().append(ts, kind, "mm1", "BTCUSDT", **fields)  # type: ignore[arg-type]


def test_time_never_goes_backwards() -> None:
    journal = Journal()
    journal.append(TS, MARK, "", "BTCUSDT", mark=1)
    journal.append(TS, MARK, "", "BTCUSDT", mark=2)
    with pytest.raises(JournalError, match="appended after"):
        journal.append(TS - 1, MARK, "", "BTCUSDT", mark=3)


def test_records_resume_from_a_seq() -> None:
    journal = _sample()
    tail = list(journal.records(start=2))
    assert [r.seq for r in tail] == [2, 3]
    assert tail[0] == Record(
        TS + 5, 2, FILL, "mm1", "BTCUSDT", {"fee": -3, "maker": True, "price": 599_990, "qty": 25}
    )


def test_parquet_round_trip(tmp_path: Path) -> None:
    journal = _sample()
    journal.append(TS + 10, "wide", "mm1", "BTCUSDT", amount=2**80)
    path = tmp_path / "journal.parquet"
    fingerprint = journal.write_parquet(path)
    frame = pl.read_parquet(path)
    assert frame.columns == ["ts", "seq", "kind", "account", "symbol", "fields"]
    assert frame.schema["ts"] == pl.Int64 and frame.schema["fields"] == pl.String
    assert frame.row(2) == (
        TS + 5,
        2,
        FILL,
        "mm1",
        "BTCUSDT",
        '{"fee":-3,"maker":true,"price":599990,"qty":25}',
    )
    back = Journal.read_parquet(path)
    assert back.fingerprint() == fingerprint == journal.fingerprint()
    assert list(back.records()) == list(journal.records())
    assert list(back.lines()) == list(journal.lines())


def test_parquet_that_does_not_match_its_fingerprint_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "journal.parquet"
    _sample().write_parquet(path)
    metadata = pl.read_parquet_metadata(path)
    tampered = pl.read_parquet(path).with_columns(
        pl.when(pl.col("seq") == 2)
        .then(pl.lit('{"fee":0,"maker":true,"price":599990,"qty":25}'))
        .otherwise(pl.col("fields"))
        .alias("fields")
    )
    tampered.write_parquet(path, metadata=metadata)
    with pytest.raises(JournalError, match="do not match the stored fingerprint"):
        Journal.read_parquet(path)


def test_empty_journal() -> None:
    journal = Journal()
    assert journal.fingerprint() == hashlib.sha256(b"").hexdigest()
    assert journal.to_frame().height == 0
