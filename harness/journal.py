"""The journal: every state change of a run, one record each, in simulation order.

A record is (ts, seq, kind, account, symbol) plus named fields whose values are int, str or bool.
Floats are refused: money, prices and quantities are fixed-point integers everywhere in the venue,
and a float in the journal would make the fingerprint depend on formatting and rounding.

Canonical text (UTF-8): one JSON object per line, each line ending in `\\n`; keys in the order
ts, seq, kind, account, symbol, then the fields sorted by name; no spaces; integers in decimal;
strings with only `"`, `\\` and control characters escaped (`\\n`, `\\t`, ... and `\\u001f` style),
which is `json.dumps(..., sort_keys=True, separators=(",", ":"), ensure_ascii=False)`. The SHA-256
of that text is the run's fingerprint: two runs of one scenario must print the same one, and the
first differing line is where they diverged.

`journal.parquet` holds one row a record: `ts`, `seq` (Int64), `kind`, `account`, `symbol`
(String) and `fields`, the record's fields as a canonical JSON object string (field values may be
integers wider than 64 bits, which a typed column could not hold). The file's key-value metadata
carries the fingerprint, and reading checks it.
"""

from __future__ import annotations

import hashlib
import json
import operator
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import NamedTuple

import orjson
import polars as pl

ORDER_ACCEPTED = "order_accepted"
ORDER_REJECTED = "order_rejected"
ORDER_CANCELLED = "order_cancelled"
ORDER_EXPIRED = "order_expired"
ORDER_AMENDED = "order_amended"
ORDER_TRIGGERED = "order_triggered"
FILL = "fill"
POSITION = "position"
BALANCE = "balance"
FEE = "fee"
FUNDING = "funding"
MARK = "mark"
MARGIN_CALL = "margin_call"
LIQUIDATION = "liquidation"
INSURANCE_FUND = "insurance_fund"
ADL = "adl"
REQUEST_THROTTLED = "request_throttled"
LIMITS_CHANGED = "limits_changed"

# The risk monitor (harness/risk): one record per alert, with its top contributing features.
RISK_ALERT = "risk_alert"
GUARDRAIL = "guardrail"

# The engine queue under overload (venue/gateway/gateway.py): an exit let through an overloaded
# queue, and the answer to a reconciliation query after an unknown status.
OVERLOAD_PASSED = "overload_passed"
ORDER_QUERY = "order_query"
# The gateway's engine queues, sampled (harness/venue/gateway/runtime.py): depth when it changed.
ENGINE_QUEUE = "engine_queue"

KINDS = (
    ORDER_ACCEPTED,
    ORDER_REJECTED,
    ORDER_CANCELLED,
    ORDER_EXPIRED,
    ORDER_AMENDED,
    ORDER_TRIGGERED,
    FILL,
    POSITION,
    BALANCE,
    FEE,
    FUNDING,
    MARK,
    MARGIN_CALL,
    LIQUIDATION,
    INSURANCE_FUND,
    ADL,
    REQUEST_THROTTLED,
    RISK_ALERT,
    LIMITS_CHANGED,
    GUARDRAIL,
    OVERLOAD_PASSED,
    ORDER_QUERY,
    ENGINE_QUEUE,
)
"""The kinds the harness itself writes. The vocabulary is open: any lower_snake_case name works."""

RESERVED = ("ts", "seq", "kind", "account", "symbol")

FORMAT_VERSION = "1"
_META_FORMAT = "harness.journal.format"
_META_FINGERPRINT = "harness.journal.fingerprint"

_KIND = re.compile(r"[a-z][a-z0-9_]*")

_HASH_EVERY = 2048
"""Lines hashed per `sha256.update` call, so hashing costs one call per batch, not per record."""

Value = int | str | bool

_PLAIN = frozenset((int, str, bool))
_RESERVED = frozenset(RESERVED)
_SORTED = orjson.OPT_SORT_KEYS


class JournalError(ValueError):
    """A record that cannot be journaled, or a journal file that does not match its fingerprint."""


