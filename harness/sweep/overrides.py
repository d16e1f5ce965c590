"""A run's scenario: the base file's TOML table, edited at dotted keys, read by the same loader.

Editing the table rather than the loaded dataclasses means a grid value goes through exactly the
checks a value written in the file would: bounds, choices, unknown keys (with the loader's
did-you-mean hints), cross-field rules. Missing tables on the way are created (`[liquidation]`
need not be in the base file); list items must already exist (`agents[1]` needs two agents).
"""

from __future__ import annotations

import copy
import re
import tomllib
from pathlib import Path
from typing import Any

from harness.config.scenario import Scenario
from harness.config.settings import ScenarioError, SettingError, Table

_SEGMENT = re.compile(r"([A-Za-z_][\w-]*)((?:\[\d+\])*)")


def set_key(table: dict[str, Any], key: str, value: Any) -> None:
    """Set `a.b[0].c` in a parsed TOML table; SettingError names the key when the path is bad."""
    steps: list[str | int] = []
    for part in key.split("."):
        match = _SEGMENT.fullmatch(part)
        if match is None:
            raise SettingError(key, "not a dotted key such as a.b[0].c")
        steps.append(match.group(1))
        steps.extend(int(index) for index in re.findall(r"\[(\d+)\]", match.group(2)))
    node: Any = table
    walked = ""
    for step, following in zip(steps, [*steps[1:], None], strict=True):
        here = f"{walked}[{step}]" if isinstance(step, int) else _dotted(walked, step)
        if following is None:
            _assign(node, step, value, here, walked)
            return
        node = _descend(node, step, following, here, walked)
        walked = here


def _dotted(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _descend(node: Any, step: str | int, following: str | int, here: str, parent: str) -> Any:
    if isinstance(step, int):
        if not isinstance(node, list):
            raise SettingError(parent, "is not a list")
        if step >= len(node):
            raise SettingError(here, f"index out of range (the list has {len(node)} item(s))")
        return node[step]
    if not isinstance(node, dict):
        raise SettingError(parent, "is not a table")
    if step not in node:
        if isinstance(following, int):
            raise SettingError(here, "missing (a list must exist before indexing it)")
        node[step] = {}
    return node[step]


def _assign(node: Any, step: str | int, value: Any, here: str, parent: str) -> None:
    if isinstance(step, int):
        if not isinstance(node, list):
            raise SettingError(parent, "is not a list")
        if step >= len(node):
            raise SettingError(here, f"index out of range (the list has {len(node)} item(s))")
        node[step] = value
    elif isinstance(node, dict):
        node[step] = value
    else:
        raise SettingError(parent, "is not a table")


def build_scenario(
    base_text: str, source: str, overrides: tuple[tuple[str, Any], ...], seed: int
) -> Scenario:
    """The base scenario with the overrides and seed applied; ScenarioError on any bad value."""
    try:
        table = tomllib.loads(base_text)
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(source, "", f"not valid TOML: {error}") from None
    table.setdefault("name", Path(source).stem)
    table["seed"] = seed
    try:
        for key, value in overrides:
            set_key(table, key, copy.deepcopy(value))
        scenario: Scenario = Table(Scenario).read(table, "")
    except SettingError as error:
        raise ScenarioError(source, error.key, error.message) from None
    return scenario
