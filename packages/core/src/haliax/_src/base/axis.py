"""Axes and axis specs: `Axis`, `dslice`, and the helpers that normalise, combine and look up specs.

An *axis selector* is an `Axis` or a bare name; an *axis selection* is one selector, a sequence of
them, or a ``{name: size}`` dict; an *axis spec* is the same with sizes known (for creation).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from types import EllipsisType
from typing import Any, TypeAlias, cast, overload

from .errors import (
    AxisSizeError,
    DuplicateAxisError,
    HaliaxError,
    NamedTypeError,
    axis_not_found,
    axis_size_mismatch,
    format_shape,
    reported_as,
    reword,
)


@dataclasses.dataclass(frozen=True, slots=True)
class Axis:
    """A named axis with a size: ``Axis("embed", 512)``.

    Examples:
        >>> import haliax as hax
        >>> Embed = hax.Axis("embed", 512)
        >>> Embed.resize(64), Embed.alias("hidden")
        (Axis(name='embed', size=64), Axis(name='hidden', size=512))
    """

    name: str
    size: int

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            raise NamedTypeError(
                f"Axis: the name must be a string, got {type(self.name).__name__} {self.name!r}; "
                "write Axis(name, size), e.g. hax.Axis('batch', 4)"
            )

    def alias(self, new_name: str) -> Axis:
        """A same-size axis with another name."""
        return Axis(new_name, self.size)

    def resize(self, size: int) -> Axis:
        """A same-named axis of another size."""
        return Axis(self.name, size)

    def __str__(self) -> str:
        return f"{self.name}({self.size})"


AxisSelector: TypeAlias = Axis | str
ShapeDict: TypeAlias = dict[str, int]
PartialShapeDict: TypeAlias = dict[str, int | None]
# A Mapping (covariant in its values), so that every ShapeDict, and so every AxisSpec, is a selection.
AxisSelection: TypeAlias = AxisSelector | Sequence[AxisSelector] | Mapping[str, int | None]
AxisSpec: TypeAlias = Axis | Sequence[Axis] | ShapeDict
PartialAxisSpec: TypeAlias = Sequence[AxisSelector | EllipsisType]


@dataclasses.dataclass(frozen=True)
class dslice:
    """A dynamic slice: ``size`` elements from ``start``, where ``start`` may be traced.

    ``size`` may be given as an `Axis`, whose size is taken. Element ``k`` of the window is index
    ``start + k`` read as a numpy index (a negative one counts from the end); reads of positions
    still outside the axis give 0 and writes to them are dropped.

    Examples:
        >>> import haliax as hax
        >>> x = hax.arange(hax.Axis("pos", 8))
        >>> x["pos", hax.dslice(2, 3)].array.tolist()
        [2, 3, 4]
        >>> x["pos", hax.dslice(6, hax.Axis("win", 4))].array.tolist()
        [6, 7, 0, 0]
    """

    start: Any
    size: int

    def __init__(self, start: Any, size: int | Axis):
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "size", size.size if isinstance(size, Axis) else size)

    def to_slice(self) -> slice:
        """The static `slice` with the same range (``start`` must be concrete)."""
        return slice(self.start, self.start + self.size)

    @staticmethod
    def block(idx: Any, size: int) -> dslice:
        """The ``idx``-th block of ``size`` elements."""
        return dslice(idx * size, size)


ds = dslice


def dblock(idx: Any, size: int) -> dslice:
    """``dslice(idx * size, size)``: the ``idx``-th block of a given size."""
    return dslice(idx * size, size)


def make_axes(**kwargs: int) -> tuple[Axis, ...]:
    """Axes from keywords, in keyword order: ``make_axes(batch=4, embed=8)``."""
    return tuple(Axis(name, size) for name, size in kwargs.items())


def axis_name(ax: AxisSelection) -> str | tuple[str, ...]:
    """The name of one axis, or the tuple of names of several."""
    if isinstance(ax, Axis):
        return ax.name
    if isinstance(ax, str):
        return ax
    if isinstance(ax, Mapping):
        return tuple(ax.keys())
    return tuple(selector_name(a) for a in ax)


def selector_name(ax: AxisSelector) -> str:
    """The name of one axis selector: ``ax.name`` for an `Axis`, else the name itself."""
    return ax.name if isinstance(ax, Axis) else ax


def axis_position(op: str, axes: Sequence[Axis], sel: AxisSelector) -> int:
    """Position of ``sel`` in ``axes``, errors worded for ``op`` (absent, or an `Axis` of another size)."""
    name = sel.name if isinstance(sel, Axis) else sel
    for i, ax in enumerate(axes):
        if ax.name == name:
            if isinstance(sel, Axis) and sel.size != ax.size:
                raise axis_size_mismatch(op, name, ax.size, sel.size)
            return i
    raise axis_not_found(op, [name], axes)


def axis_size(ax: AxisSpec) -> int:
    """The size of an axis, or the product of the sizes of several."""
    if isinstance(ax, Axis):
        return ax.size
    if isinstance(ax, Mapping):
        sizes = ax.values()
    else:
        sizes = [a.size for a in ax]  # type: ignore[union-attr]  # a sequence of Axis
    out = 1
    for s in sizes:
        out *= s
    return out


def axis_spec_to_tuple(ax: AxisSelection) -> tuple[AxisSelector, ...]:
    """Normalise a selection to a tuple of `Axis`/names (dicts become Axis tuples where sized)."""
    if isinstance(ax, (Axis, str)):
        return (ax,)
    if isinstance(ax, Mapping):
        return tuple(name if size is None else Axis(name, size) for name, size in ax.items())
    try:
        return tuple(ax)
    except TypeError:  # an int, a NamedArray, None...: not a spec at all
        raise NamedTypeError(
            f"axis_spec_to_tuple: expected an axis name, an Axis, or a sequence or dict of them, "
            f"got {type(ax).__name__}; write e.g. 'batch', hax.Axis('batch', 4) or ('batch', 'embed')"
        ) from None


def sized_axes(
    op: str, spec: AxisSelection, *, why: str = "", fix: str = "pass an Axis or a {{name: size}} dict"
) -> tuple[Axis, ...]:
    """``spec`` as a tuple of distinct sized `Axis` (for ops that create arrays).

    A bare name is an error worded ``"{op}: axis 'x' needs a size{why}; {fix}"`` (``fix`` may use
    ``{ax!r}``); a repeated name, or a size that is not a non-negative integer, is an error too.
    """
    try:  # not `reported_as`: a `with` costs ~0.5us on every array creation
        axes = axis_spec_to_tuple(spec)
    except HaliaxError as e:
        raise reword(e, op) from None
    seen: set[str] = set()
    for ax in axes:
        if not isinstance(ax, Axis):
            raise NamedTypeError(f"{op}: axis {ax!r} needs a size{why}; {fix.format(ax=ax)}")
        size = ax.size
        if isinstance(size, bool) or not hasattr(size, "__index__") or size < 0:
            raise NamedTypeError(
                f"{op}: axis {ax.name!r} has size {size!r}; a size must be a non-negative integer"
            )
        if ax.name in seen:
            raise DuplicateAxisError(f"{op}: axis {ax.name!r} appears twice in {format_shape(axes)}")
        seen.add(ax.name)
    return axes  # type: ignore[return-value]  # every entry checked to be an Axis


def axis_spec_to_shape_dict(ax: AxisSelection) -> PartialShapeDict:
    """Normalise a selection to an ordered ``{name: size}`` dict (``None`` where unknown)."""
    if isinstance(ax, Mapping):
        return dict(ax)
    out: PartialShapeDict = {}
    for a in axis_spec_to_tuple(ax):
        if isinstance(a, Axis):
            out[a.name] = a.size
        else:
            out[a] = None
    return out


def to_jax_shape(shape: AxisSpec) -> tuple[int, ...]:
    """The tuple of sizes of an axis spec."""
    if isinstance(shape, Axis):
        return (shape.size,)
    if isinstance(shape, Mapping):
        return tuple(shape.values())
    return tuple(a.size for a in shape)  # type: ignore[union-attr]  # a sequence of Axis


def _as_dict_or_tuple(spec: Any) -> tuple[bool, tuple[AxisSelector, ...]]:
    return isinstance(spec, Mapping), axis_spec_to_tuple(spec)


def _restore(is_dict: bool, axes: Sequence[AxisSelector]) -> Any:
    if is_dict:
        return {selector_name(a): (a.size if isinstance(a, Axis) else None) for a in axes}
    return tuple(axes)


# Spec helpers give back the kind of spec they get: a shape dict for shape dicts, sized axes for
# sized axes, selectors otherwise; the overloads below say so to type checkers.
_Sized: TypeAlias = Axis | Sequence[Axis]
_Selectors: TypeAlias = AxisSelector | Sequence[AxisSelector]
_AnySpec: TypeAlias = tuple[AxisSelector, ...] | Mapping[str, int | None]


@overload
def concat_axes(a1: Mapping[str, int], a2: Mapping[str, int]) -> dict[str, int]: ...
@overload
def concat_axes(a1: _Sized, a2: _Sized) -> tuple[Axis, ...]: ...
@overload
def concat_axes(a1: _Selectors, a2: AxisSelection) -> tuple[AxisSelector, ...]: ...
@overload
def concat_axes(a1: AxisSelection, a2: _Selectors) -> tuple[AxisSelector, ...]: ...
@overload
def concat_axes(a1: AxisSelection, a2: AxisSelection) -> _AnySpec: ...
def concat_axes(a1: AxisSelection, a2: AxisSelection) -> Any:
    """Concatenate two specs (tuples or dicts); a name in both is an error."""
    d1, t1 = _as_dict_or_tuple(a1)
    d2, t2 = _as_dict_or_tuple(a2)
    names1 = {selector_name(a) for a in t1}
    dup = [selector_name(a) for a in t2 if selector_name(a) in names1]
    if dup:
        raise DuplicateAxisError(
            f"concat_axes: axis {dup[0]!r} appears in both {format_shape(t1)} and {format_shape(t2)}; "
            f"use union_axes to merge specs that share axes"
        )
    return _restore(d1 and d2, t1 + t2)


@overload
def union_axes(a1: Mapping[str, int], a2: Mapping[str, int]) -> dict[str, int]: ...
@overload
def union_axes(a1: _Sized, a2: _Sized) -> tuple[Axis, ...]: ...
@overload
def union_axes(a1: _Selectors, a2: AxisSelection) -> tuple[AxisSelector, ...]: ...
@overload
def union_axes(a1: AxisSelection, a2: _Selectors) -> tuple[AxisSelector, ...]: ...
@overload
def union_axes(a1: AxisSelection, a2: AxisSelection) -> _AnySpec: ...
def union_axes(a1: AxisSelection, a2: AxisSelection) -> Any:
    """Like `concat_axes`, but axes in both are kept once (their sizes must agree)."""
    d1, t1 = _as_dict_or_tuple(a1)
    d2, t2 = _as_dict_or_tuple(a2)
    by_name = {selector_name(a): a for a in t1}
    extra = []
    for a in t2:
        name = selector_name(a)
        if name in by_name:
            _check_compatible("union_axes", by_name[name], a)
        else:
            extra.append(a)
    return _restore(d1 and d2, t1 + tuple(extra))


def _check_compatible(op: str, a: AxisSelector, b: AxisSelector) -> None:
    if isinstance(a, Axis) and isinstance(b, Axis) and a.size != b.size:
        raise axis_size_mismatch(op, a.name, a.size, b.size)


def is_axis_compatible(ax1: AxisSelector, ax2: AxisSelector) -> bool:
    """True if two selectors share a name and, where both are sized, a size."""
    if isinstance(ax1, Axis) and isinstance(ax2, Axis):
        return ax1 == ax2
    return selector_name(ax1) == selector_name(ax2)


def _remove(op: str, axis_spec: AxisSelection, to_remove: AxisSelection, strict: bool) -> Any:
    is_dict, spec = _as_dict_or_tuple(axis_spec)
    by_name = {selector_name(a): a for a in spec}
    drop = set()
    for r in axis_spec_to_tuple(to_remove):
        name = selector_name(r)
        if name not in by_name:
            if strict:
                raise axis_not_found(op, [name], spec)
            continue
        _check_compatible(op, by_name[name], r)
        drop.add(name)
    return _restore(is_dict, [a for a in spec if selector_name(a) not in drop])


@overload
def eliminate_axes(axis_spec: Mapping[str, int], axes: AxisSelection) -> dict[str, int]: ...
@overload
def eliminate_axes(axis_spec: _Sized, axes: AxisSelection) -> tuple[Axis, ...]: ...
@overload
def eliminate_axes(axis_spec: _Selectors, axes: AxisSelection) -> tuple[AxisSelector, ...]: ...
@overload
def eliminate_axes(axis_spec: AxisSelection, axes: AxisSelection) -> _AnySpec: ...
def eliminate_axes(axis_spec: AxisSelection, axes: AxisSelection) -> Any:
    """The spec without the given axes; an axis the spec lacks is an error."""
    return _remove("eliminate_axes", axis_spec, axes, strict=True)


@overload
def without_axes(axis_spec: Mapping[str, int], to_remove: AxisSelection) -> dict[str, int]: ...
@overload
def without_axes(axis_spec: _Sized, to_remove: AxisSelection) -> tuple[Axis, ...]: ...
@overload
def without_axes(axis_spec: _Selectors, to_remove: AxisSelection) -> tuple[AxisSelector, ...]: ...
@overload
def without_axes(axis_spec: AxisSelection, to_remove: AxisSelection) -> _AnySpec: ...
def without_axes(axis_spec: AxisSelection, to_remove: AxisSelection) -> Any:
    """The spec without the given axes; axes the spec lacks are ignored."""
    return _remove("without_axes", axis_spec, to_remove, strict=False)


@overload
def intersect_axes(ax1: Mapping[str, int], ax2: AxisSelection) -> dict[str, int]: ...
@overload
def intersect_axes(ax1: _Sized, ax2: AxisSelection) -> tuple[Axis, ...]: ...
@overload
def intersect_axes(ax1: _Selectors, ax2: AxisSelection) -> tuple[AxisSelector, ...]: ...
@overload
def intersect_axes(ax1: AxisSelection, ax2: AxisSelection) -> _AnySpec: ...
def intersect_axes(ax1: AxisSelection, ax2: AxisSelection) -> Any:
    """Axes present in both specs, in the first spec's order."""
    is_dict, t1 = _as_dict_or_tuple(ax1)
    by_name = {selector_name(a): a for a in axis_spec_to_tuple(ax2)}
    out = []
    for a in t1:
        other = by_name.get(selector_name(a))
        if other is not None:
            _check_compatible("intersect_axes", a, other)
            out.append(a)
    return _restore(is_dict, out)


