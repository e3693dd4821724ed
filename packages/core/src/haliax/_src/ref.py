"""Mutable named references: `NamedRef` over jax's array refs (``jax.new_ref``).

A NamedRef is a jax ``Ref`` plus the axes of the array it holds. Reads and writes use named
indexing (``ref["layer", 3]``, ``ref[{"batch": hax.dslice(i, 8)}] = update``), including under
``jit``. ``ref.slice(sel)`` returns a view that applies ``sel`` before every later index, so a
function can be handed one layer of a stacked buffer and write into it in place.

Writes through an index read the whole buffer, update the selected part functionally and store
it back; under ``jit`` XLA turns this into an in-place update of the selected part.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax

from .axis import Axis, AxisSelection
from .errors import NamedTypeError
from .indexing import index
from .named_array import NamedArray


def refs_supported() -> bool:
    """True if the installed JAX has mutable array refs (``jax.new_ref``)."""
    return hasattr(jax, "new_ref")


def _require_refs(op: str) -> None:
    if not refs_supported():
        raise NamedTypeError(
            f"{op}: this JAX ({jax.__version__}) has no mutable array refs (jax.new_ref); upgrade jax to use NamedRef"
        )


def _is_everything(idx: Any) -> bool:
    return (
        idx is Ellipsis
        or (isinstance(idx, tuple) and len(idx) == 0)
        or (isinstance(idx, Mapping) and not idx)
    )


def _read_through(x: NamedArray, selectors: tuple[Any, ...], idx: Any) -> Any:
    for sel in selectors:
        x = index(x, sel)
    return x if _is_everything(idx) else index(x, idx)


def _write_through(x: NamedArray, selectors: tuple[Any, ...], idx: Any, value: Any) -> NamedArray:
    if selectors:
        head, rest = selectors[0], selectors[1:]
        return x.at[head].set(_write_through(index(x, head), rest, idx, value))
    if _is_everything(idx):
        if isinstance(value, NamedArray):
            return value.broadcast_to(x.axes).astype(x.dtype)
        return NamedArray._new(
            jax.numpy.broadcast_to(jax.numpy.asarray(value, x.dtype), x.array.shape), x.axes
        )
    return x.at[idx].set(value)


class NamedRef:
    """A mutable reference to a NamedArray: ``ref[{...}]`` reads, ``ref[{...}] = v`` writes in place.

    Examples:
        >>> import haliax as hax, jax.numpy as jnp
        >>> ref = hax.new_ref(hax.zeros({"layer": 2, "embed": 3}))
        >>> ref["layer", 1] = hax.ones({"embed": 3})
        >>> ref.value().sum().item()
        3.0
        >>> row = ref.slice({"layer": 0})
        >>> row["embed", 2] = 5.0
        >>> ref["layer", 0].array.tolist()
        [0.0, 0.0, 5.0]
    """

    __slots__ = ("_axes", "_prefix", "_ref")

    def __init__(self, ref: Any, axes: tuple[Axis, ...], prefix: tuple[Any, ...] = ()):
        """Wrap a jax ``Ref`` holding an array with ``axes``; ``prefix`` are staged selectors."""
        self._ref = ref
        self._axes = tuple(axes)
        self._prefix = tuple(prefix)

    def _whole(self) -> NamedArray:
        return NamedArray._new(self._ref[...], self._axes)

    # ----- reading and writing -----
    def __getitem__(self, idx: Any) -> Any:
        return _read_through(self._whole(), self._prefix, idx)

    def __setitem__(self, idx: Any, value: Any) -> None:
        self._ref[...] = _write_through(self._whole(), self._prefix, idx, value).array

    def value(self) -> NamedArray:
        """The current contents (of the view, for a sliced ref)."""
        return self[...]

    def slice(self, selector: Mapping[Any, Any] | tuple[Any, ...]) -> NamedRef:
        """A view that applies ``selector`` before every later index; writes reach this ref's buffer."""
        return NamedRef(self._ref, self._axes, (*self._prefix, selector))

    def unsliced(self) -> NamedRef:
        """The ref to the whole buffer, without staged selectors."""
        return NamedRef(self._ref, self._axes)

    # ----- metadata (of the view) -----
    @property
    def axes(self) -> tuple[Axis, ...]:
        """The axes seen through this ref (after its staged selectors)."""
        if not self._prefix:
            return self._axes
        return _view_axes(self._axes, self._ref.dtype, self._prefix)

    @property
    def shape(self) -> dict[str, int]:
        """``{name: size}`` of the view."""
        return {ax.name: ax.size for ax in self.axes}

    @property
    def dtype(self) -> Any:
        """The dtype of the held array."""
        return self._ref.dtype

    @property
    def ndim(self) -> int:
        """Number of axes of the view."""
        return len(self.axes)

    def resolve_axis(self, axes: AxisSelection) -> Any:
        """The sized `Axis` (or tuple of them) for names in this ref's view."""
        holder = NamedArray._new(None, self.axes)
        return holder.resolve_axis(axes)

    def __repr__(self) -> str:
        from .errors import format_shape

        staged = f", staged={len(self._prefix)}" if self._prefix else ""
        return f"NamedRef({format_shape(self.axes)}, dtype={self.dtype}{staged})"


def _view_axes(axes: tuple[Axis, ...], dtype: Any, prefix: tuple[Any, ...]) -> tuple[Axis, ...]:
    """Axes of a view: trace the staged indexing abstractly (no data is read)."""
    spec = jax.ShapeDtypeStruct(tuple(ax.size for ax in axes), dtype)
    return jax.eval_shape(lambda a: _read_through(NamedArray._new(a, axes), prefix, ...), spec).axes


def _flatten(r: NamedRef) -> tuple[tuple[Any, ...], tuple[Axis, ...]]:
    return (r._ref, r._prefix), r._axes


def _unflatten(axes: tuple[Axis, ...], children: Any) -> NamedRef:
    return NamedRef(children[0], axes, children[1])


jax.tree_util.register_pytree_node(NamedRef, _flatten, _unflatten)


def new_ref(value: NamedArray) -> NamedRef:
    """A new mutable `NamedRef` holding ``value``.

    Examples:
        >>> import haliax as hax
        >>> hax.new_ref(hax.zeros({"embed": 3})).shape
        {'embed': 3}
    """
    _require_refs("new_ref")
    if not isinstance(value, NamedArray):
        raise NamedTypeError(
            f"new_ref: expected a NamedArray, got {type(value).__name__}; name its axes with hax.named"
        )
    return NamedRef(jax.new_ref(value.array), value.axes)  # type: ignore[attr-defined]  # present where refs_supported()


def get(ref: NamedRef, idx: Any = Ellipsis) -> Any:
    """Read ``ref[idx]`` (the whole view by default)."""
    return ref[idx]


def swap(ref: NamedRef, idx: Any, value: Any) -> Any:
    """Write ``value`` at ``idx`` and return what was there before."""
    old = ref[idx]
    ref[idx] = value
    return old


def freeze(ref: NamedRef) -> NamedArray:
    """Invalidate the ref's buffer and return its contents (the view's, for a sliced ref)."""
    _require_refs("freeze")
    whole = NamedArray._new(jax.freeze(ref._ref), ref._axes)  # type: ignore[attr-defined]  # present where refs_supported()
    return _read_through(whole, ref._prefix, ...)
