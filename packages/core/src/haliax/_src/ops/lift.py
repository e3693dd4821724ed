"""Factories that lift jax.numpy functions to named ones.

`elementwise`, `binary`, `reduction` and `along_axis` turn a jnp function into its named version
with ``__name__``, ``__module__`` and a generated docstring that links the jnp original, so op
modules are tables: ``exp = elementwise(jnp.exp)``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar, cast, overload

import jax
import jax.core  # jax.core.Tracer; the submodule is not re-exported by `import jax` for type checkers
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from ..base.axis import Axis, AxisSelection, AxisSelector, axis_position, axis_spec_to_tuple, selector_name
from ..base.errors import (
    BroadcastError,
    DTypeError,
    HaliaxError,
    NamedTypeError,
    format_shape,
    reported_as,
    reword,
)
from ..base.named_array import NamedArray, is_named_array
from .broadcast import align_pair, broadcast_binary, broadcast_raw, broadcast_to

_SCALARS = (int, float, complex, bool)
_PUBLIC_MODULE = "haliax"


def _jnp_link(fn: Callable[..., Any]) -> str:
    module = getattr(fn, "__module__", "") or ""
    name = getattr(fn, "__name__", "fn")
    if module.startswith("jax._src.numpy") or module == "jax.numpy":
        qual = f"jax.numpy.{name}"
    elif module.startswith("jax._src.lax") or module == "jax.lax":
        qual = f"jax.lax.{name}"
    elif module.startswith("jax._src.nn") or module == "jax.nn":
        qual = f"jax.nn.{name}"
    else:
        qual = f"{module}.{name}"
    return f"[`{qual}`](https://docs.jax.dev/en/latest/_autosummary/{qual}.html)"


def _finish(op: Callable[..., Any], fn: Callable[..., Any], name: str | None, summary: str) -> Any:
    op.__name__ = op.__qualname__ = name or fn.__name__
    op.__module__ = _PUBLIC_MODULE
    op.__doc__ = f"{summary}\n\nNamed version of {_jnp_link(fn)}."
    op.__wrapped_jnp__ = fn  # type: ignore[attr-defined]  # read by the table-driven tests
    return op


def check_unnamed(op: str, named_axes: tuple[Axis, ...], x: Any) -> Any:
    """Pass scalars and 0-d arrays through; an unnamed array with dimensions is an error."""
    if isinstance(x, _SCALARS) or x is None:
        return x
    shape = getattr(x, "shape", None)
    if shape is None:
        return x
    if len(shape) != 0:
        raise BroadcastError(
            f"{op}: cannot combine a NamedArray {format_shape(named_axes)} with an unnamed array of "
            f"shape {tuple(shape)}; name its axes first with hax.named(x, axes)"
        )
    return x


def _has_dims(x: Any) -> bool:
    """True for an unnamed array with at least one dimension."""
    shape = getattr(x, "shape", None)
    return shape is not None and len(shape) != 0


_Tree = TypeVar("_Tree")

# The op protocols below say what comes back: a NamedArray for a NamedArray, a jax array for an
# unnamed array or scalar (the op is then jax.numpy's own), the same structure for a pytree.


class UnaryOp(Protocol):
    """A named elementwise function of one array: NamedArray in, NamedArray out (same axes)."""

    @overload
    def __call__(self, a: NamedArray, /, *args: Any, **kwargs: Any) -> NamedArray: ...
    @overload
    def __call__(self, a: ArrayLike, /, *args: Any, **kwargs: Any) -> jax.Array: ...


class BinaryOp(Protocol):
    """A named elementwise function of two arrays, broadcasting by name.

    A NamedArray operand makes the result a NamedArray; two unnamed operands give a jax array.
    """

    @overload
    def __call__(
        self, a: NamedArray, b: NamedArray | ArrayLike, /, *args: Any, **kwargs: Any
    ) -> NamedArray: ...
    @overload
    def __call__(self, a: ArrayLike, b: NamedArray, /, *args: Any, **kwargs: Any) -> NamedArray: ...
    @overload
    def __call__(self, a: ArrayLike, b: ArrayLike, /, *args: Any, **kwargs: Any) -> jax.Array: ...


def elementwise(fn: Callable[..., Any], *, name: str | None = None, summary: str | None = None) -> UnaryOp:
    """Lift an elementwise jnp function of one array: the result keeps the input's axes."""

    def op(a: Any, /, *args: Any, **kwargs: Any) -> Any:
        if isinstance(a, NamedArray):
            return NamedArray._new(fn(a.array, *args, **kwargs), a.axes)
        return fn(a, *args, **kwargs)

    return _finish(
        op, fn, name, summary or f"Elementwise `{name or fn.__name__}`; the result keeps the axes."
    )


