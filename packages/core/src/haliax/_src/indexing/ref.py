"""Mutable named references: `NamedRef` over jax's array refs (``jax.new_ref``).

A NamedRef is a jax ``Ref`` plus the axes of the array it holds. Reads and writes use named
indexing (``ref["layer", 3]``, ``ref[{"batch": hax.dslice(i, 8)}] = update``), including under
``jit``. ``ref.slice(sel)`` returns a view that applies ``sel`` before every later index, so a
function can be handed one layer of a stacked buffer and write into it in place.

A view keeps one staged selector per axis of the buffer (``slice(None)`` where nothing is
staged), as Haliax does: slices and dslices become pallas-style ``Slice(start, size, stride)``
windows, and an index into a window is folded into it (an int into a window becomes the int it
points at, a window of a window one window). Reads and writes index the buffer with the folded
selectors by name, under the same rules as ``x[...]``.

Writes through an index read the whole buffer, update the selected part functionally and store
it back; under ``jit`` XLA turns this into an in-place update of the selected part.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, overload

import jax
import jax.numpy as jnp
import numpy as np

from ..base.axis import Axis, AxisSelection, AxisSelector, dslice
from ..base.errors import NamedIndexError, NamedTypeError, UnsupportedIndexError, axis_not_found, format_shape
from ..base.named_array import NamedArray
from ..base.types import NamedOrNumeric
from .index import _index, _is_static_int, _PallasSlice, _plan, _positions


def refs_supported() -> bool:
    """True if the installed JAX has mutable array refs (``jax.new_ref``)."""
    return hasattr(jax, "new_ref")


def _require_refs(op: str) -> None:
    if not refs_supported():
        raise NamedTypeError(
            f"{op}: this JAX ({jax.__version__}) has no mutable array refs (jax.new_ref); upgrade jax to use NamedRef"
        )


_EVERYTHING = slice(None)


def _is_everything(idx: Any) -> bool:
    return (
        idx is Ellipsis
        or idx is None
        or (isinstance(idx, tuple) and len(idx) == 0)
        or (isinstance(idx, Mapping) and not idx)
    )


def _is_window(v: Any) -> bool:
    return isinstance(v, (slice, range, dslice, _PallasSlice))


def _is_fixed(v: Any) -> bool:
    """A staged selector that removes its axis (an int, or a traced scalar)."""
    return _is_static_int(v) or (isinstance(v, jax.Array) and v.ndim == 0)


def _window(v: Any, size: int) -> tuple[Any, int, int]:
    """``(start, size, stride)`` of a slice-like selector on an axis of ``size``."""
    if isinstance(v, range):
        v = slice(v.start, v.stop, v.step)
    if isinstance(v, slice):
        start, stop, step = v.indices(size)
        return start, len(range(start, stop, step)), step
    return v.start, int(v.size), int(getattr(v, "stride", 1))


def _fold(op: str, current: Any, new: Any, base: Axis, view: Axis) -> Any:
    """The staged selector for ``base`` after indexing its view ``view`` (of ``current``) with ``new``."""
    if not _is_window(current):
        raise UnsupportedIndexError(
            f"{op}: axis {base.name!r} is already indexed by an index array in this view; indexing "
            f"it again is not supported, read the view's value and index that"
        )
    start0, size0, step0 = _window(current, base.size)
    if _is_window(new):
        start1, size1, step1 = _window(new, size0)
        return _PallasSlice(start0 + start1 * step0, size1, step0 * step1)
    if isinstance(new, np.ndarray):
        new = new.item() if new.ndim == 0 else new.tolist()
    if _is_static_int(new):
        i = int(new)
        if not -size0 <= i < size0:
            raise NamedIndexError(
                f"{op}: index {i} is out of range for axis {view.name!r} of size {size0} in this view"
            )
        return start0 + (i + size0 if i < 0 else i) * step0
    if isinstance(new, NamedArray):
        return NamedArray._new(_shift(new.array, start0, size0, step0), new.axes)
    if isinstance(new, jax.Array):
        return _shift(new, start0, size0, step0)
    if isinstance(new, (list, tuple)) and all(_is_static_int(i) for i in new):
        out = []
        for i in new:
            if not -size0 <= i < size0:
                raise NamedIndexError(
                    f"{op}: index {i} in the list is out of range for axis {view.name!r} of size {size0} in this view"
                )
            out.append(start0 + (int(i) + size0 if i < 0 else int(i)) * step0)
        return out
    raise NamedTypeError(
        f"{op}: a ref view's axis {view.name!r} takes an int, slice, dslice, list of ints, integer array "
        f"or NamedArray, got a {type(new).__name__}"
    )


def _shift(index: Any, start: Any, size: int, step: int) -> Any:
    return jnp.where(index < 0, index + size, index) * step + start


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

    def __init__(self, ref: Any, axes: tuple[Axis, ...], prefix: tuple[Any, ...] | None = None):
        """Wrap a jax ``Ref`` holding an array with ``axes``; ``prefix`` is one staged selector per axis."""
        self._ref = ref
        self._axes = tuple(axes)
        self._prefix: tuple[Any, ...] = (
            tuple(_EVERYTHING for _ in self._axes) if prefix is None else tuple(prefix)
        )
        if len(self._prefix) != len(self._axes):
            raise NamedTypeError(
                f"NamedRef: {len(self._prefix)} staged selectors for the {len(self._axes)} axes "
                f"{format_shape(self._axes)}; give one per axis"
            )

    def _whole(self) -> NamedArray:
        return NamedArray._new(self._ref[...], self._axes)

    def _staged(self) -> dict[AxisSelector, Any]:
        return {ax: s for ax, s in zip(self._axes, self._prefix, strict=True) if s is not _EVERYTHING}

    def _combined(self, op: str, idx: Any) -> dict[AxisSelector, Any]:
        """The staged selectors with ``idx`` (an index of the view) folded in, keyed by buffer axis."""
        if _is_everything(idx):
            return self._staged()
        if isinstance(idx, tuple) and len(idx) == 1:
            idx = idx[0]
        folded = self._fold_all(op, idx)
        return {ax: s for ax, s in zip(self._axes, folded, strict=True) if s is not _EVERYTHING}

    def _fold_all(self, op: str, idx: Any) -> list[Any]:
        view = self.axes
        # Axes indexed by a staged index array may still be named (to say that is not supported).
        names = {ax.name for ax in view}
        lookup = view + tuple(
            ax
            for ax, s in zip(self._axes, self._prefix, strict=True)
            if not _is_window(s) and not _is_fixed(s) and ax.name not in names
        )
        folded = list(self._prefix)
        for p, new in _positions(op, lookup, idx).items():
            base = self._base_position(op, lookup[p])
            folded[base] = _fold(op, folded[base], new, self._axes[base], lookup[p])
        return folded

    def _base_position(self, op: str, view_axis: Axis) -> int:
        for i, (ax, s) in enumerate(zip(self._axes, self._prefix, strict=True)):
            if ax.name == view_axis.name and not _is_fixed(s):
                return i
        raise axis_not_found(op, [view_axis.name], self.axes)

    # ----- reading and writing -----
    def __getitem__(self, idx: Any = Ellipsis) -> NamedArray:
        sel = self._combined("NamedRef[...]", idx)
        whole = self._whole()
        return _index("NamedRef[...]", whole, sel) if sel else whole

    def __setitem__(self, idx: Any, value: Any) -> None:
        sel = self._combined("NamedRef[...]", idx)
        whole = self._whole()
        if sel:
            new = whole.at[sel].set(value)
        elif isinstance(value, NamedArray):
            new = value.broadcast_to(whole.axes).astype(whole.dtype)
        else:
            new = NamedArray._new(
                jnp.broadcast_to(jnp.asarray(value, whole.dtype), whole.array.shape), whole.axes
            )
        self._ref[...] = new.array

    def value(self) -> NamedArray:
        """The current contents (of the view, for a sliced ref)."""
        return self[...]

    def slice(self, selector: Mapping[Any, Any] | tuple[Any, ...]) -> NamedRef:
        """A view that applies ``selector`` before every later index; writes reach this ref's buffer."""
        return NamedRef(self._ref, self._axes, tuple(self._fold_all("NamedRef.slice", selector)))

    def unsliced(self) -> NamedRef:
        """The ref to the whole buffer, without staged selectors."""
        if all(s is _EVERYTHING for s in self._prefix):
            return self
        return NamedRef(self._ref, self._axes)

    # ----- metadata (of the view) -----
    @property
    def axes(self) -> tuple[Axis, ...]:
        """The axes seen through this ref (after its staged selectors)."""
        staged = self._staged()
        if not staged:
            return self._axes
        return _plan("NamedRef.axes", self._axes, staged).out_axes

    @property
    def shape(self) -> dict[str, int]:
        """``{name: size}`` of the view."""
        return {ax.name: ax.size for ax in self.axes}

    @property
    def named_shape(self) -> dict[str, int]:
        """Same as `shape`."""
        return self.shape

    @property
    def dtype(self) -> Any:
        """The dtype of the held array."""
        return self._ref.dtype

    @property
    def ndim(self) -> int:
        """Number of axes of the view."""
        return len(self.axes)

    @overload
    def resolve_axis(self, axes: AxisSelector) -> Axis: ...
    @overload
    def resolve_axis(self, axes: Mapping[str, int | None]) -> dict[str, int]: ...
    @overload
    def resolve_axis(self, axes: Sequence[AxisSelector]) -> tuple[Axis, ...]: ...
    def resolve_axis(self, axes: AxisSelection) -> Axis | dict[str, int] | tuple[Axis, ...]:
        """The sized `Axis` (or tuple of them) for names in this ref's view."""
        holder = NamedArray._new(None, self.axes)
        return holder.resolve_axis(axes)

    def __repr__(self) -> str:
        n = len(self._staged())
        staged = f", staged={n}" if n else ""
        return f"NamedRef({format_shape(self.axes)}, dtype={self.dtype}{staged})"


