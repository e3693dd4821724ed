"""Named `vmap`: vectorize a function over one or more named axes.

NamedArrays that have the axis are mapped along it (wherever it sits) and every NamedArray output
gets it back as its leading axis. Unnamed arrays follow per-argument specs, as in
`equinox.filter_vmap`: an int (the dimension to map), ``None`` (not mapped) or a function from the
leaf to either. Non-array leaves are static: passed to ``fn`` unchanged.

Unnamed arrays are mapped along their first dimension by default, as in Haliax; this is how a
stack of PRNG keys reaches each element (``hax.vmap(init, Layers)(key=jax.random.split(k, n))``).
Pass ``default=None`` to leave unnamed arrays unmapped.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any, TypeAlias

import jax

from ..base.axis import Axis, AxisSelection, AxisSelector, axis_spec_to_tuple, selector_name
from ..base.errors import (
    AxisNotFoundError,
    AxisSizeError,
    DuplicateAxisError,
    NamedTypeError,
    format_shape,
    reported_as,
)
from ..base.named_array import is_named_array
from ..base.pytree import broadcast_prefix
from ..base.pytypes import is_jax_array_like
from .layout import LeafLayout, leaf_paths

UnnamedAxisSpec: TypeAlias = int | Callable[[Any], int | None] | None


def zero_if_array_else_none(x: Any) -> int | None:
    """The default spec: map arrays along their first dimension; everything else is static."""
    return 0 if is_jax_array_like(x) else None


def _render_path(path: tuple[Any, ...]) -> str:
    if not path:
        return "the arguments"
    head = path[0]
    name = getattr(head, "key", None)
    if name is None:
        name = f"args[{getattr(head, 'idx', '?')}]"
    return f"{name}{jax.tree_util.keystr(tuple(path[1:]))}"


def _arguments_and_specs(
    sig: inspect.Signature | None,
    a: tuple[Any, ...],
    kw: dict[str, Any],
    default: Any,
    args_spec: Any,
    kwargs_spec: Mapping[str, Any],
) -> tuple[dict[str, Any], dict[str, Any], inspect.BoundArguments | None]:
    """The call's arguments by parameter name, and a spec prefix for each."""
    if sig is not None:
        try:
            bound = sig.bind(*a, **kw)
            spec_bound = sig.bind_partial(*args_spec, **kwargs_spec)
        except TypeError:
            bound = spec_bound = None
        if bound is not None and spec_bound is not None:
            specs: dict[str, Any] = {}
            for name, value in bound.arguments.items():
                kind = sig.parameters[name].kind
                given = spec_bound.arguments.get(name, default)
                if kind is inspect.Parameter.VAR_POSITIONAL:
                    given = tuple(given) if isinstance(given, tuple) else ()
                    given = given + (default,) * (len(value) - len(given))
                elif kind is inspect.Parameter.VAR_KEYWORD:
                    given = dict(given) if isinstance(given, dict) else {}
                    given = {k: given.get(k, default) for k in value}
                specs[name] = given
            return dict(bound.arguments), specs, bound
    values = {f"args[{i}]": x for i, x in enumerate(a)} | dict(kw)
    pos = tuple(args_spec) + (default,) * (len(a) - len(args_spec))
    specs = {f"args[{i}]": s for i, s in enumerate(pos[: len(a)])} | {
        k: kwargs_spec.get(k, default) for k in kw
    }
    return values, specs, None


def _call(
    fn: Callable[..., Any], values: dict[str, Any], bound: inspect.BoundArguments | None, n_pos: int
) -> Any:
    if bound is not None:
        bound.arguments = values  # type: ignore[misc]  # BoundArguments.arguments is documented as mutable
        return fn(*bound.args, **bound.kwargs)
    pos = [values[f"args[{i}]"] for i in range(n_pos)]
    return fn(*pos, **{k: v for k, v in values.items() if not k.startswith("args[")})