# jnp functions that, for two traced operands of one real floating dtype, weak type and shape, emit
# exactly this one lax primitive; binding it directly skips the jnp ufunc's promotion machinery,
# which is most of an op's tracing cost (the equation is the same).
_SAME_TYPE_LAX: dict[Any, Callable[[Any, Any], Any]] = {
    jnp.add: jax.lax.add,
    jnp.subtract: jax.lax.sub,
    jnp.multiply: jax.lax.mul,
    jnp.maximum: jax.lax.max,
    jnp.minimum: jax.lax.min,
}
_REAL_FLOATS = frozenset(np.dtype(t) for t in (jnp.bfloat16, jnp.float16, jnp.float32, jnp.float64))


def binary(fn: Callable[..., Any], *, name: str | None = None, summary: str | None = None) -> BinaryOp:
    """Lift an elementwise jnp function of two arrays: operands broadcast by axis name."""
    op_name = name or fn.__name__
    lax_fn = _SAME_TYPE_LAX.get(fn)

    def op(a: Any, b: Any, /, *args: Any, **kwargs: Any) -> Any:
        if isinstance(a, NamedArray):
            if isinstance(b, NamedArray):
                if a.axes == b.axes:
                    x, y = a.array, b.array
                    if (
                        lax_fn is not None
                        and isinstance(x, jax.core.Tracer)
                        and isinstance(y, jax.core.Tracer)
                    ):
                        tx, ty = cast(Any, x.aval), cast(Any, y.aval)  # ShapedArrays
                        if (
                            tx.dtype == ty.dtype
                            and tx.weak_type == ty.weak_type
                            and tx.shape == ty.shape
                            and tx.dtype in _REAL_FLOATS
                            and not (args or kwargs)
                        ):
                            return NamedArray._new(lax_fn(x, y), a.axes)
                    return NamedArray._new(fn(x, y, *args, **kwargs), a.axes)
                if args or kwargs:
                    axes, x, y = align_pair(op_name, a, b)
                    return NamedArray._new(fn(x, y, *args, **kwargs), axes)
                return broadcast_binary(op_name, fn, a, b)
            if not a.axes and _has_dims(b):
                # A 0-d NamedArray is a scalar: with an unnamed array the result is unnamed.
                return fn(a.array, b, *args, **kwargs)
            return NamedArray._new(fn(a.array, check_unnamed(op_name, a.axes, b), *args, **kwargs), a.axes)
        if isinstance(b, NamedArray):
            if not b.axes and _has_dims(a):
                return fn(a, b.array, *args, **kwargs)
            return NamedArray._new(fn(check_unnamed(op_name, b.axes, a), b.array, *args, **kwargs), b.axes)
        return fn(a, b, *args, **kwargs)

    return _finish(
        op, fn, name, summary or f"Elementwise `{op_name}` of two arrays, broadcasting by axis name."
    )


def axis_positions(op: str, a: NamedArray, axis: AxisSelection) -> tuple[int, ...]:
    """Positions of the selected axes in ``a`` (error naming the op if one is missing)."""
    axes = a.axes
    try:
        sels = axis_spec_to_tuple(axis)
    except HaliaxError as e:
        raise reword(e, op) from None
    return tuple([axis_position(op, axes, sel) for sel in sels])


def _where_array(op: str, a: NamedArray, where: Any) -> Any:
    if where is None or not isinstance(where, NamedArray):
        raw = check_unnamed(op, a.axes, where)
    elif where.axes == a.axes:
        raw = where.array
    else:
        with reported_as(op):
            raw = broadcast_to(where, a.axes, ensure_order=True, enforce_no_extra_axes=True).array
    dtype = getattr(raw, "dtype", None)
    if dtype is not None and dtype != np.bool_:
        shape = format_shape(where.axes) if isinstance(where, NamedArray) else f"of shape {tuple(raw.shape)}"
        raise DTypeError(
            f"{op}: the where= mask {shape} has dtype {dtype}, but a mask must be boolean; "
            f"compare to get one, e.g. where=(mask > 0)"
        )
    return raw