@overload
def replace_axis(
    axis_spec: Mapping[str, int], old: AxisSelector, new: _Sized | Mapping[str, int]
) -> dict[str, int]: ...
@overload
def replace_axis(
    axis_spec: _Sized, old: AxisSelector, new: _Sized | Mapping[str, int]
) -> tuple[Axis, ...]: ...
@overload
def replace_axis(
    axis_spec: _Selectors, old: AxisSelector, new: AxisSelection
) -> tuple[AxisSelector, ...]: ...
@overload
def replace_axis(axis_spec: AxisSelection, old: AxisSelector, new: AxisSelection) -> _AnySpec: ...
def replace_axis(axis_spec: AxisSelection, old: AxisSelector, new: AxisSelection) -> Any:
    """Replace one axis of a spec by another axis or spec, in place."""
    with reported_as("replace_axis"):
        is_dict, spec = _as_dict_or_tuple(axis_spec)
        new_t = axis_spec_to_tuple(new)
    old_name = selector_name(old)
    names = [selector_name(a) for a in spec]
    if old_name not in names:
        raise axis_not_found("replace_axis", [old_name], spec)
    i = names.index(old_name)
    out = spec[:i] + new_t + spec[i + 1 :]
    seen: set[str] = set()
    for a in out:
        n = selector_name(a)
        if n in seen:
            raise DuplicateAxisError(
                f"replace_axis: replacing {old_name!r} by {format_shape(new_t)} in {format_shape(spec)} "
                f"would repeat axis {n!r}"
            )
        seen.add(n)
    return _restore(is_dict, out)


