"""`rearrange`: transpose, split and merge named axes, by an axis sequence or an einops-style pattern.

A pattern is resolved against the array's axes once (cached) into a plan of at most three raw
ops: a reshape that splits axes, a transpose, and a reshape that merges them. Each is skipped
when it would do nothing, so a pattern that changes no order costs no transpose.

Grammar (``name`` is a word; spaces separate items)::

    pattern := side '->' side
    side    := '{' item* '}'  |  item*        (braces: unordered, left side only)
    item    := name  |  '...'  |  '(' [name ':'] name+ ')'
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from types import EllipsisType
from typing import Any, NamedTuple

import jax

from .axis import Axis, AxisSelector, rearrange_for_partial_order
from .axis_pattern import Token, pattern_error, split_arrow, tokenize
from .errors import (
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
from .named_array import NamedArray, require_named

_OP = "rearrange"
Binding = str | Axis | int


class _Name(NamedTuple):
    text: str
    col: int


class _Group(NamedTuple):
    """``(name: a b)`` or ``(a b)``: a split on the left side, a merge on the right."""

    name: _Name | None
    parts: tuple[_Name, ...]
    col: int


_Item = _Name | _Group | EllipsisType


class _Side(NamedTuple):
    unordered: bool
    items: tuple[_Item, ...]


class _Plan(NamedTuple):
    split_shape: tuple[int, ...] | None
    perm: tuple[int, ...] | None
    final_shape: tuple[int, ...] | None
    out_axes: tuple[Axis, ...]


def _parse_side(pattern: str, tokens: tuple[Token, ...]) -> _Side:
    unordered = bool(tokens) and tokens[0].kind == "{"
    if unordered:
        if tokens[-1].kind != "}":
            raise pattern_error(_OP, pattern, tokens[-1].col, "expected '}' to close the unordered group")
        tokens = tokens[1:-1]
    items: list[_Item] = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t.kind == "name":
            items.append(_Name(t.text, t.col))
        elif t.kind == "...":
            if Ellipsis in items:
                raise pattern_error(_OP, pattern, t.col, "a second '...' on one side")
            items.append(Ellipsis)
        elif t.kind == "(":
            close = next((j for j in range(i + 1, len(tokens)) if tokens[j].kind == ")"), None)
            if close is None:
                raise pattern_error(_OP, pattern, t.col, "'(' is never closed")
            inner = tokens[i + 1 : close]
            name = None
            if len(inner) >= 2 and inner[1].kind == ":":
                if inner[0].kind != "name":
                    raise pattern_error(_OP, pattern, inner[0].col, "expected an axis name before ':'")
                name, inner = _Name(inner[0].text, inner[0].col), inner[2:]
            for p in inner:
                if p.kind != "name":
                    raise pattern_error(_OP, pattern, p.col, f"unexpected {p.text!r} inside '( )'")
            if not inner:
                raise pattern_error(_OP, pattern, t.col, "an empty group '( )'")
            items.append(_Group(name, tuple(_Name(p.text, p.col) for p in inner), t.col))
            i = close
        else:
            raise pattern_error(_OP, pattern, t.col, f"unexpected {t.text!r}")
        i += 1
    return _Side(unordered, tuple(items))


@functools.lru_cache(maxsize=1024)
def _parse(pattern: str) -> tuple[_Side, _Side]:
    lhs, rhs = split_arrow(_OP, pattern, tokenize(_OP, pattern))
    left = _parse_side(pattern, lhs)
    right = _parse_side(pattern, rhs)
    if right.unordered:
        raise pattern_error(_OP, pattern, rhs[0].col, "braces '{ }' are only allowed on the left side")
    return left, right


class _Bindings:
    """Pattern names to axis names (an alias) and sizes, from the keyword arguments."""

    def __init__(self, pattern: str, bindings: dict[str, Binding]):
        self.pattern = pattern
        self.bindings = bindings

    def name(self, n: _Name) -> str:
        b = self.bindings.get(n.text)
        if isinstance(b, str):
            return b
        if isinstance(b, Axis):
            return b.name
        return n.text

    def size(self, n: _Name) -> int | None:
        b = self.bindings.get(n.text)
        if isinstance(b, Axis):
            return b.size
        if isinstance(b, int) and not isinstance(b, bool):
            return b
        return None


def _split_sizes(pattern: str, group: _Group, axis: Axis, b: _Bindings) -> tuple[Axis, ...]:
    sizes = [b.size(p) for p in group.parts]
    unknown = [i for i, s in enumerate(sizes) if s is None]
    names = [b.name(p) for p in group.parts]
    shown = format_names(names)
    known = math.prod(s for s in sizes if s is not None)
    if len(unknown) > 1:
        raise pattern_error(
            _OP,
            pattern,
            group.col,
            f"splitting {axis.name!r} (size {axis.size}) into {shown} needs the sizes of all but one part; "
            f"pass e.g. {group.parts[unknown[0]].text}=<size>",
        )
    if unknown:
        if known == 0 or axis.size % known:
            raise AxisSizeError(
                f"rearrange: cannot split axis {axis.name!r} of size {axis.size} into {shown}: "
                f"the known sizes multiply to {known}, which does not divide {axis.size}"
            )
        sizes[unknown[0]] = axis.size // known
    elif known != axis.size:
        raise AxisSizeError(
            f"rearrange: cannot split axis {axis.name!r} of size {axis.size} into {shown} of sizes {sizes}: "
            f"they multiply to {known}"
        )
    return tuple(Axis(n, s) for n, s in zip(names, sizes, strict=True))  # type: ignore[arg-type]  # all known now


def _check_input_axis(pattern: str, n: _Name, axis: Axis, b: _Bindings) -> None:
    size = b.size(n)
    if size is not None and size != axis.size:
        raise axis_size_mismatch(_OP, axis.name, axis.size, size)


def _not_found(pattern: str, n: _Name, name: str, axes: tuple[Axis, ...]) -> AxisNotFoundError:
    alias = "" if name == n.text else f" (bound to {n.text!r})"
    return AxisNotFoundError(
        f"rearrange: in {pattern!r} at column {n.col}: axis {name!r}{alias} is not in {format_shape(axes)}"
        f"{did_you_mean(name, [ax.name for ax in axes])}"
    )


def _resolve_left(
    pattern: str, side: _Side, axes: tuple[Axis, ...], b: _Bindings
) -> tuple[list[tuple[Axis, ...]], dict[tuple[str, ...], str]]:
    """For each input axis, the axes it becomes (itself, or its split parts); and split groups."""
    expanded: list[tuple[Axis, ...] | None] = [None] * len(axes)
    splits: dict[tuple[str, ...], str] = {}
    pos = {ax.name: i for i, ax in enumerate(axes)}
    items = side.items
    if side.unordered:
        targets: list[int | None] = []
        for item in items:
            if item is Ellipsis:
                targets.append(None)
                continue
            if isinstance(item, _Group) and item.name is None:
                raise pattern_error(
                    _OP,
                    pattern,
                    item.col,
                    "a group in an unordered pattern must say which axis it splits, e.g. '(embed: heads head_size)'",
                )
            n = item.name if isinstance(item, _Group) else item
            name = b.name(n)  # type: ignore[arg-type]  # a _Name: unnamed groups were rejected above
            if name not in pos:
                raise _not_found(pattern, n, name, axes)  # type: ignore[arg-type]  # a _Name, as above
            targets.append(pos[name])
    else:
        n_named = sum(1 for it in items if it is not Ellipsis)
        if (Ellipsis not in items and n_named != len(axes)) or n_named > len(axes):
            raise PatternError(
                f"rearrange: the left side of {pattern!r} names {n_named} axes but the array has {len(axes)}: "
                f"{format_shape(axes)}" + ("" if Ellipsis in items else "; add '...' to stand for the rest")
            )
        cut = items.index(Ellipsis) if Ellipsis in items else len(items)
        targets = [*range(cut), None, *range(len(axes) - (len(items) - cut - 1), len(axes))]
        if Ellipsis not in items:
            targets = targets[:cut]
    for item, target in zip(items, targets, strict=True):
        if item is Ellipsis or target is None:
            continue
        axis = axes[target]
        if expanded[target] is not None:
            raise DuplicateAxisError(
                f"rearrange: axis {axis.name!r} appears twice on the left side of {pattern!r}"
            )
        if isinstance(item, _Group):
            if item.name is not None:
                if b.name(item.name) != axis.name:
                    raise _mismatch(pattern, item.name, axis, target, b)
                _check_input_axis(pattern, item.name, axis, b)
            parts = _split_sizes(pattern, item, axis, b)
            expanded[target] = parts
            splits[tuple(p.name for p in parts)] = axis.name
        else:
            if b.name(item) != axis.name:  # type: ignore[arg-type]  # a _Name
                raise _mismatch(pattern, item, axis, target, b)  # type: ignore[arg-type]  # a _Name
            _check_input_axis(pattern, item, axis, b)  # type: ignore[arg-type]  # a _Name
            expanded[target] = (axis,)
    if Ellipsis not in items:
        missing = [ax.name for ax, e in zip(axes, expanded, strict=True) if e is None]
        if missing:
            raise PatternError(
                f"rearrange: the left side of {pattern!r} does not mention axes {format_names(missing)} of {format_shape(axes)}; "
                f"list them or add '...'"
            )
    return [e if e is not None else (ax,) for ax, e in zip(axes, expanded, strict=True)], splits


def _mismatch(pattern: str, n: _Name, axis: Axis, position: int, b: _Bindings) -> PatternError:
    return pattern_error(
        _OP,
        pattern,
        n.col,
        f"the array has axis {axis.name!r} at position {position} but the pattern says {b.name(n)!r}; "
        f"write {axis.name!r} or bind it with {n.text}={axis.name!r}",
    )


@functools.lru_cache(maxsize=2048)
def _plan(pattern: str, axes: tuple[Axis, ...], bindings: tuple[tuple[str, Binding], ...]) -> _Plan:
    left, right = _parse(pattern)
    b = _Bindings(pattern, dict(bindings))
    expanded, splits = _resolve_left(pattern, left, axes, b)
    middle = tuple(ax for group in expanded for ax in group)
    by_name: dict[str, int] = {}
    for i, ax in enumerate(middle):
        if ax.name in by_name:
            raise DuplicateAxisError(
                f"rearrange: splitting in {pattern!r} makes axis {ax.name!r} twice; give the new axis another name"
            )
        by_name[ax.name] = i

    def lookup(n: _Name) -> int:
        name = b.name(n)
        if name not in by_name:
            raise _not_found(pattern, n, name, middle)
        return by_name[name]

    used: set[int] = set()
    right_names = [
        n
        for item in right.items
        if not isinstance(item, EllipsisType)
        for n in (item.parts if isinstance(item, _Group) else (item,))
    ]
    for n in right_names:
        i = lookup(n)
        if i in used:
            raise pattern_error(
                _OP, pattern, n.col, f"axis {middle[i].name!r} appears twice on the right side"
            )
        used.add(i)
    rest = [i for i in range(len(middle)) if i not in used]
    if rest and Ellipsis not in right.items:
        raise PatternError(
            f"rearrange: the right side of {pattern!r} leaves out axes {format_names(middle[i].name for i in rest)}; "
            f"name them or add '...'"
        )
    order: list[int] = []
    out_axes: list[Axis] = []
    for item in right.items:
        if item is Ellipsis:
            order.extend(rest)
            out_axes.extend(middle[i] for i in rest)
        elif isinstance(item, _Group):
            idx = [lookup(n) for n in item.parts]
            order.extend(idx)
            out_axes.append(_merged_axis(pattern, item, tuple(middle[i] for i in idx), splits, b))
        else:
            order.append(lookup(item))  # type: ignore[arg-type]  # a _Name
            out_axes.append(middle[order[-1]])
    names = [ax.name for ax in out_axes]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise DuplicateAxisError(f"rearrange: the result of {pattern!r} would have axis {dup!r} twice")
    split = len(middle) != len(axes)
    perm = tuple(order) if tuple(order) != tuple(range(len(middle))) else None
    merge = len(out_axes) != len(middle)
    if perm is None and (split or merge):
        return _Plan(None, None, tuple(ax.size for ax in out_axes), tuple(out_axes))
    return _Plan(
        tuple(ax.size for ax in middle) if split else None,
        perm,
        tuple(ax.size for ax in out_axes) if merge else None,
        tuple(out_axes),
    )


def _merged_axis(
    pattern: str, group: _Group, parts: tuple[Axis, ...], splits: dict[tuple[str, ...], str], b: _Bindings
) -> Axis:
    size = math.prod(ax.size for ax in parts)
    if group.name is None:
        name = splits.get(tuple(ax.name for ax in parts))
        if name is None:
            raise pattern_error(
                _OP,
                pattern,
                group.col,
                f"the merged axis needs a name: write '(name: {' '.join(p.text for p in group.parts)})'",
            )
        return Axis(name, size)
    bound = b.size(group.name)
    if bound is not None and bound != size:
        raise axis_size_mismatch(_OP, b.name(group.name), size, bound)
    return Axis(b.name(group.name), size)


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
        name = sel if isinstance(sel, str) else sel.name
        if name not in have:
            raise AxisNotFoundError(
                f"rearrange: axis {name!r} is not in {format_shape(axes)}{did_you_mean(name, have)}"
            )
        if isinstance(sel, Axis) and sel.size != have[name].size:
            raise axis_size_mismatch(_OP, name, have[name].size, sel.size)
    return rearrange_for_partial_order(order, axes)


def rearrange(
    array: NamedArray, axes_or_pattern: str | Sequence[AxisSelector | EllipsisType], **bindings: Binding
) -> NamedArray:
    """Reorder, split and merge named axes.

    With a sequence of axes (names or `Axis`, at most one ``...`` standing for the axes not named,
    in their current order) this is a transpose: one ``jax.lax.transpose``, none if nothing moves.

    With an einops-style pattern, ``"b h w c -> b c h w"``: the left side names the array's axes in
    order (``...`` for the rest), or in any order inside braces, ``"{h w c} -> c h w"``. A group
    ``(h: a b)`` on the left splits axis ``h`` into new axes ``a`` and ``b``; ``(a b)`` in an ordered
    left side splits the axis at that position. A group ``(hw: h w)`` on the right merges axes
    into a new one called ``hw``; an unnamed ``(a b)`` there merges back an axis split on the left
    and takes its name. Keyword bindings give a pattern name an actual axis name (``h="height"``),
    an `Axis`, or a size for a split part (``a=4``); one part's size may be left out and inferred.

    Differences from einops: names are whole words; an ordered left side must match the array's
    axis names (bind short names with keywords), so a pattern is also a shape check; merged axes
    are named; there is no ``1``, no anonymous axis, no reduction or repetition; at most one
    ``...`` a side.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> x = hax.named(jnp.zeros((2, 6, 3)), ("batch", "embed", "pos"))
        >>> hax.rearrange(x, "{embed pos ...} -> ... pos embed").shape
        {'batch': 2, 'pos': 3, 'embed': 6}
        >>> hax.rearrange(x, "b (embed: heads d) pos -> b pos heads d", b="batch", heads=2).shape
        {'batch': 2, 'pos': 3, 'heads': 2, 'd': 3}
    """
    require_named("rearrange", array)
    if not isinstance(axes_or_pattern, str):
        if bindings:
            raise NamedTypeError(
                f"rearrange: keyword bindings {sorted(bindings)} only apply to a pattern string, not a sequence of axes"
            )
        return _by_sequence(array, axes_or_pattern)
    plan = _plan(axes_or_pattern, array.axes, tuple(sorted(bindings.items())))
    raw = array.array
    if plan.split_shape is not None:
        raw = jax.lax.reshape(raw, plan.split_shape)
    if plan.perm is not None:
        raw = jax.lax.transpose(raw, plan.perm)
    if plan.final_shape is not None:
        raw = jax.lax.reshape(raw, plan.final_shape)
    return NamedArray._new(raw, plan.out_axes)
