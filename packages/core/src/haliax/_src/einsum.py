"""Named einsum: contraction written as an equation over axis names.

Three forms, all meaning "every axis not in the output is summed over":

- ordered, ``"b q h d, b k h d -> b h q k"``: one comma-separated spec an operand, naming its axes
  in order (``...`` stands for the rest);
- unordered, ``"{q k d} -> q k"``: one brace group listing the axes the equation speaks of, in any
  order; every axis of every operand must be listed unless the group has ``...``;
- output-only, ``"-> batch"``: only the output is given; everything else is contracted.

The equation is resolved against the operands' axes once (cached) into the set of contracted
names and the output order, and then runs through the same planner as `haliax.dot`: one
``jax.lax.dot_general`` for two operands, at most one transpose.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax

from .axis import Axis, AxisSelector
from .axis_pattern import Token, pattern_error, split_arrow, tokenize
from .dot import PrecisionLike, check_operands, contraction_plan, run_contraction
from .errors import AxisNotFoundError, NamedTypeError, axis_size_mismatch, did_you_mean, format_shape
from .named_array import NamedArray

_OP = "einsum"


def _spec_items(equation: str, tokens: tuple[Token, ...]) -> list[Token]:
    """The names and ``...`` of one spec; other punctuation is an error."""
    for t in tokens:
        if t.kind not in ("name", "..."):
            raise pattern_error(_OP, equation, t.col, f"unexpected {t.text!r}")
    if sum(t.kind == "..." for t in tokens) > 1:
        second = [t for t in tokens if t.kind == "..."][1]
        raise pattern_error(_OP, equation, second.col, "a second '...'")
    return list(tokens)


def _split_commas(tokens: tuple[Token, ...]) -> list[tuple[Token, ...]]:
    out: list[list[Token]] = [[]]
    for t in tokens:
        if t.kind == ",":
            out.append([])
        else:
            out[-1].append(t)
    return [tuple(part) for part in out]


class _Resolver:
    """Turns equation names into actual axis names through the keyword aliases."""

    def __init__(self, aliases: dict[str, AxisSelector], by_name: dict[str, Axis], equation: str):
        self.aliases = aliases
        self.by_name = by_name
        self.equation = equation

    def name(self, token: Token) -> str:
        alias = self.aliases.get(token.text, token.text)
        name = alias if isinstance(alias, str) else alias.name
        if isinstance(alias, Axis):
            found = self.by_name.get(name)
            if found is not None and found.size != alias.size:
                raise axis_size_mismatch(_OP, name, found.size, alias.size)
        return name

    def existing(self, token: Token, all_axes: tuple[tuple[Axis, ...], ...]) -> str:
        name = self.name(token)
        if name not in self.by_name:
            shapes = ", ".join(format_shape(axes) for axes in all_axes)
            alias = "" if name == token.text else f" (alias of {token.text!r})"
            raise AxisNotFoundError(
                f"einsum: in {self.equation!r} at column {token.col}: axis {name!r}{alias} is not in any "
                f"operand: {shapes}{did_you_mean(name, self.by_name)}"
            )
        return name


def _ordered(
    equation: str, specs: list[tuple[Token, ...]], all_axes: tuple[tuple[Axis, ...], ...], r: _Resolver
) -> set[str]:
    """Check each operand against its spec; returns the names the equation gives."""
    if len(specs) != len(all_axes):
        raise pattern_error(
            _OP,
            equation,
            1,
            f"{len(specs)} operand specs for {len(all_axes)} arrays (one spec an array, comma separated)",
        )
    named: set[str] = set()
    for k, (spec, axes) in enumerate(zip(specs, all_axes, strict=True)):
        items = _spec_items(equation, spec)
        if any(t.kind == "..." for t in items):
            cut = next(i for i, t in enumerate(items) if t.kind == "...")
            head, tail = items[:cut], items[cut + 1 :]
            if len(head) + len(tail) > len(axes):
                raise pattern_error(
                    _OP,
                    equation,
                    spec[0].col,
                    f"operand {k} {format_shape(axes)} has fewer axes than its spec names",
                )
            positions = list(range(len(head))) + list(range(len(axes) - len(tail), len(axes)))
            listed = head + tail
        else:
            if len(items) != len(axes):
                col = spec[0].col if spec else 1
                raise pattern_error(
                    _OP,
                    equation,
                    col,
                    f"operand {k} {format_shape(axes)} has {len(axes)} axes but its spec names {len(items)}",
                )
            positions, listed = list(range(len(items))), items
        for p, t in zip(positions, listed, strict=True):
            name = r.name(t)
            if name != axes[p].name:
                raise pattern_error(
                    _OP,
                    equation,
                    t.col,
                    f"operand {k} {format_shape(axes)} has axis {axes[p].name!r} at position {p} but the equation "
                    f"says {t.text!r}; write {axes[p].name!r} or pass {t.text}={axes[p].name!r}",
                )
            named.add(name)
    return named


def _unordered(
    equation: str, lhs: tuple[Token, ...], all_axes: tuple[tuple[Axis, ...], ...], r: _Resolver
) -> set[str]:
    """Names listed in the one ``{...}`` group; every operand axis must be listed unless it has ``...``."""
    items = _spec_items(equation, lhs[1:-1])
    named = {r.existing(t, all_axes) for t in items if t.kind == "name"}
    has_ellipsis = any(t.kind == "..." for t in items)
    if not has_ellipsis:
        for k, axes in enumerate(all_axes):
            for ax in axes:
                if ax.name not in named:
                    raise pattern_error(
                        _OP,
                        equation,
                        lhs[0].col,
                        f"operand {k} {format_shape(axes)} has axis {ax.name!r}, which the group does not list; "
                        f"list it or add '...'",
                    )
    return named


@functools.lru_cache(maxsize=2048)
def _einsum_plan(
    equation: str, all_axes: tuple[tuple[Axis, ...], ...], aliases: tuple[tuple[str, AxisSelector], ...]
) -> tuple[frozenset[str], tuple[str, ...]]:
    """The contracted names and the output order for an equation and these operands."""
    by_name: dict[str, Axis] = {}
    for axes in all_axes:
        for ax in axes:
            prev = by_name.setdefault(ax.name, ax)
            if prev.size != ax.size:
                raise axis_size_mismatch(_OP, ax.name, prev.size, ax.size)
    r = _Resolver(dict(aliases), by_name, equation)
    lhs, rhs = split_arrow(_OP, equation, tokenize(_OP, equation))
    if lhs and lhs[0].kind == "{":
        close = lhs[len(lhs) - 1]
        if close.kind != "}" or len(lhs) < 2:
            raise pattern_error(_OP, equation, close.col, "expected '}' to close the unordered group")
        _spec_items(equation, lhs[1:-1])
    elif lhs:
        for spec in _split_commas(lhs):
            _spec_items(equation, spec)
    rhs_items = _spec_items(equation, rhs)
    out_listed = [r.existing(t, all_axes) for t in rhs_items if t.kind == "name"]
    if len(set(out_listed)) != len(out_listed):
        dup = next(n for n in out_listed if out_listed.count(n) > 1)
        raise pattern_error(_OP, equation, rhs[0].col, f"the output names axis {dup!r} twice")
    if not lhs:
        named = set(out_listed)
    elif lhs[0].kind == "{":
        named = _unordered(equation, lhs, all_axes, r)
    else:
        named = _ordered(equation, _split_commas(lhs), all_axes, r)
    named |= set(out_listed)
    rest = tuple(n for n in by_name if n not in named)
    out: list[str] = []
    for t in rhs_items:
        out.extend(rest if t.kind == "..." else (r.name(t),))
    contract = frozenset(n for n in by_name if n not in set(out))
    return contract, tuple(out)


def einsum(
    equation: str,
    *arrays: NamedArray,
    precision: PrecisionLike = None,
    preferred_element_type: Any = None,
    dot_general: Callable[..., Any] = jax.lax.dot_general,
    **axis_aliases: AxisSelector,
) -> NamedArray:
    """Contract named arrays as an equation over axis names says; unlisted output axes are summed.

    Ordered form, ``"b q h d, b k h d -> b h q k"``: one spec an operand naming its axes in order
    (``...`` for the rest); a name that differs from the operand's axis is an error, so the spec
    doubles as a shape check. Unordered form, ``"{q k d} -> q k"``: the brace group lists the axes
    in any order, and must cover every axis unless it holds ``...``. Output-only form, ``"-> q k"``:
    every axis not in the output is contracted. In all forms ``...`` in the output stands for the
    axes the equation does not name, in order of first appearance.

    Keyword arguments alias equation names to axes: ``einsum("{b d} -> b", x, y, b="batch")``.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> q = hax.named(jnp.ones((2, 3, 4)), ("batch", "pos", "head"))
        >>> k = hax.named(jnp.ones((2, 5, 4)), ("batch", "key_pos", "head"))
        >>> hax.einsum("{batch pos key_pos head} -> batch pos key_pos", q, k).shape
        {'batch': 2, 'pos': 3, 'key_pos': 5}
    """
    if not isinstance(equation, str):
        raise NamedTypeError(f"einsum: the equation must be a string, got {type(equation).__name__}")
    all_axes = check_operands(_OP, arrays)
    contract, out = _einsum_plan(equation, all_axes, tuple(sorted(axis_aliases.items())))
    plan = contraction_plan(_OP, all_axes, contract, out)
    return run_contraction(plan, arrays, precision, preferred_element_type, dot_general)
