"""Wrapping positional functions for NamedArrays: the `lift` factories as calls, and an escape hatch.

`wrap_elemwise_unary`, `wrap_elemwise_binary`, `wrap_reduction_call` and `wrap_axiswise_call`
apply the factories of `lift` to a user's function (cached per function, so a call costs what a
table-built op costs). `apply_positional` runs ANY positional function over chosen named axes,
so an op haliax lacks is never a dead end.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

import jax
import jax.numpy as jnp

from ..base.axis import Axis, AxisSelection, AxisSelector, axis_spec_to_tuple, selector_name
from ..base.errors import NamedTypeError, ShapeMismatchError, format_shape
from ..base.named_array import NamedArray, require_named
from .broadcast import binary_plan
from .lift import along_axis, axis_positions, binary, elementwise, reduction

F = TypeVar("F", bound=Callable[..., Any])


# ----- functools.wraps that tolerates callables without the usual attributes -----
def safe_update_wrapper(wrapper: F, wrapped: Any) -> F:
    """`functools.update_wrapper` that skips attributes ``wrapped`` lacks (partials, eqx Modules)."""
    for attr in functools.WRAPPER_ASSIGNMENTS:
        try:
            value = getattr(wrapped, attr)
        except AttributeError:
            continue
        try:
            setattr(wrapper, attr, value)
        except (AttributeError, TypeError):
            continue
    for attr in functools.WRAPPER_UPDATES:
        target = getattr(wrapper, attr, None)
        if isinstance(target, dict):
            target.update(getattr(wrapped, attr, {}))
    wrapper.__wrapped__ = wrapped  # type: ignore[attr-defined]  # what functools.wraps also sets
    return wrapper


def safe_wraps(wrapped: Any) -> Callable[[F], F]:
    """Decorator form of `safe_update_wrapper` (a `functools.wraps` that never fails)."""
    return functools.partial(safe_update_wrapper, wrapped=wrapped)  # type: ignore[return-value]  # partial of a generic


# ----- the factories, cached per wrapped function -----
def _cached(factory: Callable[..., Any], fn: Callable[..., Any], **kwargs: Any) -> Any:
    try:
        return _lifted(factory, fn, tuple(sorted(kwargs.items())))
    except TypeError:  # an unhashable callable: lift it afresh
        return factory(fn, **kwargs)


@functools.lru_cache(maxsize=1024)
def _lifted(factory: Callable[..., Any], fn: Callable[..., Any], kwargs: tuple[tuple[str, Any], ...]) -> Any:
    return factory(fn, **dict(kwargs))


def wrap_elemwise_unary(f: Callable[..., Any], a: Any, *args: Any, **kwargs: Any) -> Any:
    """Apply elementwise ``f`` to ``a``'s array, keeping its axes (non-named ``a`` passes straight in).

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> x = hax.named(jnp.array([1.0, 4.0]), "pos")
        >>> hax.wrap.wrap_elemwise_unary(jnp.sqrt, x).array.tolist()
        [1.0, 2.0]
    """
    return _cached(elementwise, f)(a, *args, **kwargs)


def wrap_elemwise_binary(op: F) -> F:
    """Decorator: turn a binary positional function into one that broadcasts NamedArrays by name.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> @hax.wrap.wrap_elemwise_binary
        ... def scaled_diff(a, b):
        ...     return (a - b) / 2
        >>> x = hax.named(jnp.ones((2, 3)), ("batch", "embed"))
        >>> scaled_diff(x, hax.named(jnp.ones(3), "embed")).shape
        {'batch': 2, 'embed': 3}
    """
    lifted = binary(op)
    lifted.__module__ = getattr(op, "__module__", lifted.__module__)
    if getattr(op, "__doc__", None):
        lifted.__doc__ = op.__doc__
    return lifted  # type: ignore[return-value]  # same call signature, NamedArrays allowed


def wrap_reduction_call(
    fn: Callable[..., Any],
    a: NamedArray,
    axis: AxisSelection | None,
    where: Any = None,
    single_axis_only: bool = False,
    supports_where: bool = True,
    **kwargs: Any,
) -> NamedArray:
    """Apply a reducing positional ``fn`` (``fn(x, axis=..., **kw)``) over named axes of ``a``.

    ``axis=None`` reduces every axis (a 0-d NamedArray); ``where`` is broadcast to ``a`` by name.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> x = hax.named(jnp.ones((2, 3)), ("batch", "embed"))
        >>> hax.wrap.wrap_reduction_call(jnp.sum, x, "embed").array.tolist()
        [3.0, 3.0]
    """
    op = _cached(reduction, fn, single_axis=single_axis_only, supports_where=supports_where)
    if where is not None:
        kwargs["where"] = where
    return op(a, axis, **kwargs)


def wrap_axiswise_call(
    fn: Callable[..., Any], a: NamedArray, axis: AxisSelection, *, single_axis_only: bool, **kwargs: Any
) -> NamedArray:
    """Apply a shape-preserving positional ``fn`` (``fn(x, axis=..., **kw)``) along named axes.

    Several axes are passed to ``fn`` as a tuple of positions unless ``single_axis_only``.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> x = hax.named(jnp.array([[1, 2], [3, 4]]), ("row", "col"))
        >>> hax.wrap.wrap_axiswise_call(jnp.cumsum, x, "col", single_axis_only=True).array.tolist()
        [[1, 3], [3, 7]]
    """
    if isinstance(axis, (str, Axis)) or len(axis_spec_to_tuple(axis)) == 1:
        (one,) = axis_spec_to_tuple(axis)
        return _cached(along_axis, fn)(a, one, **kwargs)
    name = getattr(fn, "__name__", "wrap_axiswise_call")
    if single_axis_only:
        raise NamedTypeError(f"{name}: takes one axis, got {list(axis_spec_to_tuple(axis))}")
    require_named(name, a)
    return NamedArray._new(fn(a.array, axis=axis_positions(name, a, axis), **kwargs), a.axes)


class ReductionFunction(Protocol):
    """A named reduction with a ``where`` mask: ``f(array, axis=None, *, where=None, **kw)`` (e.g. ``hax.mean``)."""

    def __call__(
        self,
        array: NamedArray,
        /,
        axis: AxisSelection | None = None,
        *,
        where: NamedArray | None = None,
        **kwargs: Any,
    ) -> NamedArray: ...


class SimpleReductionFunction(Protocol):
    """A named reduction without a mask: ``f(array, axis=None, **kw)`` (e.g. ``hax.ptp``)."""

    def __call__(
        self, array: NamedArray, /, axis: AxisSelection | None = None, **kwargs: Any
    ) -> NamedArray: ...


# ----- the positional escape hatch -----
def apply_positional(
    fn: Callable[..., Any],
    *args: Any,
    axis: AxisSelection,
    out_axes: AxisSelection | None = None,
    **kwargs: Any,
) -> Any:
    """Apply any positional function over chosen named axes: the escape hatch for missing wrappers.

    Each NamedArray argument is laid out with its other ("batch") axes first, aligned by name
    across arguments (size-1 where an argument lacks one, so numpy broadcasting lines them up),
    followed by the axes of ``axis`` that it has, in ``axis``'s order. ``fn`` is called on these
    raw arrays (other arguments and ``kwargs`` pass through unchanged) and every array in its
    result is named: the batch axes, then ``out_axes`` for the trailing dimensions. ``out_axes``
    defaults to ``axis``; bare names take their sizes from the result, so a function may resize
    an axis or create a new one. A result whose shape does not fit raises. Every array of a tuple
    (or pytree) result gets the same ``out_axes``. To pass ``fn`` its own ``axis=`` keyword, bind
    it first: ``functools.partial(jnp.cumsum, axis=-1)`` (the chosen axes are the last ones).

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> m = hax.named(jnp.eye(2) * 2.0, ("row", "col")).broadcast_axis(hax.Axis("batch", 3))
        >>> inv = hax.apply_positional(jnp.linalg.inv, m, axis=("row", "col"))
        >>> inv.shape, inv.array[0].tolist()
        ({'batch': 3, 'row': 2, 'col': 2}, [[0.5, 0.0], [0.0, 0.5]])
        >>> det = hax.apply_positional(jnp.linalg.det, m, axis=("col", "row"), out_axes=())
        >>> det.axes
        (Axis(name='batch', size=3),)
    """
    op = getattr(fn, "__name__", "apply_positional")
    chosen = [selector_name(s) for s in axis_spec_to_tuple(axis)]
    chosen_set = set(chosen)
    batch: tuple[Axis, ...] = ()
    for x in args:
        if isinstance(x, NamedArray):
            mine = tuple(ax for ax in x.axes if ax.name not in chosen_set)
            batch = binary_plan(op, batch, mine)[0]
    sizes: dict[str, int] = {}
    raw_args = [_lay_out(op, x, batch, chosen, sizes) if isinstance(x, NamedArray) else x for x in args]
    for sel in axis_spec_to_tuple(axis):
        name = selector_name(sel)
        if name not in sizes:
            raise NamedTypeError(f"{op}: no argument has axis {name!r} named in axis=")
    out = fn(*raw_args, **kwargs)
    tail = axis_spec_to_tuple(chosen if out_axes is None else out_axes)
    return jax.tree_util.tree_map(lambda r: _name_result(op, r, batch, tail), out)


def _lay_out(
    op: str, x: NamedArray, batch: tuple[Axis, ...], chosen: Sequence[str], sizes: dict[str, int]
) -> Any:
    """``x``'s array as (aligned batch axes, then its chosen axes in order)."""
    pos = {ax.name: i for i, ax in enumerate(x.axes)}
    for name in chosen:
        if name in pos:
            sizes[name] = x.axes[pos[name]].size
    perm = [pos[ax.name] for ax in batch if ax.name in pos] + [pos[n] for n in chosen if n in pos]
    arr = x.array if perm == list(range(len(perm))) else jax.lax.transpose(x.array, perm)
    n_mine = sum(1 for ax in batch if ax.name in pos)
    if n_mine != len(batch):
        shape = [ax.size if ax.name in pos else 1 for ax in batch] + list(arr.shape[n_mine:])
        arr = jax.lax.reshape(arr, tuple(shape))
    return arr


def _name_result(op: str, r: Any, batch: tuple[Axis, ...], tail: tuple[AxisSelector, ...]) -> Any:
    shape = jnp.shape(r)
    expected = len(batch) + len(tail)
    if len(shape) != expected or tuple(shape[: len(batch)]) != tuple(ax.size for ax in batch):
        raise ShapeMismatchError(
            f"{op}: the result has shape {tuple(shape)}, which does not fit batch axes {format_shape(batch)} "
            f"followed by out_axes {format_shape(tail)}; pass out_axes= naming the result's trailing dimensions"
        )
    named_tail = tuple(
        Axis(s, n) if isinstance(s, str) else s for s, n in zip(tail, shape[len(batch) :], strict=True)
    )
    for ax, n in zip(named_tail, shape[len(batch) :], strict=True):
        if ax.size != n:
            raise ShapeMismatchError(
                f"{op}: out_axes gives {ax.name!r} size {ax.size} but the result's dimension has size {n}"
            )
    return NamedArray._new(r, batch + named_tail)
