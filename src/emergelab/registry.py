"""One small registry type for everything looked up by name (tasks, metrics, laws, executors, ...).

Why one type: adding a task, metric or law should be one file and one decorator, and every lookup
should fail the same way — a duplicate name is an error at import time, an unknown name gets a
"did you mean" built from the registered names. A registry reads like a dict (it is a Mapping) but
can only grow through `add`, so no module can silently overwrite another's entry.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator, Mapping
from typing import Generic, TypeVar

T = TypeVar("T")


class UnknownNameError(KeyError):
    """An unknown registry name. A KeyError (dict semantics) whose message is a readable sentence."""

    def __init__(self, kind: str, name: str, known: list[str]) -> None:
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        self.message = f"unknown {kind} {name!r}{hint} (known: {', '.join(known) or 'none'})"
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class Registry(Mapping[str, T], Generic[T]):
    """Name → item, filled by decorators at import time; read like a dict."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def add(self, name: str, item: T) -> T:
        """File `item` under `name`; a second entry with the same name is a programming error."""
        if name in self._items:
            raise ValueError(f"{self.kind} {name!r} registered twice")
        self._items[name] = item
        return item

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator form of `add` for entries that are the decorated object itself."""
        return lambda item: self.add(name, item)

    def __getitem__(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            raise UnknownNameError(self.kind, name, list(self._items)) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {list(self._items)})"
