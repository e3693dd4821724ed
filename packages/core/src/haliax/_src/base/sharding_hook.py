"""The hook through which a partitioning package constrains the shardings of core ops' results.

Core never imports haliax.partitioning. Ops whose output layout matters (``dot``, scan carries)
pass their results through `constrain`; it is the identity until a provider installs a function
with `set_constraint_provider` (haliax.partitioning does so on import).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_provider: Callable[[Any], Any] | None = None


def set_constraint_provider(fn: Callable[[Any], Any] | None) -> Callable[[Any], Any] | None:
    """Install the function that constrains a pytree of NamedArrays; returns the previous one."""
    global _provider
    previous = _provider
    _provider = fn
    return previous


def constrain(x: T) -> T:
    """Apply the installed sharding constraint to ``x`` (identity when none is installed)."""
    if _provider is None:
        return x
    return _provider(x)
