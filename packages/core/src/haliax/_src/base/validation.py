"""Checking a raw array against the axes it is given: once, where a user names an array.

Our own ops and pytree unflattening skip these checks (see `NamedArray`); `enable_shape_checks`
turns them off for user construction too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from .axis import Axis
from .errors import DuplicateAxisError, NamedTypeError, ShapeMismatchError, format_shape

enabled = True
"""Whether user construction checks shapes (read by NamedArray.__init__ on every call)."""


def are_shape_checks_enabled() -> bool:
    """Whether building a NamedArray checks the array's shape against its axes."""
    return enabled


@contextlib.contextmanager
def enable_shape_checks(on: bool) -> Iterator[bool]:
    """Turn NamedArray shape checks on or off inside a ``with`` block; yields the previous setting."""
    global enabled
    previous = enabled
    enabled = on
    try:
        yield previous
    finally:
        enabled = previous


def check_axes(op: str, shape: tuple[int, ...], axes: tuple[Axis, ...]) -> None:
    """Raise, naming the problem, unless ``axes`` are distinct `Axis` objects matching ``shape``."""
    if len(shape) != len(axes):
        raise ShapeMismatchError(
            f"{op}: an array of shape {tuple(shape)} has {len(shape)} dimensions "
            f"but {len(axes)} axes were given: {format_shape(axes)}"
        )
    seen: set[str] = set()
    for ax, size in zip(axes, shape, strict=True):
        if not isinstance(ax, Axis):
            raise NamedTypeError(
                f"{op}: axes must be Axis objects, got {ax!r}; use hax.named(array, names) to give bare names"
            )
        if ax.name in seen:
            raise DuplicateAxisError(f"{op}: axis {ax.name!r} appears twice in {format_shape(axes)}")
        seen.add(ax.name)
        if ax.size != size:
            raise ShapeMismatchError(
                f"{op}: axis {ax.name!r} has size {ax.size} but the array's dimension there has size {size} "
                f"(array shape {tuple(shape)}, axes {format_shape(axes)})"
            )
