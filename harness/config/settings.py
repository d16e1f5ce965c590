"""The settings kit: declare a setting once, get its loader, its error messages and its docs.

A settings class is a frozen dataclass whose fields are made with `setting(...)`: the field's
default is the setting's default, and its metadata carries the TOML key, the `Reader` that checks
and converts the value, and the sentence that documents it. `Table` reads a TOML table into such a
class (unknown keys are errors, with a did-you-mean), and `document` writes its reference table.
Nothing here knows a scenario's sections; they live in the sibling modules.

Conventions: times become int ns since the epoch, durations int ns, money and rates `Decimal`
(exact; the venue turns them into its fixed-point integers), choices plain strings.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
import typing
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from harness.sim.clock import parse_instant, to_ns
from harness.units import NS_PER_MS

T = TypeVar("T")

NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.-]*"
"""Names a user chooses: scenarios, agents, accounts, bracket tables."""
SYMBOL_PATTERN = r"[A-Z0-9][A-Z0-9_-]*"


class ScenarioError(ValueError):
    """A scenario that cannot be run, located by file and dotted key."""

    def __init__(self, source: str, key: str, message: str) -> None:
        self.source = source
        self.key = key
        self.message = message
        super().__init__(f"{source}: {key}: {message}" if key else f"{source}: {message}")


class SettingError(ValueError):
    """A bad value at a dotted key relative to the table being read; the loader adds the table's
    own position and the file name."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        self.message = message
        super().__init__(f"{key}: {message}" if key else message)


def join_key(prefix: str, key: str) -> str:
    if not prefix:
        return key
    return f"{prefix}{key}" if key.startswith("[") else f"{prefix}.{key}"


def describe(value: object) -> str:
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# --- readers: check one TOML value and convert it -------------------------------------------


class Reader(Generic[T]):
    """Reads one TOML value at a dotted key; `type_doc` and `show` feed the reference tables."""

    type_doc = "value"

    def read(self, value: object, key: str) -> T:
        raise NotImplementedError

    def show(self, value: Any) -> str:
        if isinstance(value, str | Path):
            return f'"{value}"'
        if isinstance(value, tuple):
            return "[" + ", ".join(self.show(item) for item in value) + "]"
        if isinstance(value, Mapping) and not value:
            return "{}"
        return str(value)


def _bounds_doc(
    minimum: object, maximum: object, *, open_min: bool = False, open_max: bool = False
) -> str:
    parts = []
    if minimum is not None:
        parts.append(f"{'>' if open_min else '≥'} {minimum}")
    if maximum is not None:
        parts.append(f"{'<' if open_max else '≤'} {maximum}")
    return f" ({', '.join(parts)})" if parts else ""


