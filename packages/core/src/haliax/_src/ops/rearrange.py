"""`rearrange`: transpose, split and merge named axes, by an axis sequence or an einops-style pattern.

A pattern is resolved against the array's axes once (cached) into a plan of at most three raw
ops: a reshape that splits axes, a transpose, and a reshape that merges them. Each is skipped
when it would do nothing, so a pattern that changes no order costs no transpose.

The left side either matches the array's axes by position (``b h w c``: each name is a label
bound to the axis at its place, ``...`` standing for the axes in between) or by name inside braces
(``{H W}``: axes not listed stay as they are). ``(a b)`` on the left splits the axis it matches
into new axes ``a`` and ``b``; ``(name: a b)`` on the right merges axes into a new axis ``name``.
The right side speaks in the left side's labels; its ``...`` (any number, a partial order as in
`haliax.rearrange_for_partial_order`) stand for the axes it does not name. Grammar: `parsing`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from types import EllipsisType
from typing import Any, NamedTuple

import jax

from ..base.axis import Axis, AxisSelector, partial_order_for, selector_name
from ..base.errors import (
    AxisNotFoundError,
    AxisSizeError,
    DuplicateAxisError,
    NamedTypeError,
    PatternError,
    axis_size_mismatch,
    did_you_mean,
    format_names,
    format_shape,
)
from ..base.named_array import NamedArray, require_named
from .parsing import AxisCapture, Expression, parse_rearrangement, pattern_error

_OP = "rearrange"
Binding = str | Axis | int


class _Plan(NamedTuple):
    split_shape: tuple[int, ...] | None
    perm: tuple[int, ...] | None
    final_shape: tuple[int, ...] | None
    out_axes: tuple[Axis, ...]


class _Resolver:
    """One pattern against one array: the label table (label -> axis or name) and error wording."""

    def __init__(self, pattern: str, axes: tuple[Axis, ...], bindings: dict[str, Binding]):
        self.pattern = pattern
        self.axes = axes
        self.table: dict[str, Axis | str] = {}
        have = {ax.name: ax for ax in axes}
        for label, b in bindings.items():
            if isinstance(b, bool) or not isinstance(b, (str, Axis, int)):
                raise NamedTypeError(
                    f"rearrange: the binding {label}={b!r} must be an axis name, an Axis or a size (int)"
                )
            if isinstance(b, str):
                self.table[label] = have.get(b, b)
            elif isinstance(b, int):
                self.table[label] = Axis(label, b)
            else:
                self.table[label] = b

    def error(
        self, what: str, capture: AxisCapture | None = None, kind: type[Exception] = PatternError
    ) -> Exception:
        return pattern_error(_OP, self.pattern, what, None if capture is None else capture.col, kind)

    def bind(self, label: str, axis: Axis, capture: AxisCapture) -> None:
        current = self.table.get(label)
        if current is not None and selector_name(current) != axis.name:
            raise self.error(
                f"Alias {label} is assigned to more than one axis: {_show(current)} and {_show(axis)}",
                capture,
            )
        if isinstance(current, Axis) and current.size != axis.size:
            raise self.error(
                f"Alias {label} is assigned to more than one axis: {_show(current)} and {_show(axis)} differ in size",
                capture,
            )
        self.table[label] = axis


def _show(x: Axis | str) -> str:
    return format_shape((x,)) if isinstance(x, Axis) else repr(x)


def _split(r: _Resolver, axis: Axis, capture: AxisCapture, used: set[str]) -> tuple[Axis, ...]:
    """The axes ``capture`` turns ``axis`` into on the left side: itself, or its split parts."""
    for i, part in enumerate(capture.axes):
        if part in used or part in capture.axes[:i]:
            raise r.error(
                f"Capture {part} is assigned more than once in lhs; each label binds one axis", capture
            )
    used.update(capture.axes)
    if len(capture.axes) == 1:
        r.bind(capture.axes[0], axis, capture)
        return (axis,)
    known = {p: a for p in capture.axes if isinstance(a := r.table.get(p), Axis)}
    unknown = [p for p in capture.axes if p not in known]
    parts = format_names(capture.axes)
    if len(unknown) > 1:
        raise r.error(
            f"Sizes for this split axis are ambiguous: splitting {axis.name!r} (size {axis.size}) into {parts} needs "
            f"the sizes of all but one part. You must provide a size as a kwarg, e.g. {unknown[0]}=<size>",
            capture,
        )
    product = math.prod(a.size for a in known.values())
    if unknown:
        if product == 0 or axis.size % product:
            raise r.error(
                f"the known sizes of {parts} multiply to {product}, which does not divide the size "
                f"{axis.size} of axis {axis.name!r}",
                capture,
                AxisSizeError,
            )
        label = unknown[0]
        name = r.table.get(label, label)
        solved = Axis(selector_name(name), axis.size // product)
        r.bind(label, solved, capture)
        known[label] = solved
    elif product != axis.size:
        raise r.error(
            f"the sizes of {parts} multiply to {product}, which does not divide evenly into axis {axis.name!r} of "
            f"size {axis.size}",
            capture,
            AxisSizeError,
        )
    return tuple(known[p] for p in capture.axes)


def _left(r: _Resolver, lhs: Expression) -> list[tuple[Axis, ...]]:
    """For each input axis, the axes it becomes (itself or its split parts)."""
    axes = r.axes
    target: list[tuple[AxisCapture, int]] = []
    if lhs.is_ordered:
        caps = lhs.captures
        cut = caps.index(Ellipsis) if Ellipsis in caps else len(caps)
        if Ellipsis in caps[cut + 1 :]:
            raise r.error("Only one ellipsis allowed on the left side of an ordered pattern")
        head, tail = caps[:cut], caps[cut + 1 :]
        if len(head) > len(axes):
            raise r.error(
                f"Too many axes in lhs: the array has {len(axes)} axes, {format_shape(axes)}",
                head[len(axes)],  # type: ignore[arg-type]  # a capture: '...' is not in head
            )
        if Ellipsis not in caps and len(caps) < len(axes):
            raise r.error(
                f"Not all axes are bound: the left side names {len(caps)} axes but the array has {len(axes)}, "
                f"{format_shape(axes)}; use ... to skip missing axes"
            )
        target = [(c, i) for i, c in enumerate(head)]  # type: ignore[misc]  # captures before the '...'
        first_free = len(head)
        for j, c in enumerate(reversed(tail)):
            pos = len(axes) - 1 - j
            if pos < first_free:
                what = (
                    f"Axis {axes[pos].name!r} is bound more than once"
                    if pos >= 0
                    else f"Too many axes in lhs: the array has {len(axes)} axes"
                )
                raise r.error(f"{what}; the left side names more axes than {format_shape(axes)} has", c)  # type: ignore[arg-type]  # a capture
            target.append((c, pos))  # type: ignore[arg-type]  # a capture
    else:
        pos_of = {ax.name: i for i, ax in enumerate(axes)}
        for c in lhs.captures:
            if isinstance(c, EllipsisType):
                continue
            if c.binding is None:
                raise r.error(
                    "Unordered axes must be bound by name, e.g. (a: b c) or just a, so the pattern says which "
                    "axis to split",
                    c,
                )
            alias = r.table.get(c.binding)
            name = c.binding if alias is None else selector_name(alias)
            if name not in pos_of:
                via = "" if name == c.binding else f" (bound to {c.binding!r})"
                raise r.error(
                    f"Could not resolve axis {name!r}{via}: it is not in {format_shape(axes)}"
                    f"{did_you_mean(name, pos_of)}",
                    c,
                    AxisNotFoundError,
                )
            target.append((c, pos_of[name]))
    out: list[tuple[Axis, ...] | None] = [None] * len(axes)
    used: set[str] = set()
    for c, pos in target:
        if out[pos] is not None:
            raise r.error(f"Axis {axes[pos].name!r} is bound more than once", c)
        out[pos] = _split(r, axes[pos], c, used)
    return [o if o is not None else (ax,) for o, ax in zip(out, axes, strict=True)]


def _right(
    r: _Resolver, rhs: Expression, middle: tuple[Axis, ...]
) -> tuple[tuple[int, ...], tuple[Axis, ...]]:
    """The transpose of the intermediate axes and the final axes the right side asks for."""
    index = {ax.name: i for i, ax in enumerate(middle)}
    order: list[str | EllipsisType] = []
    merged: dict[str, Axis] = {}  # first part of each group -> the group's final axis
    grouped: set[str] = set()
    for c in rhs.captures:
        if isinstance(c, EllipsisType):
            order.append(Ellipsis)
            continue
        if c.binding is None:
            raise r.error(
                f"All rhs axes must have a name: write (name: {' '.join(c.axes)}) to merge them into one axis",
                c,
            )
        parts: list[Axis] = []
        for label in c.axes:
            ax = r.table.get(label)
            if not isinstance(ax, Axis) or index.get(ax.name) is None or middle[index[ax.name]] != ax:
                hint = (
                    f"; {label!r} is an axis of the array, so name it on the left side too"
                    if any(a.name == label for a in r.axes)
                    else did_you_mean(label, [k for k, v in r.table.items() if isinstance(v, Axis)])
                )
                raise r.error(
                    f"Axis {label} is not bound on the lhs; the right side may only use labels of the left side{hint}",
                    c,
                    AxisNotFoundError,
                )
            if ax.name in grouped:
                raise r.error(f"Axis {ax.name!r} is used more than once on the right side", c)
            grouped.add(ax.name)
            order.append(ax.name)
            parts.append(ax)
        alias = r.table.get(c.binding)
        name = c.binding if alias is None else selector_name(alias)
        merged[parts[0].name] = Axis(name, math.prod(ax.size for ax in parts))
    if Ellipsis not in order:
        unused = [ax.name for ax in middle if ax.name not in grouped]
        if unused:
            raise r.error(
                f"Not all intermediate axes are used: the right side leaves out {format_names(unused)}; "
                f"name them or use ... to insert unused axes"
            )
    ordered = partial_order_for(_OP, tuple(order), middle)
    final: list[Axis] = []
    for ax in ordered:
        if ax.name not in grouped:
            final.append(ax)
        elif ax.name in merged:
            final.append(merged[ax.name])
    names = [ax.name for ax in final]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise r.error(
            f"the result would have axis {dup!r} twice; give the new axis another name",
            None,
            DuplicateAxisError,
        )
    return tuple(index[ax.name] for ax in ordered), tuple(final)


@functools.lru_cache(maxsize=2048)
def _plan(pattern: str, axes: tuple[Axis, ...], bindings: tuple[tuple[str, Binding], ...]) -> _Plan:
    lhs, rhs = parse_rearrangement(pattern, _OP)
    r = _Resolver(pattern, axes, dict(bindings))
    middle = tuple(ax for group in _left(r, lhs) for ax in group)
    names = [ax.name for ax in middle]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise r.error(
            f"splitting makes axis {dup!r} twice; give the new axis another name", None, DuplicateAxisError
        )
    perm, final = _right(r, rhs, middle)
    split = len(middle) != len(axes)
    moved = perm != tuple(range(len(middle)))
    reshaped = tuple(ax.size for ax in final) != tuple(middle[i].size for i in perm)
    if not moved and (split or reshaped):
        return _Plan(None, None, tuple(ax.size for ax in final), final)
    return _Plan(
        tuple(ax.size for ax in middle) if split else None,
        perm if moved else None,
        tuple(ax.size for ax in final) if reshaped else None,
        final,
    )


def einops_rearrange(array: NamedArray, expression: str, **bindings: Binding) -> NamedArray:
    """`rearrange` by an einops-style pattern (the string form of [haliax.rearrange][])."""
    require_named(_OP, array)
    plan = _plan(expression, array.axes, tuple(sorted(bindings.items(), key=lambda kv: kv[0])))
    raw = array.array
    if plan.split_shape is not None:
        raw = jax.lax.reshape(raw, plan.split_shape)
    if plan.perm is not None:
        raw = jax.lax.transpose(raw, plan.perm)
    if plan.final_shape is not None:
        raw = jax.lax.reshape(raw, plan.final_shape)
    return NamedArray._new(raw, plan.out_axes)


def _by_sequence(array: NamedArray, axes: Sequence[AxisSelector | EllipsisType]) -> NamedArray:
    ordered = _sequence_order(array.axes, tuple(axes))
    if ordered == array.axes:
        return array
    pos = {ax.name: i for i, ax in enumerate(array.axes)}
    perm = tuple(pos[ax.name] for ax in ordered)
    return NamedArray._new(jax.lax.transpose(array.array, perm), ordered)


@functools.lru_cache(maxsize=2048)
def _sequence_order(
    axes: tuple[Axis, ...], order: tuple[AxisSelector | EllipsisType, ...]
) -> tuple[Axis, ...]:
    have = {ax.name: ax for ax in axes}
    for sel in order:
        if sel is Ellipsis:
            continue
        if not isinstance(sel, (str, Axis)):
            raise NamedTypeError(f"rearrange: expected axis names, Axis objects or '...', got {sel!r}")
        name = selector_name(sel)
        if name not in have:
            raise AxisNotFoundError(
                f"rearrange: axis {name!r} is not in {format_shape(axes)}{did_you_mean(name, have)}"
            )
        if isinstance(sel, Axis) and sel.size != have[name].size:
            raise axis_size_mismatch(_OP, name, have[name].size, sel.size)
    return partial_order_for(_OP, order, axes)


def rearrange(
    array: NamedArray,
    axes_or_pattern: str | Sequence[AxisSelector | EllipsisType] | None = None,
    **bindings: Any,
) -> NamedArray:
    """Reorder, split and merge named axes, by a sequence of axes or an einops-style pattern.

    With a sequence of axes (names or `Axis`, with any number of ``...`` for the axes not named)
    this is a transpose: one ``jax.lax.transpose``, none if nothing moves. Several ``...`` make a
    partial order: ``(C, ..., H, ...)`` puts ``C`` first and ``H`` after it, and each other axis
    goes to the first gap after the named axes that precede it in the array.

    With a pattern, ``"b h w c -> b c h w"``: an ordered left side binds each label to the axis at
    its position (``...`` for the axes in between); braces, ``"{H W C} -> C H W ..."``, match axes
    by name instead and leave the axes they do not list alone. On the left, ``(a b)`` splits the
    matched axis (in braces: ``(H: a b)`` splits axis ``H``) into new axes ``a`` and ``b``; on the
    right, ``(name: a b)`` merges labels into a new axis ``name``. The right side must use every
    axis or hold ``...`` (several are allowed). Keyword bindings give a label an axis name
    (``h="height"``), an `Axis`, or a size for a split part (``a=4``); one part's size may be
    left out and inferred. ``expression=`` and ``axes=`` may be passed as keywords instead.

    Differences from einops: merged axes are named; there is no ``1``, no anonymous axis, no
    reduction or repetition.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> x = hax.named(jnp.zeros((2, 6, 3)), ("batch", "embed", "pos"))
        >>> hax.rearrange(x, "{embed pos} -> ... pos embed").shape
        {'batch': 2, 'pos': 3, 'embed': 6}
        >>> hax.rearrange(x, "b (heads d) p -> b p heads d", heads=2).shape
        {'batch': 2, 'pos': 3, 'heads': 2, 'd': 3}
    """
    require_named(_OP, array)
    if axes_or_pattern is None:
        if "expression" in bindings:
            axes_or_pattern = bindings.pop("expression")
        elif "axes" in bindings:
            axes_or_pattern = bindings.pop("axes")
        else:
            raise NamedTypeError(
                "rearrange: pass the new order, e.g. rearrange(x, ('batch', ...)), or a pattern, "
                "e.g. rearrange(x, 'b h -> h b')"
            )
    if isinstance(axes_or_pattern, str):
        return einops_rearrange(array, axes_or_pattern, **bindings)
    assert axes_or_pattern is not None  # filled from the keywords above
    if bindings:
        raise NamedTypeError(
            f"rearrange: keyword bindings {sorted(bindings)} only apply to a pattern string, not a sequence of axes"
        )
    return _by_sequence(array, axes_or_pattern)
