"""Named contraction: `dot`, and the contraction planner that `einsum` shares.

A contraction of NamedArrays is planned from their axis tuples alone (cached), then run as one
``jax.lax.dot_general`` per pair of operands plus at most one ``jax.lax.transpose`` at the end.
The default result order is Haliax's: every kept axis in order of first appearance across the
operands. ``dot_general`` puts batch axes first, so the plan orders the batch axes as the result
wants them and transposes only when the free axes must move past them.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Sequence
from types import EllipsisType
from typing import Any, NamedTuple, TypeAlias

import jax
import jax.core  # jax.core.Tracer; the submodule is not re-exported by `import jax` for type checkers
import jax.numpy as jnp
from jax.typing import DTypeLike

from ..base import sharding_hook
from ..base.axis import (
    Axis,
    AxisSelection,
    AxisSelector,
    axis_spec_to_tuple,
    partial_order_for,
    selector_name,
)
from ..base.errors import (
    AxisNotFoundError,
    NamedTypeError,
    axis_size_mismatch,
    did_you_mean,
    format_shape,
)
from ..base.named_array import NamedArray
from ..base.types import PrecisionLike

_Dims: TypeAlias = tuple[tuple[tuple[int, ...], tuple[int, ...]], tuple[tuple[int, ...], tuple[int, ...]]]


class _Step(NamedTuple):
    """One pairwise contraction: sums applied to each side first, then one dot_general."""

    sum_lhs: tuple[int, ...]
    sum_rhs: tuple[int, ...]
    dims: _Dims


class _Plan(NamedTuple):
    """A whole contraction: the sums of a lone operand, the pairwise steps, the final transpose."""

    sum_first: tuple[int, ...]
    steps: tuple[_Step, ...]
    perm: tuple[int, ...] | None
    out_axes: tuple[Axis, ...]


def axes_by_name(op: str, all_axes: tuple[tuple[Axis, ...], ...]) -> dict[str, Axis]:
    """Every axis by name, in order of first appearance; one name with two sizes is an error."""
    seen: dict[str, Axis] = {}
    for axes in all_axes:
        for ax in axes:
            prev = seen.get(ax.name)
            if prev is None:
                seen[ax.name] = ax
            elif prev.size != ax.size:
                raise axis_size_mismatch(op, ax.name, prev.size, ax.size)
    return seen


def _operands(all_axes: tuple[tuple[Axis, ...], ...]) -> str:
    return ", ".join(format_shape(axes) for axes in all_axes)


def _pair_step(
    lhs: tuple[Axis, ...],
    rhs: tuple[Axis, ...],
    contract: frozenset[str],
    later: frozenset[str],
    rank: dict[str, int],
) -> tuple[_Step, tuple[Axis, ...]]:
    """Plan ``lhs`` x ``rhs``: contract the names in ``contract`` that no later operand needs.

    Batch axes come out in the order ``rank`` gives them (their place in the final result).
    """
    lhs_names, rhs_names = {ax.name for ax in lhs}, {ax.name for ax in rhs}
    done = contract - later
    sum_lhs = tuple(i for i, ax in enumerate(lhs) if ax.name in done and ax.name not in rhs_names)
    sum_rhs = tuple(i for i, ax in enumerate(rhs) if ax.name in done and ax.name not in lhs_names)
    a = tuple(ax for i, ax in enumerate(lhs) if i not in sum_lhs)
    b = tuple(ax for i, ax in enumerate(rhs) if i not in sum_rhs)
    a_pos = {ax.name: i for i, ax in enumerate(a)}
    b_pos = {ax.name: i for i, ax in enumerate(b)}
    shared = [ax for ax in a if ax.name in b_pos]
    contracting = [ax.name for ax in shared if ax.name in done]
    batch = sorted((ax for ax in shared if ax.name not in done), key=lambda ax: rank.get(ax.name, -1))
    dims: _Dims = (
        (tuple(a_pos[n] for n in contracting), tuple(b_pos[n] for n in contracting)),
        (tuple(a_pos[ax.name] for ax in batch), tuple(b_pos[ax.name] for ax in batch)),
    )
    out = (
        tuple(batch)
        + tuple(ax for ax in a if ax.name not in b_pos)
        + tuple(ax for ax in b if ax.name not in a_pos)
    )
    return _Step(sum_lhs, sum_rhs, dims), out


def _order(op: str, axes: tuple[Axis, ...], out_axes: tuple[Any, ...]) -> tuple[Axis, ...]:
    """``axes`` (the default result order) ordered by the partial order ``out_axes``, errors worded for ``op``."""
    names = {ax.name for ax in axes}
    for sel in out_axes:
        if sel is Ellipsis:
            continue
        name = selector_name(sel)
        if name not in names:
            raise AxisNotFoundError(
                f"{op}: out_axes names axis {name!r}, which the result {format_shape(axes)} does not have"
                f"{did_you_mean(name, names)}"
            )
        if isinstance(sel, Axis):
            size = next(ax.size for ax in axes if ax.name == name)
            if size != sel.size:
                raise axis_size_mismatch(op, name, size, sel.size)
    return partial_order_for(op, out_axes, axes, label="out_axes")


@functools.lru_cache(maxsize=4096)
def contraction_plan(
    op: str,
    all_axes: tuple[tuple[Axis, ...], ...],
    contract: frozenset[str],
    out_axes: tuple[Any, ...] | None,
) -> _Plan:
    """Plan contracting ``contract`` across operands with these axes, left to right.

    ``out_axes`` is a partial order (any number of ``...``) of Haliax's default result order,
    every kept axis in order of first appearance across the operands; ``(...,)`` asks for that
    default. None keeps the layout ``dot_general`` produces (batch axes, then the first
    operand's free axes, then the second's), which never needs a transpose. Names in
    ``contract`` must each be in some operand (the caller checks).
    """
    seen = axes_by_name(op, all_axes)
    result: tuple[Axis, ...] | None = None
    rank: dict[str, int] = {}
    if out_axes is not None:
        result = _order(op, tuple(ax for name, ax in seen.items() if name not in contract), out_axes)
        rank = {ax.name: i for i, ax in enumerate(result)}
    acc = all_axes[0]
    sum_first: tuple[int, ...] = ()
    steps = []
    if len(all_axes) == 1:
        sum_first = tuple(i for i, ax in enumerate(acc) if ax.name in contract)
        acc = tuple(ax for ax in acc if ax.name not in contract)
    for k in range(1, len(all_axes)):
        later = frozenset(ax.name for axes in all_axes[k + 1 :] for ax in axes)
        step, acc = _pair_step(acc, all_axes[k], contract, later, rank)
        steps.append(step)
    if result is None:
        return _Plan(sum_first, tuple(steps), None, acc)
    pos = {ax.name: i for i, ax in enumerate(acc)}
    order = tuple(pos[ax.name] for ax in result)
    perm = order if order != tuple(range(len(acc))) else None
    return _Plan(sum_first, tuple(steps), perm, result)


def _sum(x: Any, positions: tuple[int, ...]) -> Any:
    return jnp.sum(x, axis=positions) if positions else x


def _promote(a: Any, b: Any) -> tuple[Any, Any]:
    if a.dtype == b.dtype:
        return a, b
    dtype = jnp.promote_types(a.dtype, b.dtype)
    return a.astype(dtype), b.astype(dtype)


def _execute(
    plan: _Plan,
    precision: PrecisionLike,
    preferred_element_type: DTypeLike | None,
    dot_general: Callable[..., Any],
    *raw: Any,
) -> Any:
    acc = _sum(raw[0], plan.sum_first)
    for step, other in zip(plan.steps, raw[1:], strict=True):
        lhs, rhs = _promote(_sum(acc, step.sum_lhs), _sum(other, step.sum_rhs))
        acc = dot_general(
            lhs, rhs, step.dims, precision=precision, preferred_element_type=preferred_element_type
        )
    if plan.perm is not None:
        acc = jax.lax.transpose(acc, plan.perm)
    return acc


@functools.lru_cache(maxsize=1024)
def _jitted_execute(
    plan: _Plan,
    precision: PrecisionLike,
    preferred_element_type: DTypeLike | None,
    dot_general: Callable[..., Any],
) -> Callable[..., Any]:
    return jax.jit(functools.partial(_execute, plan, precision, preferred_element_type, dot_general))


def _program(
    plan: _Plan,
    precision: PrecisionLike,
    preferred_element_type: DTypeLike | None,
    dot_general: Callable[..., Any],
) -> Callable[..., Any] | None:
    """The cached jitted program of ``plan``; None when an option is unhashable (e.g. a custom dot_general object)."""
    try:
        return _jitted_execute(plan, precision, preferred_element_type, dot_general)
    except TypeError:
        return None


def _run(
    plan: _Plan,
    program: Callable[..., Any] | None,
    raw: Sequence[Any],
    precision: PrecisionLike,
    preferred_element_type: DTypeLike | None,
    dot_general: Callable[..., Any],
) -> NamedArray:
    """Execute ``plan`` on raw arrays: traced, the primitives directly; eagerly, ``program`` if there is one."""
    if program is None or any(isinstance(r, jax.core.Tracer) for r in raw):
        acc = _execute(plan, precision, preferred_element_type, dot_general, *raw)
    else:
        acc = program(*raw)
    return sharding_hook.constrain(NamedArray._new(acc, plan.out_axes))


def run_contraction(
    plan: _Plan,
    arrays: Sequence[NamedArray],
    precision: PrecisionLike,
    preferred_element_type: DTypeLike | None,
    dot_general: Callable[..., Any],
) -> NamedArray:
    """Execute a `contraction_plan` on the operands' raw arrays.

    Under tracing this emits the primitives directly. Eagerly, a lone ``lax.dot_general`` would
    be dispatched one primitive at a time through jax's slow path, so the whole contraction runs
    as one cached jitted program instead (the path ``jnp.matmul`` takes).
    """
    program = _program(plan, precision, preferred_element_type, dot_general)
    raw = [a.array for a in arrays]
    return _run(plan, program, raw, precision, preferred_element_type, dot_general)


def check_operands(op: str, arrays: Sequence[Any]) -> tuple[tuple[Axis, ...], ...]:
    """The axis tuples of the operands; anything but a NamedArray is an error."""
    if not arrays:
        raise NamedTypeError(f"{op}: needs at least one NamedArray")
    for i, a in enumerate(arrays):
        if not isinstance(a, NamedArray):
            raise NamedTypeError(
                f"{op}: operand {i} ({type(a).__name__}) is not a NamedArray; name its axes with hax.named(x, axes)"
            )
    return tuple(a.axes for a in arrays)


@functools.lru_cache(maxsize=4096)
def _contracted_names(
    all_axes: tuple[tuple[Axis, ...], ...], axis: tuple[AxisSelector, ...] | None
) -> frozenset[str]:
    """The names ``dot``'s ``axis`` argument contracts (None: every axis of every operand)."""
    seen = axes_by_name("dot", all_axes)
    if axis is None:
        return frozenset(seen)
    out = set()
    for sel in axis:
        if sel is Ellipsis or not isinstance(sel, (str, Axis)):
            raise NamedTypeError(f"dot: axis must be names or Axis objects, got {sel!r}")
        name = selector_name(sel)
        found = seen.get(name)
        if found is None:
            raise AxisNotFoundError(
                f"dot: axis {name!r} to contract is not in any operand: {_operands(all_axes)}{did_you_mean(name, seen)}"
            )
        if isinstance(sel, Axis) and sel.size != found.size:
            raise axis_size_mismatch("dot", name, found.size, sel.size)
        out.add(name)
    return frozenset(out)


