"""Named implementations of a model `Protocol`, so a user adds one without editing the engine.

Each swappable part (queue position, replenishment, mark method, ADL ranking, latency, ...) has
one `Registry` beside its `Protocol`. A scenario names an implementation by string; the assembly
looks it up here, and an unknown name is an error that lists the known ones.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Factories by name, in registration order (which is the order `names()` lists them in)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """A decorator: `@QUEUE_MODELS.register("proportional")` above a class or factory."""

        def add(item: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._items[name] = item
            return item

        return add

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(self._items)
            raise KeyError(f"unknown {self.kind} {name!r} (known: {known})") from None

    def names(self) -> tuple[str, ...]:
        return tuple(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items