def _mapped_dims(
    name: str,
    axis: AxisSelector,
    layout: LeafLayout,
    arrays: list[Any],
    specs: list[Any],
    where: Callable[[int], str],
) -> tuple[list[int | None], int]:
    """Per array of ``layout``, the dimension ``jax.vmap`` maps along ``name`` (None: not mapped); and the size.

    ``specs`` holds each leaf's unnamed-array spec; ``where(i)`` renders leaf ``i``'s path for messages.
    """
    size = axis.size if isinstance(axis, Axis) else None
    first: int | None = None  # the leaf that fixed the size, when the axis did not
    in_axes: list[int | None] = []
    for i, axes, x in zip(layout.dynamic_indices, layout.dynamic_axes, arrays, strict=True):
        pos: Any  # a spec function may return anything; jax.vmap checks it
        leaf_size: int | None = None
        if axes is not None:
            pos = next((j for j, ax in enumerate(axes) if ax.name == name), None)
            leaf_size = None if pos is None else axes[pos].size
        else:
            spec = specs[i]
            pos = spec(x) if callable(spec) else spec
            if pos is not None:
                ndim = len(x.shape)
                if not -ndim <= pos < ndim:
                    raise NamedTypeError(
                        f"vmap: cannot map dimension {pos} of the array of shape {tuple(x.shape)} at {where(i)} "
                        f"along {name!r}; give it a spec of None or a dimension it has"
                    )
                leaf_size = x.shape[pos]
        in_axes.append(pos)
        if pos is None:
            continue
        if size is None:
            size, first = leaf_size, i
        elif leaf_size != size:
            raise AxisSizeError(
                f"vmap: axis {name!r} has size {size} at {'the given Axis' if first is None else where(first)} "
                f"but size {leaf_size} at {where(i)}; every mapped input must have the same size along {name!r}"
            )
    if size is None:
        raise AxisNotFoundError(
            f"vmap: no input has axis {name!r}, so its size is unknown; "
            f"pass a sized axis such as hax.Axis({name!r}, n)"
        )
    return in_axes, size


def _vmap_one(
    fn: Callable[..., Any], axis: AxisSelector, default: Any, args_spec: Any, kwargs_spec: Mapping[str, Any]
) -> Callable[..., Any]:
    if not isinstance(axis, (Axis, str)):
        raise NamedTypeError(f"vmap: axis must be an Axis or a name, got {type(axis).__name__}")
    name = selector_name(axis)
    try:
        sig: inspect.Signature | None = inspect.signature(fn)
    except (TypeError, ValueError):  # some builtins have no signature
        sig = None

    @functools.wraps(fn)
    def wrapped(*a: Any, **kw: Any) -> Any:
        values, specs, bound = _arguments_and_specs(sig, a, kw, default, args_spec, kwargs_spec)
        # Key order must match between the two dicts: flatten both as lists in `values` order.
        keys = list(values)
        tree = [values[k] for k in keys]
        layout, arrays = LeafLayout.split(tree)
        spec_tree = broadcast_prefix([specs[k] for k in keys], tree, is_leaf=is_named_array)

        def where(i: int) -> str:
            path = leaf_paths(tree)[i]
            return _render_path((jax.tree_util.DictKey(keys[path[0].idx]), *path[1:]))

        in_axes, size = _mapped_dims(
            name, axis, layout, arrays, layout.treedef.flatten_up_to(spec_tree), where
        )
        inner = layout.without_axis(name)

        def body(dyn: list[Any]) -> tuple[list[Any], LeafLayout]:
            out = _call(fn, dict(zip(keys, inner.rebuild(dyn), strict=True)), bound, len(a))
            out_layout, raw_out = LeafLayout.split(out)
            return raw_out, out_layout  # the layout has no leaves: it comes back as traced

        raw, out_layout = jax.vmap(body, in_axes=(in_axes,), out_axes=0, axis_size=size)(arrays)
        for axes in out_layout.dynamic_axes:
            if axes is not None and any(ax.name == name for ax in axes):
                raise DuplicateAxisError(
                    f"vmap: an output already has axis {name!r} {format_shape(axes)}; "
                    f"rename it before vmap adds {name!r} back"
                )
        return out_layout.with_leading_axis(Axis(name, size)).rebuild(raw)

    return wrapped


def vmap(
    fn: Callable[..., Any],
    axis: AxisSelection,
    *,
    default: Any = zero_if_array_else_none,
    args: Any = (),
    kwargs: Mapping[str, Any] | None = None,
) -> Callable[..., Any]:
    """Vectorize ``fn`` over one or more named axes.

    NamedArray arguments that have the axis are mapped along it; those without it are passed
    whole to every call. Every NamedArray output gets the axis back as its leading axis (several
    axes: in the order given; no axes, ``()``: ``fn`` itself). Unnamed arrays follow ``default``, overridden per positional
    argument by ``args`` and per keyword by ``kwargs`` (pytree prefixes of the arguments whose leaves
    are an int, None or a function of the leaf). An axis no input has must be an `Axis` with a
    size.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> x = hax.named(jnp.ones((3, 2)), ("embed", "batch"))
        >>> hax.vmap(lambda row: row.sum("embed"), "batch")(x).axes
        (Axis(name='batch', size=2),)
        >>> hax.vmap(lambda: hax.named(jnp.zeros(3), "embed"), hax.Axis("layer", 4))().shape
        {'layer': 4, 'embed': 3}
    """
    kwargs = {} if kwargs is None else kwargs
    if isinstance(axis, (Axis, str)):
        return _vmap_one(fn, axis, default, args, kwargs)
    with reported_as("vmap"):
        axes = axis_spec_to_tuple(axis)
    if not axes:
        return fn  # nothing to map over: fn itself, as in Haliax
    out = fn
    for ax in reversed(axes):
        out = _vmap_one(out, ax, default, args, kwargs)
    return out