_REQUIRED: Any = object()
_DEFAULT_ORDER = (Ellipsis,)


def dot(
    *arrays: NamedArray,
    axis: AxisSelection | None = _REQUIRED,
    precision: PrecisionLike = None,
    preferred_element_type: DTypeLike | None = None,
    out_axes: Sequence[AxisSelector | EllipsisType] | None = None,
    dot_general: Callable[..., Any] = jax.lax.dot_general,
) -> NamedArray:
    """Contract named arrays over ``axis``, batching over the other shared axes.

    Axes named in ``axis`` are summed over (an axis only one operand has is summed in that
    operand). ``axis=None`` contracts every axis, giving a 0-d NamedArray; ``axis=()`` contracts
    nothing (an outer product, or a batched elementwise product over shared axes). Shared axes
    that are not contracted are batch axes; every other axis is kept.

    The result's axes are, by default, every kept axis in order of first appearance across the
    operands (the first operand's, then the new ones of the second, ...). ``out_axes`` reorders
    them with a partial order such as ``("batch", ..., "embed")``; it may hold several ``...``
    (see `haliax.rearrange`). Two operands lower to exactly one ``dot_general`` plus, when the
    order asks for it, one transpose; more operands are contracted pairwise from the left.

    Args:
        arrays: the NamedArrays to contract.
        axis: the axes to contract: a name, an `Axis`, a sequence of them, or None. Required.
        precision: passed to ``dot_general``.
        preferred_element_type: passed to ``dot_general`` (e.g. ``jnp.float32`` to accumulate bf16).
        out_axes: a partial order for the result's axes (names, `Axis` objects and ``...``).
        dot_general: the function that does the work, with the signature of ``jax.lax.dot_general``.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> x = hax.named(jnp.ones((2, 3)), ("batch", "embed"))
        >>> w = hax.named(jnp.ones((3, 4)), ("embed", "mlp"))
        >>> hax.dot(x, w, axis="embed").shape
        {'batch': 2, 'mlp': 4}
    """
    if axis is _REQUIRED:
        if not arrays or isinstance(arrays[0], NamedArray):
            raise AxisNotFoundError(
                "dot: no axes to contract were given; pass them as a keyword, e.g. "
                "hax.dot(x, w, axis='embed') (axis=None contracts every axis, axis=() none)"
            )
        # Haliax's old calling convention, dot(axis, *arrays), still works with a warning.
        warnings.warn(
            "dot(axis, *arrays) is deprecated; pass the axes as a keyword: dot(*arrays, axis=axis)",
            DeprecationWarning,
            stacklevel=2,
        )
        axis, arrays = arrays[0], arrays[1:]
    # A repeat call with the very same axis tuples (``is``: no Axis.__hash__ in Python per axis)
    # and options reuses its plan and compiled program; anything unhashable takes the full path.
    # Two operands, the common case, are spelled out: no comprehension frames on the hot path.
    ident: Any = None
    hit = None
    if len(arrays) == 2 and type(arrays[0]) is NamedArray and type(arrays[1]) is NamedArray:
        lhs, rhs = arrays
        try:
            ident = (
                id(lhs.axes),
                id(rhs.axes),
                axis,
                out_axes,
                precision,
                preferred_element_type,
                dot_general,
            )
            hit = _by_identity.get(ident)
        except TypeError:
            ident = None
        if hit is not None and hit[0][0] is lhs.axes and hit[0][1] is rhs.axes:
            return _run(
                hit[1], hit[2], (lhs.array, rhs.array), precision, preferred_element_type, dot_general
            )
    all_axes = check_operands("dot", arrays)
    key = None if axis is None else axis_spec_to_tuple(axis)
    contract = _contracted_names(all_axes, key)
    out = _DEFAULT_ORDER if out_axes is None else tuple(out_axes)
    plan = contraction_plan("dot", all_axes, contract, out)
    program = _program(plan, precision, preferred_element_type, dot_general)
    if ident is not None:
        if len(_by_identity) >= _BY_IDENTITY_MAX:
            _by_identity.clear()
        _by_identity[ident] = (all_axes, plan, program)
    return _run(plan, program, [a.array for a in arrays], precision, preferred_element_type, dot_general)


# dot's plans by the identity of its operands' axis tuples; each entry holds those tuples, so their
# ids cannot be reused while it lives, and a hit is also checked with ``is``.
_BY_IDENTITY_MAX = 1024
_by_identity: dict[Any, tuple[tuple[tuple[Axis, ...], ...], _Plan, Callable[..., Any] | None]] = {}
