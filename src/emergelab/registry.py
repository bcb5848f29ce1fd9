"""One small registry type for everything looked up by name (tasks, metrics, laws, executors, ...).

Why one type: adding a task, metric or law should be one file and one decorator, and every lookup
should fail the same way — a duplicate name is an error at import time, an unknown name gets a
"did you mean" built from the registered names. A registry reads like a dict (it is a Mapping) but
can only grow through `add`, so no module can silently overwrite another's entry.
"""

from __future__ import annotations

import difflib
import re
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
        self._families: list[tuple[str, re.Pattern[str], Callable[[re.Match[str]], T]]] = []

    def add(self, name: str, item: T) -> T:
        """File `item` under `name`; a second entry with the same name is a programming error."""
        if name in self._items:
            raise ValueError(f"{self.kind} {name!r} registered twice")
        self._items[name] = item
        return item

    def add_family(self, label: str, pattern: str, make: Callable[[re.Match[str]], T]) -> None:
        """Names that carry a parameter, e.g. `pass@10`: a name fully matching `pattern` that is not
        an entry gets `make(match)`. Such names are found (`in`, `[]`) but not listed; `label`
        (`pass@<k>`) stands for them in the "known" list of an unknown-name error."""
        self._families.append((label, re.compile(pattern), make))

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator form of `add` for entries that are the decorated object itself."""
        return lambda item: self.add(name, item)

    def __getitem__(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            for _, pattern, make in self._families:
                if (match := pattern.fullmatch(name)) is not None:
                    return make(match)
            raise self.unknown(name) from None

    def unknown(self, name: str) -> UnknownNameError:
        """The error for a name not here, for callers that test `in` first: every unknown-name
        message then reads the same and carries the "did you mean"."""
        return UnknownNameError(self.kind, name, [*self._items, *(f[0] for f in self._families)])

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {list(self._items)})"
