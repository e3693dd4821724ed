"""Named einsum: contraction written as an equation over axis names.

Three forms; in each, an axis left out of the output is summed over:

- ordered, ``"b q h d, b k h d -> b h q k"``: one comma-separated spec an operand. Its labels
  are bound *by position* to that operand's axes (``...`` stands for the axes in between), so a
  label is an alias: ``"i j, j k -> i k"`` works on any two matrices that share an axis. A label
  must mean one axis everywhere; the output speaks in labels (``...`` there: the unlabelled axes).
- unordered, ``"{q k d} -> q k"``: one brace group naming axes by name. Named on the left but not
  on the right means contracted; axes not named are kept (or, with ``...`` in the group,
  contracted too unless the output names them).
- output-only, ``"-> batch"``: every axis the output does not name is contracted.

Keyword arguments alias names in the equation to axes: ``einsum("{b d} -> b", x, y, b="batch")``.
The equation is resolved against the operands' axes once (cached) into the contracted names and
the output order, then runs through the planner `haliax.dot` uses: one ``jax.lax.dot_general`` a
pair of operands, at most one transpose.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from types import EllipsisType
from typing import Any, cast

import jax
from jax.typing import DTypeLike

from ..base.axis import Axis, AxisSelector, partial_order_for, selector_name
from ..base.errors import (
    AxisNotFoundError,
    AxisSizeError,
    NamedTypeError,
    PatternError,
    did_you_mean,
    format_shape,
)
from ..base.named_array import NamedArray
from ..base.types import PrecisionLike
from ..ops.parsing import AxisCapture, Expression, parse_einsum, pattern_error
from .dot import axes_by_name, check_operands, contraction_plan, run_contraction

_OP = "einsum"
_Order = tuple[str | EllipsisType, ...]


class _Equation:
    """An equation being resolved against operands: errors, aliases, and which aliases were used."""

    def __init__(self, text: str, all_axes: tuple[tuple[Axis, ...], ...], aliases: dict[str, AxisSelector]):
        self.text = text
        self.all_axes = all_axes
        self.by_name = axes_by_name(_OP, all_axes)
        self.aliases = aliases
        self.used: set[str] = set()

    def shapes(self) -> str:
        return ", ".join(format_shape(axes) for axes in self.all_axes)

    def error(
        self, what: str, capture: AxisCapture | None = None, kind: type[Exception] = PatternError
    ) -> Exception:
        return pattern_error(_OP, self.text, what, None if capture is None else capture.col, kind)

    def plain(self, capture: AxisCapture | EllipsisType, where: str) -> AxisCapture:
        if isinstance(capture, EllipsisType):
            raise AssertionError("callers skip '...'")
        if capture.is_group:
            raise self.error(
                f"Parenthesized axes are not supported {where} of an einsum; name each axis on its own",
                capture,
            )
        return capture

    def dealias(self, capture: AxisCapture) -> str:
        """The axis name a capture stands for, through the keyword aliases; it must be in some operand."""
        label = capture.axes[0]
        alias = self.aliases.get(label)
        if alias is None:
            name = label
        else:
            self.used.add(label)
            name = selector_name(alias)
        found = self.by_name.get(name)
        if found is None:
            via = "" if alias is None else f" (alias {label}={alias!r})"
            raise self.error(
                f"Axis {name} not present: {name!r}{via} is not found in any of the input arrays "
                f"{self.shapes()}{did_you_mean(name, self.by_name)}",
                capture,
                AxisNotFoundError,
            )
        if isinstance(alias, Axis) and alias.size != found.size:
            raise self.error(
                f"Size mismatch for axis {name!r}: the operands have size {found.size} but the alias "
                f"{label}={alias!r} says {alias.size}",
                capture,
                AxisSizeError,
            )
        return name

    def check_aliases_used(self) -> None:
        unused = [k for k in self.aliases if k not in self.used]
        if unused:
            listed = ", ".join(unused)
            raise self.error(
                f"the equation never names the keyword alias(es) {unused}; remove them or use them. "
                f"Axis alias {listed} not used. Unused aliases from kwargs: {listed}"
            )

    def output(self, rhs: Expression, resolve: Callable[[AxisCapture], str]) -> _Order:
        """The output side as names and ``...``; a name twice is an error."""
        out: list[str | EllipsisType] = []
        for c in rhs.captures:
            if isinstance(c, EllipsisType):
                out.append(Ellipsis)
                continue
            name = resolve(self.plain(c, "in the output"))
            if name in out:
                raise self.error(f"axis {name!r} occurs multiple times in the output", c)
            out.append(name)
        return tuple(out)


def _output_only(eq: _Equation, rhs: Expression) -> _Order:
    out = eq.output(rhs, eq.dealias)
    eq.check_aliases_used()
    return out


def _unordered(eq: _Equation, lhs: Expression, rhs: Expression) -> tuple[frozenset[str], _Order]:
    listed = {
        eq.dealias(eq.plain(c, "in the input")) for c in lhs.captures if not isinstance(c, EllipsisType)
    }
    out = eq.output(rhs, eq.dealias)
    eq.check_aliases_used()
    if lhs.has_ellipsis and not rhs.has_ellipsis:
        return frozenset(n for n in eq.by_name if n not in out), out
    contracted = frozenset(listed.difference(out))
    return contracted, out if rhs.has_ellipsis else (Ellipsis, *out)


def _positional(eq: _Equation, lhses: list[Expression], rhs: Expression) -> tuple[frozenset[str], _Order]:
    if len(lhses) != len(eq.all_axes):
        raise eq.error(
            f"the number of input specs ({len(lhses)}) does not match number of arrays ({len(eq.all_axes)}); "
            f"write one comma-separated spec an array"
        )
    bound: dict[str, str] = {}  # label -> axis name
    for k, (spec, axes) in enumerate(zip(lhses, eq.all_axes, strict=True)):
        if not spec.is_ordered:
            raise eq.error("an unordered '{ }' group must be the only input spec", None)
        caps = spec.captures
        for c in caps:
            if not isinstance(c, EllipsisType):
                eq.plain(c, "in the input")
        n_dots = sum(c is Ellipsis for c in caps)
        if n_dots > 1:
            raise eq.error(f"Can't have two ellipses in the spec of operand {k}")
        cut = caps.index(Ellipsis) if n_dots else len(caps)
        head, tail = caps[:cut], caps[cut + 1 :]
        named = len(head) + len(tail)
        if named > len(axes) or (not n_dots and named != len(axes)):
            raise pattern_error(
                _OP,
                eq.text,
                f"Mismatched number of axes: operand {k} {format_shape(axes)} has {len(axes)} axes but its spec "
                f"{'names at least' if n_dots else 'names'} {named}"
                + ("" if n_dots else "; add '...' to stand for the rest"),
                spec.char_range[0] + 1,
            )
        pairs = list(zip(head, axes[: len(head)], strict=True)) + list(
            zip(tail, axes[len(axes) - len(tail) :], strict=True)
        )
        for c, ax in pairs:
            # '...' was cut out and groups were rejected above: each c is a plain name
            _bind(eq, bound, c.axes[0], ax, c)  # type: ignore[union-attr,arg-type]
    by_axis: dict[str, str] = {}
    for label, name in bound.items():
        other = by_axis.setdefault(name, label)
        if other != label:
            raise eq.error(
                f"labels {other!r} and {label!r} both stand for axis {name!r}; use one label for one axis"
            )

    def label_of(c: AxisCapture) -> str:
        name = bound.get(c.axes[0])
        if name is None:
            raise eq.error(
                f"Axis name {c.axes[0]!r} does not occur on the left hand side; the output may only use "
                f"labels of the input specs{did_you_mean(c.axes[0], bound)}",
                c,
                AxisNotFoundError,
            )
        return name

    out = eq.output(rhs, label_of)
    if sum(o is Ellipsis for o in out) > 1:
        raise eq.error("Can't have two ellipses in the output of an ordered einsum")
    eq.check_aliases_used()
    kept = set(out) if not rhs.has_ellipsis else set(out) | (eq.by_name.keys() - set(bound.values()))
    return frozenset(n for n in eq.by_name if n not in kept), out


def _bind(eq: _Equation, bound: dict[str, str], label: str, ax: Axis, c: AxisCapture) -> None:
    alias = eq.aliases.get(label)
    if alias is not None:
        eq.used.add(label)
        want = selector_name(alias)
        if want != ax.name or (isinstance(alias, Axis) and alias != ax):
            raise eq.error(
                f"Alias {label} is assigned to more than one axis: the keyword says {alias!r}, but the operand "
                f"has axis {format_shape((ax,))} at this position",
                c,
            )
    prev = bound.setdefault(label, ax.name)
    if prev != ax.name:
        raise eq.error(
            f"Alias {label} is assigned to more than one axis: {prev!r} and {ax.name!r}; labels are bound by "
            f"position, so each label must stand for the same axis in every operand",
            c,
        )


@functools.lru_cache(maxsize=2048)
def _einsum_plan(
    equation: str, all_axes: tuple[tuple[Axis, ...], ...], aliases: tuple[tuple[str, AxisSelector], ...]
) -> tuple[frozenset[str], tuple[str, ...]]:
    """The contracted names and the output order for an equation and these operands."""
    eq = _Equation(equation, all_axes, dict(aliases))
    lhses, rhs = parse_einsum(equation, _OP)
    if len(lhses) == 1 and lhses[0].is_ordered and not lhses[0].captures:
        out = _output_only(eq, rhs)
        contracted = frozenset(n for n in eq.by_name if n not in out) if Ellipsis not in out else frozenset()
    elif len(lhses) == 1 and not lhses[0].is_ordered:
        contracted, out = _unordered(eq, lhses[0], rhs)
    else:
        contracted, out = _positional(eq, lhses, rhs)
    if Ellipsis not in out:
        return contracted, cast(tuple[str, ...], out)
    kept = tuple(n for n in eq.by_name if n not in contracted)
    return contracted, partial_order_for(_OP, out, kept)


def einsum(
    equation: str,
    *arrays: NamedArray,
    precision: PrecisionLike = None,
    preferred_element_type: DTypeLike | None = None,
    _dot_general: Callable[..., Any] = jax.lax.dot_general,
    **axis_aliases: AxisSelector,
) -> NamedArray:
    """Contract named arrays as an equation over axis names says; axes left out of the output are summed.

    Ordered form, ``"b h w c, c e -> b h w e"``: one spec an operand; its labels are bound by
    position to the operand's axes (``...`` for the axes in between), and the output lists labels
    (``...`` there: the axes no spec labels). A label must stand for one axis in every spec.
    Unordered form, ``"{q k d} -> q k"``: names axes by name; those on the left and not on the
    right are contracted, unnamed axes are kept, and ``{...}`` contracts everything the output does
    not name. Output-only form, ``"-> q k"``: everything not in the output is contracted. An output
    may hold several ``...`` (a partial order, as in `haliax.rearrange`).

    Keyword arguments alias names to axes (``b="batch"`` or an `Axis`, whose size is checked);
    ``_dot_general`` replaces ``jax.lax.dot_general`` (same signature), e.g. for quantized matmuls.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> q = hax.named(jnp.ones((2, 3, 4)), ("batch", "pos", "head"))
        >>> k = hax.named(jnp.ones((2, 5, 4)), ("batch", "key_pos", "head"))
        >>> hax.einsum("b q h, b k h -> b q k", q, k).shape
        {'batch': 2, 'pos': 3, 'key_pos': 5}
        >>> hax.einsum("{head} -> batch pos key_pos", q, k).shape
        {'batch': 2, 'pos': 3, 'key_pos': 5}
    """
    if not isinstance(equation, str):
        raise NamedTypeError(f"einsum: the equation must be a string, got {type(equation).__name__}")
    all_axes = check_operands(_OP, arrays)
    contract, out = _einsum_plan(equation, all_axes, tuple(axis_aliases.items()))
    plan = contraction_plan(_OP, all_axes, contract, out)
    return run_contraction(plan, arrays, precision, preferred_element_type, _dot_general)