class Integer(Reader[int]):
    def __init__(self, minimum: int | None = None, maximum: int | None = None) -> None:
        self.minimum, self.maximum = minimum, maximum
        self.type_doc = "integer" + _bounds_doc(minimum, maximum)

    def read(self, value: object, key: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise SettingError(key, f"expected an integer, got {describe(value)}")
        if (self.minimum is not None and value < self.minimum) or (
            self.maximum is not None and value > self.maximum
        ):
            raise SettingError(key, f"expected an {self.type_doc}, got {value}")
        return value


class Number(Reader[float]):
    """A model parameter that is not money or time (a sigma, a quantile level)."""

    def __init__(self, minimum: float | None = None, maximum: float | None = None) -> None:
        self.minimum, self.maximum = minimum, maximum
        self.type_doc = "number" + _bounds_doc(minimum, maximum)

    def read(self, value: object, key: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SettingError(key, f"expected a number, got {describe(value)}")
        number = float(value)
        if (
            not math.isfinite(number)
            or (self.minimum is not None and number < self.minimum)
            or (self.maximum is not None and number > self.maximum)
        ):
            raise SettingError(key, f"expected a finite {self.type_doc}, got {value}")
        return number


class DecimalNumber(Reader[Decimal]):
    """An exact decimal: a TOML integer, a float (read through its shortest decimal form, so 0.1
    is exactly 0.1), or a string such as "0.0002" or "0.02%"."""

    def __init__(
        self,
        minimum: Decimal | None = None,
        maximum: Decimal | None = None,
        *,
        open_min: bool = False,
        open_max: bool = False,
    ) -> None:
        self.minimum, self.maximum = minimum, maximum
        self.open_min, self.open_max = open_min, open_max
        self.bounds = _bounds_doc(minimum, maximum, open_min=open_min, open_max=open_max)
        self.type_doc = "decimal" + self.bounds

    def read(self, value: object, key: str) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise SettingError(key, f"expected a number, got {describe(value)}")
        text = repr(value) if isinstance(value, float) else str(value).strip()
        scale = Decimal(1)
        if text.endswith("%"):
            text, scale = text[:-1], Decimal("0.01")
        try:
            number = Decimal(text) * scale
        except InvalidOperation:
            raise SettingError(key, f"expected a number, got {describe(value)}") from None
        too_low = self.minimum is not None and (
            number <= self.minimum if self.open_min else number < self.minimum
        )
        too_high = self.maximum is not None and (
            number >= self.maximum if self.open_max else number > self.maximum
        )
        if not number.is_finite() or too_low or too_high:
            raise SettingError(key, f"expected a number{self.bounds}, got {describe(value)}")
        return number

    def show(self, value: Any) -> str:
        return f'"{value}"'


class Text(Reader[str]):
    type_doc = "string"

    def __init__(self, pattern: str | None = None, what: str = "string") -> None:
        self.pattern = re.compile(pattern) if pattern else None
        self.what = what

    def read(self, value: object, key: str) -> str:
        if not isinstance(value, str):
            raise SettingError(key, f"expected a string, got {describe(value)}")
        if self.pattern is not None and not self.pattern.fullmatch(value):
            raise SettingError(key, f"{value!r} is not a valid {self.what}")
        return value


class Choice(Reader[str]):
    def __init__(self, *options: str) -> None:
        self.options = options
        self.type_doc = " or ".join(f'"{option}"' for option in options)

    def read(self, value: object, key: str) -> str:
        if not isinstance(value, str):
            raise SettingError(key, f"expected a string, got {describe(value)}")
        if value not in self.options:
            expected = ", ".join(repr(option) for option in self.options)
            raise SettingError(key, f"unknown value {value!r} (expected one of {expected})")
        return value


class Duration(Reader[int]):
    """A duration written in milliseconds (integer or decimal) and held as int ns."""

    def __init__(self, *, positive: bool = False) -> None:
        self.positive = positive
        self.type_doc = "milliseconds" + (" (> 0)" if positive else " (≥ 0)")

    def read(self, value: object, key: str) -> int:
        try:
            ns = to_ns(value, NS_PER_MS)
        except ValueError as error:
            raise SettingError(key, str(error)) from None
        if ns < 0 or (self.positive and ns == 0):
            raise SettingError(key, f"expected {self.type_doc}, got {describe(value)}")
        return ns

    def show(self, value: Any) -> str:
        return str(Decimal(value) / NS_PER_MS)


class Instant(Reader[int]):
    type_doc = "time: ISO 8601 (UTC unless an offset is given) or int ns"

    def read(self, value: object, key: str) -> int:
        try:
            return parse_instant(value)
        except ValueError as error:
            raise SettingError(key, str(error)) from None


class PathValue(Reader[Path]):
    type_doc = "path"

    def read(self, value: object, key: str) -> Path:
        if not isinstance(value, str) or not value:
            raise SettingError(key, f"expected a path, got {describe(value)}")
        return Path(value)


class ListOf(Reader[tuple[T, ...]]):
    def __init__(self, item: Reader[T], *, min_len: int = 0, unique: bool = False) -> None:
        self.item, self.min_len, self.unique = item, min_len, unique
        self.type_doc = f"list of {item.type_doc}"

    def read(self, value: object, key: str) -> tuple[T, ...]:
        if not isinstance(value, list):
            raise SettingError(key, f"expected a list, got {describe(value)}")
        if len(value) < self.min_len:
            raise SettingError(key, f"expected at least {self.min_len} item(s)")
        items = tuple(self.item.read(item, f"{key}[{i}]") for i, item in enumerate(value))
        if self.unique:
            for i, item in enumerate(items):
                if item in items[:i]:
                    raise SettingError(f"{key}[{i}]", f"duplicate {describe(item)}")
        return items


class FreeTable(Reader[Mapping[str, Any]]):
    """A table passed on unchecked (a strategy's own parameters)."""

    type_doc = "table"

    def read(self, value: object, key: str) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise SettingError(key, f"expected a table, got {describe(value)}")
        return MappingProxyType(value)


class Table(Reader[T]):
    """A TOML table read into a dataclass declared with `setting(...)` fields."""

    def __init__(self, cls: Callable[..., T]) -> None:
        self.cls = cls
        self.type_doc = "table"

    def settings(self) -> list[tuple[str, str, Setting]]:
        """(TOML key, field name, declaration) in declaration order."""
        return [
            (spec.key or _toml_key(field.name, spec.reader), field.name, spec)
            for field in dataclasses.fields(self.cls)  # type: ignore[arg-type]
            if isinstance(spec := field.metadata.get(_META), Setting)
        ]

    def read(self, value: object, key: str) -> T:
        if not isinstance(value, dict):
            raise SettingError(key, f"expected a table, got {describe(value)}")
        declared = {toml_key: (attr, spec) for toml_key, attr, spec in self.settings()}
        for toml_key in value:
            if toml_key not in declared:
                hint = difflib.get_close_matches(toml_key, list(declared), n=1)
                known = f"did you mean {hint[0]!r}?" if hint else f"known: {', '.join(declared)}"
                raise SettingError(join_key(key, toml_key), f"unknown key ({known})")
        kwargs: dict[str, Any] = {}
        for toml_key, (attr, spec) in declared.items():
            if toml_key in value:
                kwargs[attr] = spec.reader.read(value[toml_key], join_key(key, toml_key))
            elif spec.required:
                raise SettingError(join_key(key, toml_key), "missing (this key is required)")
        try:
            return self.cls(**kwargs)
        except SettingError as error:
            raise SettingError(join_key(key, error.key), error.message) from None


def _toml_key(name: str, reader: Reader[Any]) -> str:
    """A duration (or list of durations) held in ns as `<x>_ns` is written in ms as `<x>_ms`."""
    item = reader.item if isinstance(reader, ListOf) else reader
    return f"{name[:-3]}_ms" if isinstance(item, Duration) and name.endswith("_ns") else name


class MapOf(Reader[Mapping[str, T]]):
    """A table of tables keyed by a name the user chooses (a symbol)."""

    def __init__(self, item: Reader[T], key_pattern: str, key_doc: str) -> None:
        self.item, self.key_pattern, self.key_doc = item, re.compile(key_pattern), key_doc
        self.type_doc = f"tables keyed by {key_doc}"

    def read(self, value: object, key: str) -> Mapping[str, T]:
        if not isinstance(value, dict):
            raise SettingError(key, f"expected a table, got {describe(value)}")
        items: dict[str, T] = {}
        for name, item in value.items():
            if not self.key_pattern.fullmatch(name):
                raise SettingError(join_key(key, name), f"{name!r} is not a valid {self.key_doc}")
            items[name] = self.item.read(item, join_key(key, name))
        return MappingProxyType(items)


class Flag(Reader[bool]):
    """A TOML boolean; 0, 1 and "yes" are refused rather than guessed at."""

    type_doc = "boolean"

    def read(self, value: object, key: str) -> bool:
        if not isinstance(value, bool):
            raise SettingError(key, f"expected true or false, got {describe(value)}")
        return value

    def show(self, value: Any) -> str:
        return "true" if value else "false"


# --- declarations -----------------------------------------------------------------------------

_META = "harness.scenario"


@dataclasses.dataclass(frozen=True)
class Setting:
    reader: Reader[Any]
    doc: str
    key: str | None = None
    default_doc: str | None = None
    required: bool = False


def setting(
    reader: Reader[Any],
    doc: str,
    *,
    default: Any = dataclasses.MISSING,
    default_factory: Any = dataclasses.MISSING,
    key: str | None = None,
    default_doc: str | None = None,
) -> Any:
    """A dataclass field that is also a scenario setting.

    `key` is the TOML key when it differs from the field name (a duration field `<x>_ns` is
    `<x>_ms` without it); `default_doc` is shown instead of a default that reads badly (None).
    """
    meta = {_META: Setting(reader, doc, key, default_doc)}
    if default_factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def section(doc: str, *, default_factory: Callable[[], Any]) -> Any:
    """A field holding a whole sub-table; absent from the file means all its defaults."""
    return setting(Table(default_factory), doc, default_factory=default_factory)


def required(reader: Reader[Any], doc: str) -> Any:
    """A setting without a sensible default (an agent's name and strategy)."""
    return dataclasses.field(metadata={_META: Setting(reader, doc, required=True)})


# The field functions take `default` and `default_factory` by keyword, as PEP 681 requires for
# type checkers to see which fields have defaults.
@typing.dataclass_transform(
    kw_only_default=True,
    frozen_default=True,
    field_specifiers=(dataclasses.field, setting, section, required),
)
def config(cls: type[T]) -> type[T]:
    """Makes a settings class: a frozen, keyword-only dataclass."""
    return dataclasses.dataclass(frozen=True, kw_only=True)(cls)


def empty_mapping() -> Mapping[str, Any]:
    """The default of a table setting: read-only, so a default can never be changed in place."""
    return MappingProxyType({})


SHARE = DecimalNumber(Decimal(0), Decimal(1))
"""A share of something, from 0 to 1."""


# --- reference documentation --------------------------------------------------------------------


def document(table: Table[Any], heading: str, doc: str, out: list[str]) -> None:
    """Append the reference of `table` under `heading` to `out`: one markdown table of its plain
    settings, then one heading per nested table, in declaration order."""
    rows: list[str] = []
    nested: list[tuple[Table[Any], str, str]] = []
    defaults = {field.name: field for field in dataclasses.fields(table.cls)}  # type: ignore[arg-type]
    for key, attr, spec in table.settings():
        path = key if heading == "top level" else f"{heading.strip('[]')}.{key}"
        reader = spec.reader
        if isinstance(reader, Table):
            nested.append((reader, f"[{path}]", spec.doc))
            continue
        if isinstance(reader, MapOf) and isinstance(reader.item, Table):
            nested.append((reader.item, f"[{path}.<{reader.key_doc.upper()}>]", spec.doc))
            continue
        if isinstance(reader, ListOf) and isinstance(reader.item, Table):
            nested.append((reader.item, f"[[{path}]]", spec.doc))
            continue
        field = defaults[attr]
        if spec.required:
            shown = "required"
        elif spec.default_doc is not None:
            shown = spec.default_doc
        else:
            value = field.default
            if field.default_factory is not dataclasses.MISSING:
                value = field.default_factory()
            shown = f"`{reader.show(value)}`"
        cells = (f"`{key}`", reader.type_doc, shown, spec.doc)
        rows.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    out.append(f"### {heading if heading == 'top level' else f'`{heading}`'}")
    out.append("")
    out.append(doc)
    out.append("")
    if rows:
        out.extend(["| key | type | default | meaning |", "|---|---|---|---|", *rows, ""])
    for reader, sub_heading, sub_doc in nested:
        document(reader, sub_heading, sub_doc, out)
