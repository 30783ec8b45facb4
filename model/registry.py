"""A registry of named things: strategies, scenarios and metrics each keep one.

A registry maps names to items in registration order. Extensions add to it at import
time (through ``register_strategy``, ``register_scenario``, ``register_metric``), and
the CLI, experiment specs and the workshop page list and look up what is there. A test
that registers something restores the registry afterwards with :meth:`Registry.snapshot`
and :meth:`Registry.restore`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Named items of one kind, in registration order.

    Args:
        kind: What the items are, for messages (``"strategy"``).
        lookup_name: How a failed look-up names what was asked for (default: the kind);
            ``"parameter 'strategy'"`` makes the message a parameter error.
        identifiers: Whether names must be Python identifiers (they become column or
            attribute names).
    """

    def __init__(self, kind: str, *, lookup_name: str | None = None, identifiers: bool = False):
        self.kind = kind
        self.lookup_name = lookup_name or kind
        self.identifiers = identifiers
        self._items: dict[str, T] = {}

    def add(self, name: str, item: T, *, replace: bool = False) -> T:
        """Register ``item`` under ``name`` and return it.

        Raises:
            ValueError: If the name is taken (and ``replace`` is false), or is not an
                identifier where one is required.
        """
        if self.identifiers and not (isinstance(name, str) and name.isidentifier()):
            raise ValueError(f"{self.kind} name {name!r} must be an identifier")
        if name in self._items and not replace:
            raise ValueError(f"{self.kind} '{name}' is already registered")
        self._items[name] = item
        return item

    def get(self, name: str) -> T:
        """The item registered under ``name``.

        Raises:
            ValueError: Naming the allowed names, if ``name`` is not registered.
        """
        try:
            return self._items[name]
        except (KeyError, TypeError):
            raise ValueError(
                f"{self.lookup_name} must be one of {', '.join(self._items)}, got {name!r}"
            ) from None

    def remove(self, name: str) -> None:
        """Forget ``name`` (no error if it is not registered)."""
        self._items.pop(name, None)

    def names(self) -> list[str]:
        """Registered names, in registration order."""
        return list(self._items)

    def items(self) -> dict[str, T]:
        """A copy of the name-to-item mapping, in registration order."""
        return dict(self._items)

    def snapshot(self) -> dict[str, T]:
        """The registry's current contents, for :meth:`restore`."""
        return dict(self._items)

    def restore(self, snapshot: dict[str, T]) -> None:
        """Put the registry back to a :meth:`snapshot` (dropping anything added since)."""
        self._items = dict(snapshot)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}: {', '.join(self._items)})"