def overlapping_axes(ax1: AxisSelection, ax2: AxisSelection) -> tuple[str, ...]:
    """Names present in both selections, in the first one's order."""
    names2 = {selector_name(a) for a in axis_spec_to_tuple(ax2)}
    return tuple(selector_name(a) for a in axis_spec_to_tuple(ax1) if selector_name(a) in names2)


def selects_axis(selector: AxisSelection, selected: AxisSelection) -> bool:
    """True if ``selector`` contains every axis of ``selected`` (sizes agreeing where known)."""
    by_name = {selector_name(a): a for a in axis_spec_to_tuple(selector)}
    for a in axis_spec_to_tuple(selected):
        mine = by_name.get(selector_name(a))
        if mine is None:
            return False
        if isinstance(mine, Axis) and isinstance(a, Axis) and mine.size != a.size:
            return False
    return True


@overload
def unsize_axes(axis_spec: AxisSelection, to_unsize: None = None) -> tuple[str, ...]: ...
@overload
def unsize_axes(axis_spec: AxisSelection, to_unsize: AxisSelection) -> tuple[AxisSelector, ...]: ...
def unsize_axes(axis_spec: AxisSelection, to_unsize: AxisSelection | None = None) -> tuple[AxisSelector, ...]:
    """Replace `Axis` objects by bare names: all of them, or only the listed ones."""
    spec = axis_spec_to_tuple(axis_spec)
    if to_unsize is None:
        return tuple(selector_name(a) for a in spec)
    drop = {selector_name(a) for a in axis_spec_to_tuple(to_unsize)}
    names = {selector_name(a) for a in spec}
    missing = [n for n in drop if n not in names]
    if missing:
        raise axis_not_found("unsize_axes", missing, spec)
    return tuple(selector_name(a) if selector_name(a) in drop else a for a in spec)


