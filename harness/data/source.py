"""Opening input files: transparent .gz/.zst decompression and a content hash for de-duplication."""

from __future__ import annotations

import gzip
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import zstandard


@dataclass(frozen=True)
class SourceFile:
    path: Path

    @property
    def name(self) -> str:
        return str(self.path)

    @property
    def base_name(self) -> str:
        """File name without compression suffixes, used to guess symbol and kind."""
        name = self.path.name
        for suffix in (".gz", ".zst"):
            if name.endswith(suffix):
                name = name[: -len(suffix)]
        return name

    def sha256(self) -> str:
        digest = hashlib.sha256()
        with self.path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()

    def open_binary(self) -> IO[bytes]:
        name = self.path.name
        if name.endswith(".gz"):
            return gzip.open(self.path, "rb")  # type: ignore[return-value]
        if name.endswith(".zst"):
            reader = zstandard.ZstdDecompressor().stream_reader(self.path.open("rb"))
            return io.BufferedReader(reader)
        return self.path.open("rb")

    def read_bytes(self) -> bytes:
        with self.open_binary() as fh:
            return fh.read()

    def head(self, size: int = 65536) -> bytes:
        with self.open_binary() as fh:
            return fh.read(size)

    def lines(self) -> Iterator[tuple[int, bytes]]:
        """(1-based line number, line without its newline)."""
        with self.open_binary() as fh:
            for number, raw in enumerate(fh, start=1):
                yield number, raw.rstrip(b"\r\n")
