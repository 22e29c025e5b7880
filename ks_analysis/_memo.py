"""One bounded memo for what a process keeps between calls (raw reads, cleaned vintages, tidy
indexes, judged verdicts, parsed YAML): the least recently used entry goes first.

Keys are computed by the caller (a fingerprint of files or of a table's content), so a changed
input is a new key and never gets an old value; values are handed out as they are kept, and
callers that give them to others make their own copies.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

__all__ = ["Memo"]

V = TypeVar("V")


class Memo(Generic[V]):
    """At most ``max_entries`` values by key; :meth:`get` counts as a use."""

    def __init__(self, max_entries: int) -> None:
        if max_entries < 1:
            raise ValueError("a memo keeps at least one entry")
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, V] = OrderedDict()

    def get(self, key: Hashable) -> V | None:
        """The value kept for ``key`` (now the most recently used), or None."""
        if key not in self._entries:
            return None
        self._entries.move_to_end(key)
        return self._entries[key]

    def put(self, key: Hashable, value: V) -> V:
        """Keep ``value`` for ``key``, dropping the least recently used beyond the bound."""
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        """Forget everything."""
        self._entries.clear()

    def __contains__(self, key: Hashable) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)