# Staged selectors that are plain Python values travel in the treedef (hashable forms); arrays,
# NamedArrays and Slices (a pytree themselves) are children, so a view can cross ``jit``.
def _static_form(s: Any) -> Any:
    if isinstance(s, slice):
        return ("slice", s.start, s.stop, s.step)
    if _is_static_int(s):
        return ("int", int(s))
    if isinstance(s, list):
        return ("list", tuple(s))
    return None


def _from_static(form: Any) -> Any:
    kind, *rest = form
    if kind == "slice":
        return slice(*rest)
    if kind == "int":
        return rest[0]
    return list(rest[0])


def _flatten(r: NamedRef) -> tuple[tuple[Any, ...], Any]:
    forms = tuple(_static_form(s) for s in r._prefix)
    dynamic = tuple(s for s, f in zip(r._prefix, forms, strict=True) if f is None)
    return (r._ref, dynamic), (r._axes, forms)


def _unflatten(aux: Any, children: Any) -> NamedRef:
    axes, forms = aux
    ref, dynamic = children
    it = iter(dynamic)
    prefix = tuple(next(it) if f is None else _from_static(f) for f in forms)
    return NamedRef(ref, axes, prefix)


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


def get(ref: NamedRef, idx: Any = Ellipsis) -> NamedArray:
    """Read ``ref[idx]`` (the whole view by default)."""
    return ref[idx]


def swap(ref: NamedRef, idx: Any, value: NamedOrNumeric) -> NamedArray:
    """Write ``value`` at ``idx`` and return what was there before."""
    old = ref[idx]
    ref[idx] = value
    return old


def freeze(ref: NamedRef) -> NamedArray:
    """Invalidate the ref's buffer and return its contents (the view's, for a sliced ref)."""
    _require_refs("freeze")
    whole = NamedArray._new(jax.freeze(ref._ref), ref._axes)  # type: ignore[attr-defined]  # present where refs_supported()
    staged = ref._staged()
    return _index("freeze", whole, staged) if staged else whole