def _is_unnamed_array(x: Any) -> bool:
    """Scalars and unnamed arrays: what a reduction hands straight to jax.numpy."""
    return isinstance(x, (*_SCALARS, jax.Array, np.ndarray, np.generic))


def _unnamed_axis(op: str, axis: Any) -> Any:
    """``axis`` for an unnamed array: integers pass through; names cannot be resolved."""
    for sel in axis if isinstance(axis, (tuple, list)) else (axis,):
        if isinstance(sel, (str, Axis)):
            raise NamedTypeError(
                f"{op}: got an unnamed array, which has no axis {selector_name(sel)!r}; "
                f"name its axes first with hax.named(x, axes), or pass integer positions"
            )
    return axis


def _no_keepdims(op: str, kwargs: dict[str, Any]) -> None:
    if kwargs.get("keepdims"):
        raise NamedTypeError(f"{op}: keepdims=True is not supported; reduced axes are removed by name")
    if kwargs.get("out") is not None:
        raise NamedTypeError(f"{op}: out= is not supported; use the returned array")


class ReductionOp(Protocol):
    """A named reduction: ``f(array, axis=None, *, where=None, **kwargs)``.

    A NamedArray gives a NamedArray without the reduced axes; an unnamed array (integer axes) a jax
    array; a pytree the same structure, reduced leaf by leaf.
    """

    @overload
    def __call__(
        self,
        array: NamedArray,
        /,
        axis: AxisSelection | None = None,
        *,
        where: NamedArray | ArrayLike | None = None,
        **kwargs: Any,
    ) -> NamedArray: ...
    @overload
    def __call__(
        self,
        array: ArrayLike,
        /,
        axis: int | Sequence[int] | None = None,
        *,
        where: ArrayLike | None = None,
        **kwargs: Any,
    ) -> jax.Array: ...
    @overload
    def __call__(
        self,
        array: _Tree,
        /,
        axis: AxisSelection | None = None,
        *,
        where: NamedArray | ArrayLike | None = None,
        **kwargs: Any,
    ) -> _Tree: ...


def reduction(
    fn: Callable[..., Any],
    *,
    name: str | None = None,
    single_axis: bool = False,
    supports_where: bool = True,
    summary: str | None = None,
) -> ReductionOp:
    """Lift a jnp reduction: named axes are removed; ``axis=None`` reduces all (a 0-d NamedArray).

    An unnamed array (or scalar) goes straight to the jnp function, with integer axes; any other
    pytree is reduced leaf by leaf.
    """
    op_name = name or fn.__name__
    # One jitted ``fn(x, axis=pos)`` per position(s): eagerly a single C++ dispatch, skipping the jnp
    # wrapper's argument checks; under tracing inlined (same equations) from a jaxpr traced once.
    by_position: dict[Any, Callable[[Any], Any]] = {}

    def plain(x: Any, pos: Any) -> Any:
        run = by_position.get(pos)
        if run is None:
            run = by_position[pos] = jax.jit(functools.partial(fn, axis=pos), inline=True)
        return run(x)

    def op(array: Any, /, axis: AxisSelection | None = None, *, where: Any = None, **kwargs: Any) -> Any:
        if where is not None and not supports_where:
            raise NamedTypeError(f"{op_name}: does not take a where= mask")
        if kwargs:
            _no_keepdims(op_name, kwargs)
        if not isinstance(array, NamedArray):
            if _is_unnamed_array(array):
                if where is not None:
                    kwargs["where"] = raw(where)
                return fn(array, axis=_unnamed_axis(op_name, axis), **kwargs)
            return jax.tree_util.tree_map(
                lambda leaf: op(leaf, axis, where=where, **kwargs), array, is_leaf=is_named_array
            )
        if where is not None:
            kwargs["where"] = _where_array(op_name, array, where)
        if axis is None:
            if kwargs:
                return NamedArray._new(fn(array.array, axis=None, **kwargs), ())
            return NamedArray._new(plain(array.array, None), ())
        axes = array.axes
        if isinstance(axis, (str, Axis)):
            pos: tuple[int, ...] | int = axis_position(op_name, axes, axis)
            out_axes = axes[:pos] + axes[pos + 1 :]
        else:
            if single_axis:
                sel = axis_spec_to_tuple(axis)
                if len(sel) != 1:
                    raise NamedTypeError(f"{op_name}: takes one axis, got {list(sel)}")
            pos = axis_positions(op_name, array, axis)
            drop = set(pos)
            out_axes = tuple(ax for i, ax in enumerate(axes) if i not in drop)
            if single_axis:
                pos = pos[0]
        if kwargs:
            return NamedArray._new(fn(array.array, axis=pos, **kwargs), out_axes)
        return NamedArray._new(plain(array.array, pos), out_axes)

    what = "one axis" if single_axis else "the given axes (all when `axis` is None)"
    return _finish(op, fn, name, summary or f"`{op_name}` over {what}; reduced axes are removed.")


