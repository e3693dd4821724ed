"""Named contraction for layers: positions from axis names, then one ``dot_general`` call.

Layers contract with this rather than an einsum so that names cost nothing under jit: the plan
(which positions contract, which batch, which axes the result has) depends only on the axis
tuples and is cached, and the op is a single ``dot_general``, transposed to Haliax's result order (each operand's axes by first appearance) only where
that differs, e.g. attention scores whose batch axes are not leading.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import jax
from jax.typing import DTypeLike

from haliax import NamedArray
from haliax.axis import Axis
from haliax.extend import axis_not_found, named_unchecked, selector_name
from haliax.extend import contraction_plan as _core_plan

DotGeneral = Callable[..., Any]


@functools.lru_cache(maxsize=4096)
def contraction_plan(
    op: str,
    a: tuple[Axis, ...],
    b: tuple[Axis, ...],
    names: tuple[str, ...],
    order: tuple[str, ...] | None = None,
) -> tuple[Any, tuple[int, ...] | None, tuple[Axis, ...]]:
    """Dimension numbers, result permutation (None when not needed) and result axes.

    Contracts ``names``; shared other axes batch. The result axes are in ``order`` (names), by
    default Haliax's: every axis of ``a`` then of ``b`` by first appearance, contracted ones
    left out; ``order=()`` keeps ``dot_general``'s own layout (no transpose). Stricter than
    ``hax.dot``: every contracted name must be in both operands (a layer whose input lacks its
    ``In`` axis raises instead of summing). The plan itself is core's (cached).
    """
    for n in names:
        for axes in (a, b):
            if not any(ax.name == n for ax in axes):
                raise axis_not_found(op, [n], axes)
    if order is None:
        order = haliax_order(a, b, names)
    plan = _core_plan(op, (a, b), frozenset(names), order or None)
    if order == () and plan.perm is not None:  # dot_general's own layout: undo the planned transpose
        natural: list[Axis] = list(plan.out_axes)
        for j, i in enumerate(plan.perm):
            natural[i] = plan.out_axes[j]
        return plan.steps[0].dims, None, tuple(natural)
    return plan.steps[0].dims, plan.perm, plan.out_axes


def haliax_order(a: tuple[Axis, ...], b: tuple[Axis, ...], contracted: tuple[str, ...]) -> tuple[str, ...]:
    """``hax.dot``'s result order: the names of ``a`` then ``b`` by first appearance, less ``contracted``."""
    seen: dict[str, None] = {}
    for ax in a + b:
        if ax.name not in contracted:
            seen.setdefault(ax.name, None)
    return tuple(seen)


def names_of(axis: Any) -> tuple[str, ...]:
    """Axis names of an axis spec or selection (one axis, a sequence, or a dict)."""
    if isinstance(axis, (str, Axis)):
        return (selector_name(axis),)
    if isinstance(axis, dict):
        return tuple(axis)
    return tuple(selector_name(a) for a in axis)


def contract(
    op: str,
    a: NamedArray,
    b: NamedArray,
    axis: Sequence[str],
    *,
    dot_general: DotGeneral = jax.lax.dot_general,
    precision: Any = None,
    preferred_element_type: DTypeLike | None = None,
    order: tuple[str, ...] | None = None,
) -> NamedArray:
    """Contract ``axis`` of ``a`` and ``b`` with one ``dot_general`` (and a transpose only when needed).

    ``order`` as in `contraction_plan`: None for ``hax.dot``'s order, ``()`` for the untransposed layout.
    """
    dims, perm, out_axes = contraction_plan(op, a.axes, b.axes, tuple(axis), order)
    raw = dot_general(
        a.array, b.array, dims, precision=precision, preferred_element_type=preferred_element_type
    )
    if perm is not None:
        raw = jax.lax.transpose(raw, perm)
    return named_unchecked(raw, out_axes)
