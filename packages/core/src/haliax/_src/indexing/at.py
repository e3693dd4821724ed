"""``x.at[...]``: functional updates of a NamedArray at a named index.

The index is read exactly as ``x[...]`` reads it (see `indexing`); updates broadcast by name to
the axes the indexed region has.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypedDict, Unpack

import jax.numpy as jnp

from ..base.axis import Axis
from ..base.errors import NamedIndexError, format_shape, reported_as
from ..base.named_array import NamedArray
from ..ops.broadcast import broadcast_to
from .index import SliceSpec, _plan, _raw_index


class UpdateOptions(TypedDict, total=False):
    """Options passed through to ``jax.Array.at``: see its documentation."""

    indices_are_sorted: bool
    unique_indices: bool
    mode: str | None


class AtIndexer:
    """``x.at[...]``: functional updates at a named index, like ``jax.Array.at``.

    Examples:
        >>> import haliax as hax
        >>> B, E = hax.make_axes(batch=2, embed=3)
        >>> hax.zeros((B, E)).at["batch", 1].set(hax.arange(E).astype(float)).array.tolist()
        [[0.0, 0.0, 0.0], [0.0, 1.0, 2.0]]
    """

    __slots__ = ("_array",)

    def __init__(self, array: NamedArray):
        self._array = array

    def __getitem__(self, idx: SliceSpec) -> IndexUpdateRef:
        return IndexUpdateRef(self._array, idx)


class IndexUpdateRef:
    """The array and index of ``x.at[idx]``; its methods return the updated array.

    Updates broadcast by name to the axes that ``x[idx]`` would have. ``mode``,
    ``indices_are_sorted`` and ``unique_indices`` are passed to jax (out-of-range writes drop by
    default; reads of a `dslice` past the end fill).
    """

    __slots__ = ("_array", "_idx")

    def __init__(self, array: NamedArray, idx: Any):
        self._array = array
        self._idx = idx

    def _plan(self, op: str) -> tuple[tuple[Any, ...], tuple[Axis, ...], bool]:
        # Lists index as arrays here, so that numpy's placement of the region's axes is the plan's.
        plan = _plan(op, self._array.axes, self._idx, lists_as_arrays=True)
        return _raw_index(self._array.axes, plan), plan.out_axes, plan.fill

    def _update(self, op: str, method: str, values: Any, **kwargs: Any) -> NamedArray:
        raw, axes, _ = self._plan(op)
        if isinstance(values, NamedArray):
            with reported_as(op):
                vals = broadcast_to(values, axes, ensure_order=True, enforce_no_extra_axes=False)
            if vals.axes != axes:
                extra = [ax.name for ax in values.axes if ax.name not in {a.name for a in axes}]
                raise NamedIndexError(
                    f"{op}: the update {format_shape(values.axes)} has axes {extra} that the indexed "
                    f"region {format_shape(axes)} lacks"
                )
            vals = vals.array
        else:
            vals = jnp.asarray(values)
            if vals.ndim:
                raise NamedIndexError(
                    f"{op}: an unnamed update of shape {tuple(vals.shape)} is ambiguous; name its axes "
                    f"(the indexed region is {format_shape(axes)})"
                )
        out = getattr(self._array.array.at[raw], method)(vals, **kwargs)
        return NamedArray._new(out, self._array.axes)

    def get(
        self,
        *,
        fill_value: Any = None,
        **options: Unpack[UpdateOptions],
    ) -> NamedArray:
        """The indexed values, as ``x[idx]`` (with gather options; a `dslice` reads 0 past the ends)."""
        raw, axes, any_dslice = self._plan("at[...].get")
        if options.get("mode") is None and any_dslice:
            options["mode"] = "fill"
            fill_value = 0 if fill_value is None else fill_value
        out = self._array.array.at[raw].get(fill_value=fill_value, **options)
        return NamedArray._new(out, axes)

    def set(self, values: Any, **options: Unpack[UpdateOptions]) -> NamedArray:
        """``x`` with ``x[idx] = values``."""
        return self._update("at[...].set", "set", values, **options)

    def add(self, values: Any, **options: Unpack[UpdateOptions]) -> NamedArray:
        """``x`` with ``x[idx] += values``."""
        return self._update("at[...].add", "add", values, **options)

    def multiply(self, values: Any, **options: Unpack[UpdateOptions]) -> NamedArray:
        """``x`` with ``x[idx] *= values``."""
        return self._update("at[...].multiply", "multiply", values, **options)

    def mul(self, values: Any, **options: Unpack[UpdateOptions]) -> NamedArray:
        """Same as `multiply`."""
        return self._update("at[...].mul", "multiply", values, **options)

    def divide(self, values: Any, **options: Unpack[UpdateOptions]) -> NamedArray:
        """``x`` with ``x[idx] /= values``."""
        return self._update("at[...].divide", "divide", values, **options)

    def power(self, values: Any, **options: Unpack[UpdateOptions]) -> NamedArray:
        """``x`` with ``x[idx] **= values``."""
        return self._update("at[...].power", "power", values, **options)

    def min(self, values: Any, **options: Unpack[UpdateOptions]) -> NamedArray:
        """``x`` with ``x[idx] = minimum(x[idx], values)``."""
        return self._update("at[...].min", "min", values, **options)

    def max(self, values: Any, **options: Unpack[UpdateOptions]) -> NamedArray:
        """``x`` with ``x[idx] = maximum(x[idx], values)``."""
        return self._update("at[...].max", "max", values, **options)

    def apply(self, func: Callable[[Any], Any], **options: Unpack[UpdateOptions]) -> NamedArray:
        """``x`` with ``x[idx] = func(x[idx])`` (``func`` is a jnp ufunc-like function of one array)."""
        raw, _, _ = self._plan("at[...].apply")
        out = self._array.array.at[raw].apply(func, **options)
        return NamedArray._new(out, self._array.axes)
