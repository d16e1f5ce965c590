"""Errors that point a user at the exact place in their input that is wrong."""

from __future__ import annotations


class IngestError(Exception):
    """A problem with an input file, located by path and (when known) 1-based line number."""

    def __init__(self, path: str, line: int | None, message: str) -> None:
        self.path = path
        self.line = line
        self.message = message
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {message}")


class AlreadyIngestedError(IngestError):
    """The same bytes (by sha256) are in the store already; `--force` ingests them again."""
