"""`field`: `equinox.field` that can also name the axes of a plain-array field."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import equinox as eqx

from ..base.errors import ConflictingOptionsError


def field(*, axis_names: Sequence[str] | str | None = None, static: bool = False, **kwargs: Any) -> Any:
    """An `equinox.field` that may record ``axis_names`` for a raw-array field in its metadata.

    Partitioning reads ``metadata["axis_names"]`` to shard fields that hold plain jax arrays.
    A static field holds no array, so ``axis_names`` with ``static=True`` is an error.

    Examples:
        >>> import equinox as eqx, jax, haliax as hax
        >>> class Table(eqx.Module):
        ...     weights: jax.Array = hax.field(axis_names=("vocab", "embed"))
        >>> import dataclasses
        >>> dataclasses.fields(Table)[0].metadata["axis_names"]
        ('vocab', 'embed')
    """
    if static and axis_names is not None:
        raise ConflictingOptionsError(
            "field: axis_names names the axes of an array, but static=True fields hold no arrays; "
            "drop one of them"
        )
    names = (
        None if axis_names is None else (axis_names,) if isinstance(axis_names, str) else tuple(axis_names)
    )
    metadata = dict(kwargs.pop("metadata", None) or {})
    metadata["axis_names"] = names  # None when not given, as in Haliax
    return eqx.field(static=static, metadata=metadata, **kwargs)
