"""The `NamedArray` class: a jax array whose axes have names.

A NamedArray is a pytree with one child (the array) and static aux data (the axes), so names are
pure trace-time metadata. Validation happens once, where a user builds a NamedArray from a raw
array; pytree unflattening and our own ops construct through `NamedArray._new`, which skips it.

Methods backed by ops (operators, reductions, ``rename``, ``x[...]``, ``repr``...) are the public ops
themselves, installed on the class by `haliax._src.methods` once the op modules exist, as jax does
for its arrays; this module depends only on `axis`, `errors` and `validation`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from types import EllipsisType
from typing import TYPE_CHECKING, Any, overload

import jax
import numpy as np
from jax.typing import ArrayLike, DTypeLike

from . import validation as _validation
from .axis import (
    Axis,
    AxisSelection,
    AxisSelector,
    AxisSpec,
    axis_position,
    axis_spec_to_tuple,
    selector_name,
)
from .errors import (
    AxisSizeError,
    HaliaxError,
    NamedTypeError,
    ShapeMismatchError,
    format_shape,
    reword,
)

if TYPE_CHECKING:
    from ..indexing.at import AtIndexer
    from ..indexing.index import SliceSpec
    from .types import PrecisionLike


class NamedArrayMeta(type):
    """Metaclass of `NamedArray`: ``NamedArray["batch embed"]`` builds a typing annotation."""

    if TYPE_CHECKING:  # installed by `haliax._src.methods` (the annotation builder lives above this layer)

        def __getitem__(cls, spec: Any) -> Any: ...


class NamedArray(metaclass=NamedArrayMeta):
    """A jax array with named axes.

    Build one with [haliax.named][] (names or axes) or directly from an array and a tuple of
    [haliax.Axis][]. ``.array`` is the positional array, ``.axes`` the axes in order.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> x = hax.named(jnp.ones((2, 3)), ("batch", "embed"))
        >>> x.shape
        {'batch': 2, 'embed': 3}
        >>> x.sum("embed").axes
        (Axis(name='batch', size=2),)
    """

    __slots__ = ("array", "axes")
    __array_priority__ = 100  # numpy defers reflected operators to us
    array: Any
    axes: tuple[Axis, ...]

    def __init__(self, array: Any = None, axes: Sequence[Axis] | Axis = (), /, **fields: Any):
        if fields:
            # Keyword construction, NamedArray(array=..., axes=...), is how jax's C++ dataclass node
            # unflattens: leaves may be anything there (a scalar from tree.map(jnp.sum), None, a
            # PartitionSpec), so that path never validates. Positional construction does.
            if len(fields) == 2 and "array" in fields and "axes" in fields:
                self.array = fields["array"]
                self.axes = fields["axes"]
                return
            if set(fields) - {"array", "axes"}:
                raise NamedTypeError(
                    f"NamedArray: unexpected fields {sorted(set(fields) - {'array', 'axes'})}"
                )
            array = fields.get("array", array)
            axes = fields.get("axes", axes)
        if type(axes) is not tuple:
            axes = (axes,) if isinstance(axes, Axis) else tuple(axes)
        if _validation.enabled:
            shape = getattr(array, "shape", None)
            if shape is not None and (
                len(shape) != len(axes)
                or any(ax.size != n for ax, n in zip(axes, shape, strict=False))
                or len({ax.name for ax in axes}) != len(axes)
            ):
                _validation.check_axes("NamedArray", shape, axes)  # type: ignore[arg-type]  # raises, naming the problem
        self.array = array
        self.axes = axes

    @classmethod
    def _new(cls, array: Any, axes: tuple[Axis, ...]) -> NamedArray:
        """Construct without validation: for our own ops and pytree unflattening."""
        out = object.__new__(cls)
        out.array = array
        out.axes = axes
        return out

    # ----- metadata -----
    @property
    def shape(self) -> dict[str, int]:
        """``{name: size}`` in axis order."""
        return {ax.name: ax.size for ax in self.axes}

    @property
    def named_shape(self) -> dict[str, int]:
        """Same as `shape`."""
        return self.shape

    @property
    def dtype(self) -> Any:
        """The array's dtype."""
        return self.array.dtype

    @property
    def ndim(self) -> int:
        """Number of axes."""
        return len(self.axes)

    @property
    def size(self) -> int:
        """Number of elements."""
        out = 1
        for ax in self.axes:
            out *= ax.size
        return out

    @property
    def nbytes(self) -> int:
        """Bytes held by the array."""
        return self.array.nbytes

    def item(self) -> Any:
        """The Python scalar of a 0-d (or one-element) array."""
        if self.axes and self.size != 1:
            raise AxisSizeError(
                f"item: only a one-element NamedArray has an item, got {format_shape(self.axes)}; "
                f"index or reduce it first"
            )
        return self.array.item()

    def scalar(self) -> jax.Array:
        """The 0-d jax array; raises if the array has axes."""
        if self.axes:
            raise NamedTypeError(
                f"scalar: the array has axes {format_shape(self.axes)}; reduce or index them away first"
            )
        return self.array

    def tobytes(self) -> bytes:
        """The raw bytes of the array."""
        return np.asarray(self.array).tobytes()

    def tolist(self) -> Any:
        """Nested Python lists in axis order."""
        return np.asarray(self.array).tolist()

    # ----- axis lookup -----
    def _lookup_indices(self, axis: AxisSelector, op: str = "resolve_axis") -> int:
        return axis_position(op, self.axes, axis)

    @overload
    def axis_indices(self, axis: AxisSelector) -> int | None: ...
    @overload
    def axis_indices(
        self, axis: Sequence[AxisSelector] | Mapping[str, int | None]
    ) -> tuple[int | None, ...]: ...
    def axis_indices(self, axis: AxisSelection) -> int | tuple[int | None, ...] | None:
        """Position of one axis (``None`` if absent), or a tuple of positions for several."""
        names = [ax.name for ax in self.axes]

        def one(sel: AxisSelector) -> int | None:
            name = selector_name(sel)
            return names.index(name) if name in names else None

        if isinstance(axis, (str, Axis)):
            return one(axis)
        return tuple(one(a) for a in axis_spec_to_tuple(axis))

    def has_axis(self, axis: AxisSelection) -> bool:
        """True if the array has the axis, or every axis of a selection."""
        names = {ax.name: ax.size for ax in self.axes}
        for a in axis_spec_to_tuple(axis):
            if isinstance(a, Axis):
                if names.get(a.name) != a.size:
                    return False
            elif a not in names:
                return False
        return True

    @overload
    def resolve_axis(self, axes: AxisSelector) -> Axis: ...
    @overload
    def resolve_axis(self, axes: Mapping[str, int | None]) -> dict[str, int]: ...
    @overload
    def resolve_axis(self, axes: Sequence[AxisSelector]) -> tuple[Axis, ...]: ...
    def resolve_axis(self, axes: AxisSelection) -> Axis | dict[str, int] | tuple[Axis, ...]:
        """The sized `Axis` for a name (a tuple for several, a shape dict for a dict)."""
        if isinstance(axes, (str, Axis)):
            return self.axes[self._lookup_indices(axes)]
        if isinstance(axes, Mapping):
            return {n: self.axes[self._lookup_indices(n)].size for n in axes}
        return tuple(self.axes[self._lookup_indices(a)] for a in axes)

    @overload
    def axis_size(self, axis: AxisSelector) -> int: ...
    @overload
    def axis_size(self, axis: Sequence[AxisSelector] | Mapping[str, int | None]) -> tuple[int, ...]: ...
    def axis_size(self, axis: AxisSelection) -> int | tuple[int, ...]:
        """Size of one axis, or a tuple of sizes."""
        if isinstance(axis, (str, Axis)):
            return self.axes[self._lookup_indices(axis, "axis_size")].size
        return tuple(self.axes[self._lookup_indices(a, "axis_size")].size for a in axis_spec_to_tuple(axis))

    # ----- op-backed methods -----
    # Installed by `haliax._src.methods` once every op module exists (each is the public op itself, so
    # ``help(x.sum)`` shows ``hax.sum``); declared here for type checkers only.
    if TYPE_CHECKING:

        def matches_axes(self, spec: Any) -> bool: ...
        def __repr__(self) -> str: ...
        def __treescope_repr__(self, path: str | None, subtree_renderer: Any) -> Any: ...
        def rename(self, renames: Mapping[AxisSelector, AxisSelector]) -> NamedArray: ...
        def rearrange(
            self, axes_or_pattern: str | Sequence[AxisSelector | EllipsisType] | None = None, **bindings: Any
        ) -> NamedArray: ...
        def broadcast_to(
            self, axes: AxisSelection, ensure_order: bool = True, enforce_no_extra_axes: bool = True
        ) -> NamedArray: ...
        def broadcast_axis(self, axis: AxisSpec) -> NamedArray: ...
        def split(self, axis: AxisSelector, new_axes: Sequence[Axis]) -> list[NamedArray]: ...
        def flatten_axes(self, old_axes: AxisSelection, new_axis: AxisSelector) -> NamedArray: ...
        def unflatten_axis(self, axis: AxisSelector, new_axes: AxisSpec) -> NamedArray: ...
        def ravel(self, new_axis_name: AxisSelector) -> NamedArray: ...

        flatten = ravel

        def unbind(self, axis: AxisSelector) -> list[NamedArray]: ...
        def roll(
            self, shift: int | Sequence[int] | jax.Array | NamedArray, axis: AxisSelection
        ) -> NamedArray: ...
        def slice(
            self,
            axis: AxisSelector | None = None,
            new_axis: AxisSelector | None = None,
            start: int | jax.Array | Mapping[AxisSelector, int | jax.Array] = 0,
            length: int | Mapping[AxisSelector, int | Axis] | None = None,
        ) -> NamedArray: ...
        def updated_slice(
            self, start: Mapping[AxisSelector, int | jax.Array | NamedArray], update: NamedArray
        ) -> NamedArray: ...
        def take(self, axis: AxisSelector, index: int | jax.Array | NamedArray) -> NamedArray: ...
        def __getitem__(self, idx: SliceSpec) -> NamedArray: ...
        @property
        def at(self) -> AtIndexer: ...
        def all(
            self, axis: AxisSelection | None = None, *, where: NamedArray | ArrayLike | None = None
        ) -> NamedArray: ...
        def any(
            self, axis: AxisSelection | None = None, *, where: NamedArray | ArrayLike | None = None
        ) -> NamedArray: ...
        def max(
            self, axis: AxisSelection | None = None, *, where: NamedArray | ArrayLike | None = None
        ) -> NamedArray: ...
        def min(
            self, axis: AxisSelection | None = None, *, where: NamedArray | ArrayLike | None = None
        ) -> NamedArray: ...
        def sum(
            self,
            axis: AxisSelection | None = None,
            *,
            where: NamedArray | ArrayLike | None = None,
            dtype: DTypeLike | None = None,
        ) -> NamedArray: ...
        def mean(
            self,
            axis: AxisSelection | None = None,
            *,
            where: NamedArray | ArrayLike | None = None,
            dtype: DTypeLike | None = None,
        ) -> NamedArray: ...
        def prod(
            self,
            axis: AxisSelection | None = None,
            *,
            where: NamedArray | ArrayLike | None = None,
            dtype: DTypeLike | None = None,
        ) -> NamedArray: ...

        product = prod

        def ptp(self, axis: AxisSelection | None = None) -> NamedArray: ...
        def std(
            self,
            axis: AxisSelection | None = None,
            *,
            ddof: int = 0,
            where: NamedArray | ArrayLike | None = None,
            dtype: DTypeLike | None = None,
        ) -> NamedArray: ...
        def var(
            self,
            axis: AxisSelection | None = None,
            *,
            ddof: int = 0,
            where: NamedArray | ArrayLike | None = None,
            dtype: DTypeLike | None = None,
        ) -> NamedArray: ...
        def argmax(self, axis: AxisSelector | None = None) -> NamedArray: ...
        def argmin(self, axis: AxisSelector | None = None) -> NamedArray: ...
        def cumsum(self, axis: AxisSelector, *, dtype: DTypeLike | None = None) -> NamedArray: ...
        def cumprod(self, axis: AxisSelector, *, dtype: DTypeLike | None = None) -> NamedArray: ...
        def sort(self, axis: AxisSelector) -> NamedArray: ...
        def argsort(self, axis: AxisSelector, *, stable: bool = True) -> NamedArray: ...
        def trace(
            self, axis1: AxisSelector, axis2: AxisSelector, offset: int = 0, dtype: DTypeLike | None = None
        ) -> NamedArray: ...
        def clip(
            self, a_min: NamedArray | ArrayLike | None = None, a_max: NamedArray | ArrayLike | None = None
        ) -> NamedArray: ...
        def conj(self) -> NamedArray: ...

        conjugate = conj

        def round(self, decimals: int = 0) -> NamedArray: ...
        @property
        def real(self) -> NamedArray: ...
        @property
        def imag(self) -> NamedArray: ...
        def dot(
            self,
            *args: NamedArray,
            axis: AxisSelection | None = ...,
            precision: PrecisionLike = None,
            preferred_element_type: DTypeLike | None = None,
            out_axes: Sequence[AxisSelector | EllipsisType] | None = None,
            dot_general: Callable[..., jax.Array] = ...,
        ) -> NamedArray: ...
        def __add__(self, other: NamedArray | ArrayLike) -> NamedArray: ...
        def __radd__(self, other: ArrayLike) -> NamedArray: ...
        def __sub__(self, other: NamedArray | ArrayLike) -> NamedArray: ...
        def __rsub__(self, other: ArrayLike) -> NamedArray: ...
        def __mul__(self, other: NamedArray | ArrayLike) -> NamedArray: ...
        def __rmul__(self, other: ArrayLike) -> NamedArray: ...
        def __truediv__(self, other: NamedArray | ArrayLike) -> NamedArray: ...
        def __rtruediv__(self, other: ArrayLike) -> NamedArray: ...
        def __floordiv__(self, other: NamedArray | ArrayLike) -> NamedArray: ...
        def __rfloordiv__(self, other: ArrayLike) -> NamedArray: ...
        def __mod__(self, other: NamedArray | ArrayLike) -> NamedArray: ...
        def __rmod__(self, other: ArrayLike) -> NamedArray: ...
        def __divmod__(self, other: NamedArray | ArrayLike) -> tuple[NamedArray, NamedArray]: ...
        def __rdivmod__(self, other: ArrayLike) -> tuple[NamedArray, NamedArray]: ...
        def __pow__(self, other: NamedArray | ArrayLike) -> NamedArray: ...
        def __rpow__(self, other: ArrayLike) -> NamedArray: ...
        def __and__(self, other: NamedArray | ArrayLike) -> NamedArray: ...
        def __rand__(self, other: ArrayLike) -> NamedArray: ...
        def __or__(self, other: NamedArray | ArrayLike) -> NamedArray: ...
        def __ror__(self, other: ArrayLike) -> NamedArray: ...
        def __xor__(self, other: NamedArray | ArrayLike) -> NamedArray: ...
        def __rxor__(self, other: ArrayLike) -> NamedArray: ...
        def __lshift__(self, other: NamedArray | ArrayLike) -> NamedArray: ...
        def __rlshift__(self, other: ArrayLike) -> NamedArray: ...
        def __rshift__(self, other: NamedArray | ArrayLike) -> NamedArray: ...
        def __rrshift__(self, other: ArrayLike) -> NamedArray: ...
        def __lt__(self, other: NamedArray | ArrayLike) -> NamedArray: ...
        def __le__(self, other: NamedArray | ArrayLike) -> NamedArray: ...
        def __gt__(self, other: NamedArray | ArrayLike) -> NamedArray: ...
        def __ge__(self, other: NamedArray | ArrayLike) -> NamedArray: ...
        def __eq__(self, other: NamedArray | ArrayLike) -> NamedArray: ...  # type: ignore[override]  # elementwise, as numpy's
        def __ne__(self, other: NamedArray | ArrayLike) -> NamedArray: ...  # type: ignore[override]  # elementwise, as numpy's
        def __neg__(self) -> NamedArray: ...
        def __pos__(self) -> NamedArray: ...
        def __abs__(self) -> NamedArray: ...
        def __invert__(self) -> NamedArray: ...

    # ----- conversions that need no op -----
    def astype(self, dtype: DTypeLike) -> NamedArray:
        """The array cast to ``dtype``."""
        try:
            return NamedArray._new(self.array.astype(dtype), self.axes)
        except TypeError as e:  # an unknown dtype: numpy's message names it, and shows no values
            raise NamedTypeError(f"astype: {e}; pass a dtype such as jnp.float32 or 'int32'") from None

    def copy(self) -> NamedArray:
        """A copy with the same axes."""
        return NamedArray._new(self.array.copy(), self.axes)

    def __matmul__(self, other: Any) -> NamedArray:
        raise NamedTypeError(
            f"@: matmul is ambiguous for named arrays ({format_shape(self.axes)}); "
            f"use hax.dot(a, b, axis=...) to say which axes to contract"
        )

    __rmatmul__ = __matmul__

    def __hash__(self) -> int:
        # Concrete jax arrays are unhashable, so this raises for them, as numpy arrays do.
        return hash((self.array, self.axes))

    def __bool__(self) -> bool:
        if self.axes and self.size != 1:
            raise AxisSizeError(
                f"bool: the truth value of a NamedArray {format_shape(self.axes)} is ambiguous; "
                f"reduce it first, e.g. with hax.all(x) or hax.any(x)"
            )
        return bool(self.array)

    def _require_one(self, op: str) -> None:
        if self.axes and self.size != 1:
            raise NamedTypeError(
                f"{op}: only a one-element NamedArray converts to a Python number, got {format_shape(self.axes)}; "
                f"index or reduce it first"
            )

    def __int__(self) -> int:
        self._require_one("int")
        return int(self.array)

    def __float__(self) -> float:
        self._require_one("float")
        return float(self.array)

    def __complex__(self) -> complex:
        self._require_one("complex")
        return complex(self.array)

    def __index__(self) -> int:
        self._require_one("index")
        return self.array.__index__()

    def __len__(self) -> int:
        if not self.axes:
            raise NamedTypeError("len: a 0-d NamedArray has no length")
        return self.axes[0].size

    def __iter__(self) -> Iterator[Any]:
        raise NamedTypeError(
            f"iter: iterating a NamedArray {format_shape(self.axes)} is ambiguous; "
            f"use x.unbind(axis) to get the slices along one axis"
        )

    def tree_flatten(self) -> tuple[tuple[Any], tuple[Axis, ...]]:
        """Pytree children ``(array,)`` and static aux data ``axes``."""
        return (self.array,), self.axes

    @classmethod
    def tree_unflatten(cls, aux: tuple[Axis, ...], children: Sequence[Any]) -> NamedArray:
        """Rebuild from aux data and children, without shape checks."""
        return cls._new(children[0], aux)


