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
from haliax._src.errors import axis_not_found, axis_size_mismatch
from haliax._src.named_array import NamedArray

DotGeneral = Callable[..., Any]


@functools.lru_cache(maxsize=4096)
def contraction_plan(
    op: str, a: tuple[Axis, ...], b: tuple[Axis, ...], names: tuple[str, ...]
) -> tuple[
    tuple[tuple[tuple[int, ...], tuple[int, ...]], tuple[tuple[int, ...], tuple[int, ...]]], tuple[Axis, ...]
]:
    """Dimension numbers and result axes for contracting ``names``; shared other axes batch."""
    a_pos = {ax.name: i for i, ax in enumerate(a)}
    b_pos = {ax.name: i for i, ax in enumerate(b)}
    for n in names:
        if n not in a_pos:
            raise axis_not_found(op, [n], a)
        if n not in b_pos:
            raise axis_not_found(op, [n], b)
        if a[a_pos[n]].size != b[b_pos[n]].size:
            raise axis_size_mismatch(op, n, a[a_pos[n]].size, b[b_pos[n]].size)
    contracted = set(names)
    batch = [ax.name for ax in a if ax.name in b_pos and ax.name not in contracted]
    for n in batch:
        if a[a_pos[n]].size != b[b_pos[n]].size:
            raise axis_size_mismatch(op, n, a[a_pos[n]].size, b[b_pos[n]].size)
    dims = (
        (tuple(a_pos[n] for n in names), tuple(b_pos[n] for n in names)),
        (tuple(a_pos[n] for n in batch), tuple(b_pos[n] for n in batch)),
    )
    skip = contracted | set(batch)
    out = (
        tuple(a[a_pos[n]] for n in batch)
        + tuple(ax for ax in a if ax.name not in skip)
        + tuple(ax for ax in b if ax.name not in skip)
    )
    return dims, out


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