class AxiswiseOp(Protocol):
    """A named shape-preserving op along one axis: ``f(a, axis, *args, **kwargs)``.

    A NamedArray along a named axis keeps its axes; ``axis=None`` (the flattened array) and unnamed
    arrays give a jax array.
    """

    @overload
    def __call__(self, a: NamedArray, axis: AxisSelector, *args: Any, **kwargs: Any) -> NamedArray: ...
    @overload
    def __call__(self, a: NamedArray, axis: None, *args: Any, **kwargs: Any) -> jax.Array: ...
    @overload
    def __call__(self, a: ArrayLike, axis: int | None, *args: Any, **kwargs: Any) -> jax.Array: ...


def along_axis(fn: Callable[..., Any], *, name: str | None = None, summary: str | None = None) -> AxiswiseOp:
    """Lift a shape-preserving jnp function along one axis (``cumsum``, ``sort``, ...).

    ``axis=None`` works on the flattened array, as in jax.numpy, and returns an unnamed 1-d array;
    an unnamed input goes straight to the jnp function.
    """
    op_name = name or fn.__name__

    def op(a: Any, axis: AxisSelector | None, *args: Any, **kwargs: Any) -> Any:
        if not isinstance(a, NamedArray):
            return fn(a, _unnamed_axis(op_name, axis), *args, **kwargs)
        if axis is None:
            return fn(a.array, None, *args, **kwargs)
        if isinstance(axis, (str, Axis)):
            pos = axis_position(op_name, a.axes, axis)
        else:
            positions = axis_positions(op_name, a, axis)
            if len(positions) != 1:
                raise NamedTypeError(f"{op_name}: takes one axis, got {list(axis_spec_to_tuple(axis))}")
            pos = positions[0]
        return NamedArray._new(fn(a.array, pos, *args, **kwargs), a.axes)

    return _finish(op, fn, name, summary or f"`{op_name}` along one axis; the result keeps the axes.")


def unwrap_namedarrays(*a: Any) -> tuple[Any, ...]:
    """Replace each NamedArray argument by its ``.array``."""
    return tuple(x.array if isinstance(x, NamedArray) else x for x in a)


def raw(x: Any) -> Any:
    """``x.array`` for a NamedArray, ``x`` otherwise."""
    return x.array if isinstance(x, NamedArray) else x


def scalars_only(op: str, xs: Sequence[Any]) -> None:
    """Raise unless every element is a scalar or 0-d array."""
    for x in xs:
        if isinstance(x, NamedArray) and x.axes:
            raise NamedTypeError(f"{op}: expected a scalar, got a NamedArray {format_shape(x.axes)}")


#: The fix suggested when an op that needs names gets a raw array.
NAME_IT = "name its axes with hax.named"


def sized_axis(op: str, axis: Any, what: str) -> Axis:
    """``axis`` if it is an `Axis` (an op's static output size); a bare name is a `NamedTypeError`."""
    if not isinstance(axis, Axis):
        raise NamedTypeError(
            f"{op}: {what} must be an Axis with a size (the output size is static), got {axis!r}; "
            f"pass e.g. hax.Axis({selector_name(axis)!r}, n)"
        )
    return axis


def named_raw(op: str, arrays: list[Any]) -> tuple[tuple[Axis, ...], list[Any]]:
    """``broadcast_raw`` that also rejects unnamed arrays with dimensions."""
    axes, out = broadcast_raw(op, arrays)
    if any(isinstance(a, NamedArray) for a in arrays):
        for a in arrays:
            if not isinstance(a, NamedArray):
                check_unnamed(op, axes, a)
    return axes, out


def raw_array_or_scalar(x: Any) -> Any:
    """``x.array`` for a NamedArray; anything else is returned unchanged."""
    return raw(x)