# The array is the one child, the axes static aux data. jax's dataclass node flattens in C++ (the
# cheapest flatten there is: jit dispatch of 150 leaves costs 1.4x raw arrays against 1.8x for a
# Python flatten); it unflattens by keyword construction, which skips validation (see __init__).
jax.tree_util.register_dataclass(NamedArray, data_fields=["array"], meta_fields=["axes"])


def named(a: Any, axis: AxisSelection) -> NamedArray:
    """Name the axes of a raw array: ``named(x, ("batch", "embed"))``.

    Bare names take their size from the array; `Axis` objects and ``{name: size}`` dicts are
    checked against it.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> hax.named(jnp.zeros((2, 3)), ("batch", "embed")).shape
        {'batch': 2, 'embed': 3}
    """
    if isinstance(a, NamedArray):
        a = a.array
    if not hasattr(a, "shape"):
        a = jax.numpy.asarray(a)
    shape = a.shape
    try:  # not `reported_as`: a `with` costs ~0.5us on every call of this hot function
        spec = axis_spec_to_tuple(axis)
    except HaliaxError as e:
        raise reword(e, "named") from None
    if len(spec) != len(shape):
        raise ShapeMismatchError(
            f"named: an array of shape {tuple(shape)} has {len(shape)} dimensions "
            f"but {len(spec)} axes were given: {format_shape(spec)}"
        )
    axes = tuple(Axis(s, n) if isinstance(s, str) else s for s, n in zip(spec, shape, strict=True))
    _validation.check_axes("named", shape, axes)
    return NamedArray._new(a, axes)


def named_unchecked(array: Any, axes: tuple[Axis, ...]) -> NamedArray:
    """A NamedArray of ``array`` with ``axes``, without validation: for ops that computed both.

    ``axes`` must be a tuple of sized `Axis`, one per dimension of ``array``, with distinct names.
    """
    return NamedArray._new(array, axes)


def require_named(op: str, x: Any, fix: str = "") -> NamedArray:
    """``x`` if it is a NamedArray; otherwise the error every op raises, naming ``op``."""
    if not isinstance(x, NamedArray):
        hint = f"; {fix}" if fix else ""
        raise NamedTypeError(f"{op}: expected a NamedArray, got {type(x).__name__}{hint}")
    return x


def is_named_array(leaf: Any) -> bool:
    """True if ``leaf`` is a NamedArray (usable as a pytree ``is_leaf``)."""
    return isinstance(leaf, NamedArray)