@overload
def resolve_axis(axis_spec: AxisSpec, axis_selection: AxisSelector) -> Axis: ...
@overload
def resolve_axis(axis_spec: AxisSpec, axis_selection: Mapping[str, int | None]) -> dict[str, int]: ...
@overload
def resolve_axis(axis_spec: AxisSpec, axis_selection: Sequence[AxisSelector]) -> tuple[Axis, ...]: ...
def resolve_axis(
    axis_spec: AxisSpec, axis_selection: AxisSelection
) -> Axis | dict[str, int] | tuple[Axis, ...]:
    """Look up the sized `Axis` objects of ``axis_spec`` named by ``axis_selection``.

    One selector gives one `Axis`; a sequence gives a tuple; a dict gives a shape dict.
    """
    # An AxisSpec holds sized Axis objects only.
    available = {a.name: a for a in cast(tuple[Axis, ...], axis_spec_to_tuple(axis_spec))}

    def one(sel: AxisSelector) -> Axis:
        name = selector_name(sel)
        found = available.get(name)
        if found is None:
            raise axis_not_found("resolve_axis", [name], available.values())
        if isinstance(sel, Axis) and sel.size != found.size:
            raise axis_size_mismatch("resolve_axis", name, found.size, sel.size)
        return found

    if isinstance(axis_selection, (Axis, str)):
        return one(axis_selection)
    if isinstance(axis_selection, Mapping):
        return {n: one(n if s is None else Axis(n, s)).size for n, s in axis_selection.items()}
    return tuple(one(s) for s in axis_selection)