def _decode(body: str) -> dict[str, Value]:
    """A record's fields. orjson reads a body several times faster than json (a run's outputs
    read the whole journal a few times), but it reads an integer beyond 64 bits as a float;
    fields are never floats, so a float found means such an integer and json reads it again."""
    fields: dict[str, Value] = orjson.loads(body)
    for value in fields.values():
        if type(value) is float:
            exact: dict[str, Value] = json.loads(body)
            return exact
    return fields


class Record(NamedTuple):
    ts: int
    seq: int
    kind: str
    account: str
    symbol: str
    fields: dict[str, Value]


def _canonical(value: object) -> str:
    """The reference encoder that defines the canonical form; orjson produces the same text
    (a test checks every character class) and is used whenever it can be."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _line(ts: int, seq: int, kind: str, account: str, symbol: str, body: str) -> str:
    """One canonical line without its newline, from encoded parts (`body` is the fields object)."""
    head = f'{{"ts":{ts},"seq":{seq},"kind":{kind},"account":{account},"symbol":{symbol}'
    return f"{head},{body[1:]}" if len(body) > 2 else head + "}"


class Journal:
    """An append-only list of records with an incrementally computed fingerprint."""

    __slots__ = (
        "_accounts",
        "_bodies",
        "_encoded_kinds",
        "_encoded_names",
        "_kinds",
        "_last_ts",
        "_listeners",
        "_pending",
        "_sha",
        "_symbols",
        "_ts",
    )

    def __init__(self) -> None:
        self._ts: list[int] = []
        self._kinds: list[str] = []
        self._accounts: list[str] = []
        self._symbols: list[str] = []
        self._bodies: list[str] = []
        self._pending: list[str] = []
        self._sha = hashlib.sha256()
        self._last_ts: int | None = None
        # Encoded kinds, and accounts and symbols: few distinct values, each checked once.
        self._encoded_kinds: dict[str, str] = {}
        self._encoded_names: dict[str, str] = {}
        self._listeners: list[Callable[[Record], None]] = []

    def subscribe(self, listener: Callable[[Record], None]) -> None:
        """Call `listener` with each record as it is appended, in seq order, so a monitor sees
        the run while it happens. Listeners must neither change the record's fields nor append
        (a monitor journals from a process of its own, so records keep a single order). With no
        listener an append costs one truthiness test more."""
        self._listeners.append(listener)

    def __len__(self) -> int:
        return len(self._ts)

    def append(
        self, ts: int, kind: str, account: str = "", symbol: str = "", /, **fields: Value
    ) -> int:
        """Add one record; returns its seq. `account` and `symbol` are "" for venue-wide records
        (a mark price of no account, an insurance fund movement of no symbol)."""
        if type(ts) is not int:
            ts = self._integer_ts(ts)
        if self._last_ts is not None and ts < self._last_ts:
            raise JournalError(f"{kind} at {ts} appended after a record at {self._last_ts}")
        kind_e = self._encoded_kinds.get(kind) or self._encode_kind(kind)
        names = self._encoded_names
        account_e = names.get(account) or self._encode_name(account, "account")
        symbol_e = names.get(symbol) or self._encode_name(symbol, "symbol")
        if fields:
            for value in fields.values():
                if type(value) not in _PLAIN:
                    fields = self._normalized(kind, fields)
                    break
            if not _RESERVED.isdisjoint(fields):
                raise JournalError(f"{kind}: field names {RESERVED} are reserved")
            try:
                body = orjson.dumps(fields, option=_SORTED).decode()
            except TypeError:  # an integer beyond 64 bits
                body = _canonical(fields)
        else:
            body = "{}"
        seq = len(self._ts)
        self._last_ts = ts
        self._ts.append(ts)
        self._kinds.append(kind)
        self._accounts.append(account)
        self._symbols.append(symbol)
        self._bodies.append(body)
        pending = self._pending
        pending.append(_line(ts, seq, kind_e, account_e, symbol_e, body))
        if len(pending) >= _HASH_EVERY:
            self._hash_pending()
        if self._listeners:
            record = Record(ts, seq, kind, account, symbol, fields)
            for listener in self._listeners:
                listener(record)
        return seq

    @staticmethod
    def _integer_ts(ts: object) -> int:
        try:
            if not isinstance(ts, bool):
                return operator.index(ts)  # type: ignore[arg-type]
        except TypeError:
            pass
        raise JournalError(f"ts must be integer ns, got {ts!r}")

    @staticmethod
    def _normalized(kind: str, fields: Mapping[str, object]) -> dict[str, Value]:
        """Fields with int subclasses and NumPy integers made ints and str subclasses strs;
        anything else, floats above all, is refused."""
        result: dict[str, Value] = {}
        for name, value in fields.items():
            if type(value) in _PLAIN:
                result[name] = value  # type: ignore[assignment]
            elif isinstance(value, str):
                result[name] = str(value)
            elif isinstance(value, float) or not hasattr(value, "__index__"):
                raise JournalError(
                    f"{kind}.{name} = {value!r} ({type(value).__name__}): journal values are "
                    "int, str or bool; express money, prices and quantities as fixed-point "
                    "integers"
                )
            else:
                result[name] = operator.index(value)
        return result

    def _encode_kind(self, kind: str) -> str:
        if not isinstance(kind, str) or not _KIND.fullmatch(kind):
            raise JournalError(f"kind must be lower_snake_case, got {kind!r}")
        self._encoded_kinds[kind] = encoded = _canonical(kind)
        return encoded

    def _encode_name(self, name: str, what: str) -> str:
        if not isinstance(name, str):
            raise JournalError(f"{what} must be a string, got {name!r}")
        self._encoded_names[name] = encoded = _canonical(name)
        return encoded

    def _hash_pending(self) -> None:
        pending = self._pending
        if pending:
            pending.append("")
            self._sha.update("\n".join(pending).encode())
            pending.clear()

    def fingerprint(self) -> str:
        """SHA-256 (hex) of the canonical text of everything appended so far."""
        self._hash_pending()
        return self._sha.hexdigest()

    def lines(self, start: int = 0) -> Iterator[str]:
        """Canonical lines (without newlines) from seq `start` on."""
        for seq in range(start, len(self._ts)):
            yield _line(
                self._ts[seq],
                seq,
                _canonical(self._kinds[seq]),
                _canonical(self._accounts[seq]),
                _canonical(self._symbols[seq]),
                self._bodies[seq],
            )

    def records(self, start: int = 0) -> Iterator[Record]:
        """Records from seq `start` on; a reader such as a monitor can resume where it stopped."""
        for seq in range(start, len(self._ts)):
            yield Record(
                self._ts[seq],
                seq,
                self._kinds[seq],
                self._accounts[seq],
                self._symbols[seq],
                _decode(self._bodies[seq]),
            )

    def to_frame(self) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "ts": pl.Series(self._ts, dtype=pl.Int64),
                "seq": pl.Series(range(len(self._ts)), dtype=pl.Int64),
                "kind": pl.Series(self._kinds, dtype=pl.String),
                "account": pl.Series(self._accounts, dtype=pl.String),
                "symbol": pl.Series(self._symbols, dtype=pl.String),
                "fields": pl.Series(self._bodies, dtype=pl.String),
            }
        )

    def write_parquet(self, path: str | Path) -> str:
        """Write `journal.parquet`; returns the fingerprint stored in its metadata."""
        fingerprint = self.fingerprint()
        metadata = {_META_FORMAT: FORMAT_VERSION, _META_FINGERPRINT: fingerprint}
        self.to_frame().write_parquet(path, metadata=metadata)
        return fingerprint

    @classmethod
    def read_parquet(cls, path: str | Path) -> Journal:
        """Rebuild a journal from its file, re-checking every record and the fingerprint."""
        metadata = pl.read_parquet_metadata(path)
        if metadata.get(_META_FORMAT) != FORMAT_VERSION:
            raise JournalError(f"{path}: not a journal of format {FORMAT_VERSION}")
        frame = pl.read_parquet(path).sort("seq")
        journal = cls()
        for ts, seq, kind, account, symbol, body in frame.iter_rows():
            if seq != len(journal):
                raise JournalError(f"{path}: seq {seq} found where {len(journal)} was expected")
            journal.append(ts, kind, account, symbol, **_decode(body))
        if journal.fingerprint() != metadata.get(_META_FINGERPRINT):
            raise JournalError(f"{path}: records do not match the stored fingerprint")
        return journal
