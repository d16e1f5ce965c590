"""State shared by every subcommand (which store to use), and the `--db` option they all accept."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Ctx:
    db: Path


def _set_db(ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
    if value is not None:
        ctx.ensure_object(Ctx).db = value


def db_option(func: F) -> F:
    """`--db` after the subcommand too (`harness book X --db f`), overriding the group's."""
    option = click.option(
        "--db",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        expose_value=False,
        callback=_set_db,
        help="Tick store file (overrides the global --db).",
    )
    return option(func)
