"""A sweep's grid: `--grid key=v1,v2` options and seeds expanded into runs with stable ids.

Values are TOML values (`0.005`, `"decay"`, `true`, `[1, 2]`), read by parsing the option's text
as the body of a TOML array, so commas inside strings, arrays and inline tables just work.
Expansion order is fixed: the first grid key varies slowest, seeds fastest. A run's id is a
digest of the base scenario's text, its overrides and its seed, so the same run keeps its id
across invocations (what `--resume` matches on) and a changed base file gets new ids.
"""

from __future__ import annotations

import datetime
import hashlib
import itertools
import json
import re
import tomllib
from dataclasses import dataclass
from typing import Any

KEY_PATTERN = re.compile(r"[A-Za-z_][\w-]*(\[\d+\])*(\.[A-Za-z_][\w-]*(\[\d+\])*)*")


class GridError(ValueError):
    """A `--grid` option or seed count that cannot be expanded."""


@dataclass(frozen=True)
class Axis:
    key: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class RunSpec:
    """One run of a sweep: everything a worker needs, picklable and free of open handles."""

    run_id: str
    index: int
    overrides: tuple[tuple[str, Any], ...]
    seed: int
    base_text: str
    source: str
    db: str | None
    """Tick store file or exported Parquet folder (absolute), or None for the scenario's own."""


def parse_axis(option: str) -> Axis:
    """`key=v1,v2,...` -> Axis; the key is a dotted path with optional list indices."""
    key, sep, text = option.partition("=")
    key = key.strip()
    if not sep or not text.strip():
        raise GridError(f"--grid {option!r}: expected key=value[,value...]")
    if not KEY_PATTERN.fullmatch(key):
        raise GridError(f"--grid {option!r}: {key!r} is not a dotted key such as a.b[0].c")
    try:
        values = tomllib.loads(f"v = [{text}]")["v"]
    except tomllib.TOMLDecodeError as error:
        raise GridError(f"--grid {key}: values are not TOML values ({error})") from None
    literals = [toml_literal(value) for value in values]
    for i, literal in enumerate(literals):
        if literal in literals[:i]:
            raise GridError(f"--grid {key}: value {literal} is given twice")
    return Axis(key, tuple(values))


def toml_literal(value: Any) -> str:
    """The canonical TOML text of a parsed value: what ids are computed from and tables show."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_literal(item) for item in value) + "]"
    if isinstance(value, dict):
        items = (f"{json.dumps(k)} = {toml_literal(v)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    raise TypeError(f"not a TOML value: {value!r}")


def expand(
    axes: list[Axis],
    seeds: list[int],
    *,
    base_text: str,
    source: str,
    db: str | None,
) -> list[RunSpec]:
    """Every combination of the axes' values, each with every seed, in a fixed order."""
    keys = [axis.key for axis in axes]
    for i, key in enumerate(keys):
        if key in keys[:i]:
            raise GridError(f"--grid {key} is given twice")
    if "seed" in keys:
        raise GridError("--grid seed: seeds are set with --seeds N")
    base_digest = hashlib.sha256(base_text.encode("utf-8")).hexdigest()
    runs: list[RunSpec] = []
    for combo in itertools.product(*(axis.values for axis in axes)):
        overrides = tuple(zip(keys, combo, strict=True))
        for seed in seeds:
            runs.append(
                RunSpec(
                    run_id=run_id(base_digest, overrides, seed),
                    index=len(runs),
                    overrides=overrides,
                    seed=seed,
                    base_text=base_text,
                    source=source,
                    db=db,
                )
            )
    return runs


def run_id(base_digest: str, overrides: tuple[tuple[str, Any], ...], seed: int) -> str:
    canonical = "\n".join(
        [base_digest, *(f"{key} = {toml_literal(value)}" for key, value in overrides), str(seed)]
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def seed_list(base_seed: int, count: int) -> list[int]:
    """`--seeds N`: the scenario's own seed and the N-1 after it (N=1 reproduces `replay`)."""
    if count < 1:
        raise GridError(f"--seeds must be at least 1, got {count}")
    return [base_seed + i for i in range(count)]
