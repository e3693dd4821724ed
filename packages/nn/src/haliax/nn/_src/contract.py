"""Named contraction for layers: positions from axis names, then one ``dot_general`` call.

Layers contract with this rather than an einsum so that names cost nothing under jit: the plan
(which positions contract, which batch, which axes the result has) depends only on the axis
tuples and is cached, and the op is a single ``dot_general`` in the layout it naturally returns
(batch axes, then the left operand's free axes, then the right operand's), so no transpose is added.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import jax

from haliax._src.axis import Axis
from haliax._src.dot import contraction_plan as _core_plan
from haliax._src.errors import axis_not_found
from haliax._src.named_array import NamedArray

DotGeneral = Callable[..., Any]


@functools.lru_cache(maxsize=4096)
def contraction_plan(
    op: str, a: tuple[Axis, ...], b: tuple[Axis, ...], names: tuple[str, ...]
) -> tuple[Any, tuple[Axis, ...]]:
    """Dimension numbers and result axes for contracting ``names``; shared other axes batch.

    Stricter than ``hax.dot``: every contracted name must be in both operands (a layer whose
    input lacks its ``In`` axis raises instead of summing). The plan itself is core's (cached).
    """
    for n in names:
        for axes in (a, b):
            if not any(ax.name == n for ax in axes):
                raise axis_not_found(op, [n], axes)
    plan = _core_plan(op, (a, b), frozenset(names), None)
    return plan.steps[0].dims, plan.out_axes


def names_of(axis: Any) -> tuple[str, ...]:
    """Axis names of an axis spec or selection (one axis, a sequence, or a dict)."""
    if isinstance(axis, (str, Axis)):
        return (axis if isinstance(axis, str) else axis.name,)
    if isinstance(axis, dict):
        return tuple(axis)
    return tuple(a if isinstance(a, str) else a.name for a in axis)


def contract(
    op: str,
    a: NamedArray,
    b: NamedArray,
    axis: Sequence[str],
    *,
    dot_general: DotGeneral = jax.lax.dot_general,
    precision: Any = None,
    preferred_element_type: Any = None,
) -> NamedArray:
    """Contract ``axis`` of ``a`` and ``b`` with one ``dot_general``; shared other axes batch."""
    dims, out_axes = contraction_plan(op, a.axes, b.axes, tuple(axis))
    raw = dot_general(
        a.array, b.array, dims, precision=precision, preferred_element_type=preferred_element_type
    )
    return NamedArray._new(raw, out_axes)