def rearrange_for_partial_order(
    partial_order: PartialAxisSpec, axes: Sequence[AxisSelector]
) -> tuple[Any, ...]:
    """Order ``axes`` to satisfy a partial order with any number of ``...``, keeping the original order where free.

    Named entries of ``partial_order`` appear in the result in that order. Without ``...`` the
    order must name every axis exactly once. Each ``...`` is a slot for axes the order does not
    name; an unnamed axis goes to the first still-empty slot after the named axes that precede it
    in ``axes`` (so ``("a", ..., "b", ...)`` on ``("b", "a", "c")`` gives ``("a", "b", "c")``).
    Raises if an axis is named twice or is absent.
    """
    return partial_order_for("rearrange_for_partial_order", partial_order, axes)


def partial_order_for(
    op: str, partial_order: PartialAxisSpec, axes: Sequence[AxisSelector], label: str = "the order"
) -> tuple[Any, ...]:
    """`rearrange_for_partial_order` with errors worded for ``op`` (``label`` names the order: ``out_axes``)."""
    order = tuple(partial_order)
    if order == (Ellipsis,):
        return tuple(axes)
    names = [selector_name(a) for a in axes]
    named = [selector_name(a) for a in order if not isinstance(a, EllipsisType)]
    if len(set(named)) != len(named):
        dup = next(n for n in named if named.count(n) > 1)
        raise DuplicateAxisError(f"{op}: {label} {list(order)} names axis {dup!r} twice")
    missing = [n for n in named if n not in names]
    if missing:
        raise axis_not_found(op, missing, axes)
    by_name = dict(zip(names, axes, strict=True))
    if Ellipsis not in order:
        if len(named) != len(names):
            rest = [n for n in names if n not in named]
            raise AxisSizeError(
                f"{op}: {label} {named} leaves out axes {rest} of {format_shape(axes)}; "
                f"name every axis or add '...'"
            )
        return tuple(by_name[n] for n in named)
    for n in named:
        if names.count(n) > 1:
            raise DuplicateAxisError(f"{op}: axis {n!r} appears more than once in {format_shape(axes)}")
    # one bucket per entry of the order: a named entry holds its axis, a '...' collects free axes
    slots: list[list[str]] = [[] if isinstance(a, EllipsisType) else [selector_name(a)] for a in order]
    slot_of = {selector_name(a): i for i, a in enumerate(order) if not isinstance(a, EllipsisType)}

    def first_empty(start: int) -> int | None:
        return next((i for i in range(start, len(slots)) if not slots[i]), None)

    target = order.index(Ellipsis)
    for n in names:
        if n in slot_of:
            found = first_empty(max(slot_of[n] + 1, target))
            if found is not None:
                target = found
        else:
            slots[target].append(n)
    return tuple(by_name[n] for slot in slots for n in slot)


def replace_missing_with_ellipsis(ax1: AxisSelection, ax2: AxisSelection) -> tuple[Any, ...]:
    """``ax1`` with each axis absent from ``ax2`` replaced by a ``...``, names upgraded to ``ax2``'s `Axis`."""
    by_name = {selector_name(a): a for a in axis_spec_to_tuple(ax2)}
    out: list[Any] = []
    for a in axis_spec_to_tuple(ax1):
        found = by_name.get(selector_name(a))
        if found is None:
            out.append(Ellipsis)
        else:
            _check_compatible("replace_missing_with_ellipsis", a, found)
            out.append(found)
    return tuple(out)
