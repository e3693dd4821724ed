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
from ..base.named_array import NamedArray, is_named_array
from ..base.pytree import broadcast_prefix
from ..base.pytypes import is_jax_array_like

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
            bound = None
        if bound is not None:
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
        full_specs = broadcast_prefix(
            [specs[k] for k in keys], [values[k] for k in keys], is_leaf=is_named_array
        )
        leaves_with_path, treedef = jax.tree_util.tree_flatten_with_path(
            [values[k] for k in keys], is_leaf=is_named_array
        )
        spec_leaves = treedef.flatten_up_to(full_specs)

        size = axis.size if isinstance(axis, Axis) else None
        first = "the given Axis" if size is not None else None
        dynamic: list[Any] = []
        in_axes: list[int | None] = []
        kinds: list[Any] = []  # per leaf: ("named", elem_axes) | ("array",) | ("static", value)
        for (path, leaf), spec in zip(leaves_with_path, spec_leaves, strict=True):
            pos: Any
            where = _render_path((jax.tree_util.DictKey(keys[path[0].idx]), *path[1:]))
            if isinstance(leaf, NamedArray):
                pos = next((i for i, ax in enumerate(leaf.axes) if ax.name == name), None)
                if pos is None:
                    kinds.append(("named", leaf.axes))
                    in_axes.append(None)
                    dynamic.append(leaf.array)
                    continue
                leaf_size = leaf.axes[pos].size
                kinds.append(("named", leaf.axes[:pos] + leaf.axes[pos + 1 :]))
            elif is_jax_array_like(leaf):
                pos = spec(leaf) if callable(spec) else spec
                if pos is None:
                    kinds.append(("array",))
                    in_axes.append(None)
                    dynamic.append(leaf)
                    continue
                ndim = len(leaf.shape)
                if not -ndim <= pos < ndim:
                    raise NamedTypeError(
                        f"vmap: cannot map dimension {pos} of the array of shape {tuple(leaf.shape)} at {where} "
                        f"along {name!r}; give it a spec of None or a dimension it has"
                    )
                leaf_size = leaf.shape[pos]
                kinds.append(("array",))
            else:
                kinds.append(("static", leaf))
                continue
            if size is None:
                size, first = leaf_size, where
            elif leaf_size != size:
                raise AxisSizeError(
                    f"vmap: axis {name!r} has size {size} at {first} but size {leaf_size} at {where}; "
                    f"every mapped input must have the same size along {name!r}"
                )
            in_axes.append(pos)
            dynamic.append(leaf.array if isinstance(leaf, NamedArray) else leaf)
        if size is None:
            raise AxisNotFoundError(
                f"vmap: no input has axis {name!r}, so its size is unknown; "
                f"pass a sized axis such as hax.Axis({name!r}, n)"
            )

        out_info: list[Any] = []

        def body(dyn: list[Any]) -> list[Any]:
            it = iter(dyn)
            leaves = []
            for kind in kinds:
                if kind[0] == "named":
                    leaves.append(NamedArray._new(next(it), kind[1]))
                elif kind[0] == "array":
                    leaves.append(next(it))
                else:
                    leaves.append(kind[1])
            rebuilt = jax.tree_util.tree_unflatten(treedef, leaves)
            out = _call(fn, dict(zip(keys, rebuilt, strict=True)), bound, len(a))
            out_leaves, out_tree = jax.tree_util.tree_flatten(out, is_leaf=is_named_array)
            meta = []
            raw_out = []
            for o in out_leaves:
                if isinstance(o, NamedArray):
                    meta.append(("named", o.axes))
                    raw_out.append(o.array)
                elif is_jax_array_like(o):
                    meta.append(("array",))
                    raw_out.append(o)
                else:
                    meta.append(("static", o))
            out_info.append((out_tree, meta))
            return raw_out

        raw = jax.vmap(body, in_axes=(in_axes,), out_axes=0, axis_size=size)(dynamic)
        out_tree, meta = out_info[-1]
        new_axis = Axis(name, size)
        it = iter(raw)
        out_leaves = []
        for m in meta:
            if m[0] == "named":
                if any(ax.name == name for ax in m[1]):
                    raise DuplicateAxisError(
                        f"vmap: an output already has axis {name!r} {format_shape(m[1])}; "
                        f"rename it before vmap adds {name!r} back"
                    )
                out_leaves.append(NamedArray._new(next(it), (new_axis, *m[1])))
            elif m[0] == "array":
                out_leaves.append(next(it))
            else:
                out_leaves.append(m[1])
        return jax.tree_util.tree_unflatten(out_tree, out_leaves)

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
