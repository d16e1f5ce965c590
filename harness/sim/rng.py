"""Named random streams derived from the scenario seed.

Every consumer of randomness (a latency link, a population builder, a strategy's jitter) asks for
its own stream by a stable name. A stream depends only on (seed, name): adding a consumer or
changing the order in which consumers are built never shifts another consumer's numbers, and the
same scenario draws the same numbers in every process on every machine.
"""

from __future__ import annotations

import hashlib

import numpy as np


def stream_key(name: str) -> tuple[int, ...]:
    """The SeedSequence spawn key of a stream name: SHA-256 of its UTF-8 bytes as 8 uint32 words.

    A fixed-length key from a cryptographic hash, not Python's per-process salted built-in hash
    and not a 32-bit checksum: distinct names never share a stream in practice, and because every
    key has the same length, SeedSequence's zero padding of short entropy cannot make two keys
    collide.
    """
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, 32, 4))


def make_stream(seed: int, name: str) -> np.random.Generator:
    """A fresh generator for (seed, name); PCG64 is named explicitly so a NumPy default change
    cannot silently change every run's numbers."""
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    sequence = np.random.SeedSequence(seed, spawn_key=stream_key(name))
    return np.random.Generator(np.random.PCG64(sequence))


class Streams:
    """The streams of one run; each name is handed out once.

    Two components silently sharing one generator would couple their draws (one drawing more would
    change what the other sees), so asking twice for the same name is an error.
    """

    __slots__ = ("_claimed", "seed")

    def __init__(self, seed: int) -> None:
        if seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed}")
        self.seed = seed
        self._claimed: set[str] = set()

    def get(self, name: str) -> np.random.Generator:
        if name in self._claimed:
            raise ValueError(f"random stream {name!r} is already in use")
        self._claimed.add(name)
        return make_stream(self.seed, name)
