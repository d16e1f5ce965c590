"""Bad input gets an error naming file and line, and the store file stays byte-for-byte the same."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import main
from tests.conftest import BTCUSDT_CAPTURE

TRADE = (
    '{{"stream":"btcusdt@trade","data":{{"e":"trade","E":{t},"T":{t},"s":"BTCUSDT",'
    '"t":{id},"p":"{p}","q":"0.010","X":"MARKET","m":false}}}}'
)


def _trade_line(local: int, t_ms: int, trade_id: int, price: str = "61800.30") -> str:
    return f"{local} " + TRADE.format(t=t_ms, id=trade_id, p=price)


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def _good_lines(n: int = 5) -> list[str]:
    return [
        _trade_line(1_723_161_255_000_000_000 + i, 1_723_161_256_000 + i, 100 + i) for i in range(n)
    ]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A store on disk already holding one good file."""
    path = tmp_path / "store.duckdb"
    good = _write(tmp_path / "good.txt", _good_lines())
    result = CliRunner().invoke(main, ["--db", str(path), "ingest", str(good)])
    assert result.exit_code == 0, result.output
    return path


def _refused(db: Path, *args: str) -> str:
    before = _sha(db)
    result = CliRunner().invoke(main, ["--db", str(db), "ingest", *args])
    assert result.exit_code != 0
    assert _sha(db) == before, "a refused ingest changed the store file"
    return result.output


def test_truncated_json_line(db: Path, tmp_path: Path) -> None:
    lines = _good_lines(4)
    lines[2] = lines[2][:60]
    bad = _write(tmp_path / "trunc.txt", lines)
    out = _refused(db, str(bad))
    assert f"{bad}:3: invalid JSON" in out


def test_non_numeric_price(db: Path, tmp_path: Path) -> None:
    lines = _good_lines(4)
    lines[3] = _trade_line(1_723_161_255_000_000_009, 1_723_161_256_009, 999, price="61,800.3")
    bad = _write(tmp_path / "price.txt", lines)
    out = _refused(db, str(bad))
    assert f"{bad}:4: bad value" in out and "61,800.3" in out


def test_timestamps_going_backwards(db: Path, tmp_path: Path) -> None:
    lines = _good_lines(3)
    lines.append(_trade_line(1_723_161_255_000_000_100, 1_723_161_250_000, 500))
    bad = _write(tmp_path / "back.txt", lines)
    out = _refused(db, str(bad))
    assert f"{bad}:4: trades timestamp goes backwards by 6.002 s" in out


def test_a_file_of_another_format(db: Path, tmp_path: Path) -> None:
    csv = _write(
        tmp_path / "trades.csv", ["id,price,qty,quote_qty,time,is_buyer_maker", "1,2,3,6,4,true"]
    )
    out = _refused(db, "--format", "binance-ws", str(csv))
    assert f"{csv}:1: expected '<local_ns> <json>'" in out


def test_unknown_stream(db: Path, tmp_path: Path) -> None:
    lines = [*_good_lines(2), '1723161255000000009 {"stream":"x@kline","data":{"e":"kline"}}']
    bad = _write(tmp_path / "kline.txt", lines)
    out = _refused(db, str(bad))
    assert f"{bad}:3: unknown stream event 'kline'" in out


def test_one_bad_file_means_no_file_is_written(db: Path, tmp_path: Path) -> None:
    good = BTCUSDT_CAPTURE
    lines = _good_lines(3)
    lines[1] = lines[1].replace('"p"', '"price"')
    bad = tmp_path / "missing.txt.gz"
    bad.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    out = _refused(db, str(good), str(bad))
    assert f"{bad}:2: missing field 'p'" in out


def test_dry_run_validates_without_writing(db: Path) -> None:
    before = _sha(db)
    result = CliRunner().invoke(
        main, ["--db", str(db), "ingest", "--dry-run", str(BTCUSDT_CAPTURE)]
    )
    assert result.exit_code == 0, result.output
    assert "dry run, nothing written" in result.output
    assert _sha(db) == before
