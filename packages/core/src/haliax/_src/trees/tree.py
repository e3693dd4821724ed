"""Pytree helpers that treat each NamedArray as one leaf, and tree-wide axis surgery.

`jax.tree_util` sees a NamedArray as a node whose only child is its raw array, so a plain
``jax.tree.map`` hands functions raw arrays and loses the names. The functions here stop at
NamedArrays instead.

The stacked-module protocol
---------------------------
`scan_aware_tree_map` descends into stacks of layers (``haliax.nn.Stacked``) one layer at a time.
Core cannot import haliax.nn, so it recognises a stack by shape, not by class: any object with

* ``Block``: an [haliax.Axis][] (the layer axis), and
* ``stacked``: a pytree whose arrays carry ``Block`` (NamedArrays have the axis; unnamed arrays
  have it as their first dimension),

is a stack. The function is applied to each layer through [haliax.vmap][] over ``Block``, and the
result is put back with `equinox.tree_at` on the ``stacked`` attribute. An object that has these
attributes but is not a stack can opt out with a class attribute ``__haliax_stacked__ = False``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp

from ..base.axis import Axis, AxisSelector, selector_name
from ..base.named_array import NamedArray, is_named_array
from ..ops.random import truncated_normal
from ..transforms.vmap import vmap


def _with_named(is_leaf: Callable[[Any], bool] | None) -> Callable[[Any], bool]:
    if is_leaf is None:
        return is_named_array
    return lambda x: isinstance(x, NamedArray) or is_leaf(x)


def tree_map(
    fn: Callable[..., Any], tree: Any, *rest: Any, is_leaf: Callable[[Any], bool] | None = None
) -> Any:
    """`jax.tree_util.tree_map` that hands ``fn`` whole NamedArrays.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> tree = {"w": hax.named(jnp.ones(3), "embed"), "b": jnp.zeros(2)}
        >>> hax.tree.map(lambda x: type(x).__name__, tree)
        {'b': 'ArrayImpl', 'w': 'NamedArray'}
    """
    return jax.tree_util.tree_map(fn, tree, *rest, is_leaf=_with_named(is_leaf))


def tree_leaves(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> list[Any]:
    """The leaves of a pytree, with each NamedArray one leaf."""
    return jax.tree_util.tree_leaves(tree, is_leaf=_with_named(is_leaf))


def tree_flatten(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> tuple[list[Any], Any]:
    """``(leaves, treedef)`` of a pytree, with each NamedArray one leaf."""
    return jax.tree_util.tree_flatten(tree, is_leaf=_with_named(is_leaf))


def tree_structure(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> Any:
    """The treedef of a pytree, with each NamedArray one leaf."""
    return jax.tree_util.tree_structure(tree, is_leaf=_with_named(is_leaf))


def tree_unflatten(treedef: Any, leaves: Any) -> Any:
    """Rebuild a pytree from a treedef (of `tree_flatten`/`tree_structure`) and its leaves."""
    return jax.tree_util.tree_unflatten(treedef, leaves)


def is_stacked(x: Any) -> bool:
    """True for objects that follow the stacked-module protocol (see the module docstring)."""
    if getattr(type(x), "__haliax_stacked__", True) is False:
        return False
    return isinstance(getattr(x, "Block", None), Axis) and hasattr(x, "stacked")


def scan_aware_tree_map(
    fn: Callable[..., Any], tree: Any, *rest: Any, is_leaf: Callable[[Any], bool] | None = None
) -> Any:
    """`tree_map` that applies ``fn`` to each layer of a stacked module separately.

    Inside a stack (``haliax.nn.Stacked``), ``fn`` sees one layer's arrays, without the layer
    axis; the results are stacked back. Elsewhere it behaves as [haliax.tree.map][].
    """

    def descend(x: Any, *others: Any) -> Any:
        if is_stacked(x):

            def per_layer(layer: Any, *other_layers: Any) -> Any:
                return scan_aware_tree_map(fn, layer, *other_layers, is_leaf=is_leaf)

            new = vmap(per_layer, x.Block)(x.stacked, *[o.stacked for o in others])
            return eqx.tree_at(lambda s: s.stacked, x, new)
        return fn(x, *others)

    def stop(x: Any) -> bool:
        return is_stacked(x) or (is_leaf is not None and is_leaf(x))

    return tree_map(descend, tree, *rest, is_leaf=stop)


def _resize_leaf(x: Any, name: str, new_size: int, key: Any) -> Any:
    if not isinstance(x, NamedArray):
        return x
    pos = next((i for i, ax in enumerate(x.axes) if ax.name == name), None)
    if pos is None:
        return x
    old = x.axes[pos].size
    new_axes = (*x.axes[:pos], Axis(name, new_size), *x.axes[pos + 1 :])
    if new_size == old:
        return x
    if new_size < old:
        return NamedArray._new(jax.lax.slice_in_dim(x.array, 0, new_size, axis=pos), new_axes)
    pad_axes = (*x.axes[:pos], Axis(name, new_size - old), *x.axes[pos + 1 :])
    pad_shape = tuple(ax.size for ax in pad_axes)
    mean = jnp.mean(x.array, axis=pos, keepdims=True)
    if key is None:
        pad = jnp.broadcast_to(mean, pad_shape)
    else:
        std = jnp.std(x.array, axis=pos, keepdims=True)
        noise = truncated_normal(key, pad_axes, -2.0, 2.0, dtype=x.dtype).array
        pad = noise * std + mean
    return NamedArray._new(jnp.concatenate([x.array, pad.astype(x.dtype)], axis=pos), new_axes)


def resize_axis(tree: Any, old_axis: AxisSelector, new_size: int, key: Any = None) -> Any:
    """Resize one axis in every NamedArray of a pytree that has it.

    Shrinking keeps the first ``new_size`` entries. Growing appends entries that match each
    slice's mean and standard deviation along the axis (truncated-normal samples when ``key`` is
    given) or equal its mean (without a key). Arrays without the axis are unchanged.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> x = hax.named(jnp.array([[1.0, 3.0]]), ("batch", "vocab"))
        >>> hax.tree_util.resize_axis(x, "vocab", 3).array.tolist()
        [[1.0, 3.0, 2.0]]
    """
    name = selector_name(old_axis)
    leaves, treedef = tree_flatten(tree)
    keys = [None] * len(leaves) if key is None else list(jax.random.split(key, max(len(leaves), 1)))
    return tree_unflatten(
        treedef, [_resize_leaf(x, name, new_size, k) for x, k in zip(leaves, keys, strict=False)]
    )


def hashable_partition(tree: Any, filter_spec: Any) -> tuple[Any, tuple[tuple[Any, ...], Any]]:
    """`equinox.partition` whose static half is hashable: ``(dynamic, (static_leaves, treedef))``.

    The static half can then be a `jax.jit` static argument or a cache key.
    """
    dynamic, static = eqx.partition(tree, filter_spec)
    static_leaves, static_treedef = jax.tree_util.tree_flatten(static)
    return dynamic, (tuple(static_leaves), static_treedef)


def hashable_combine(dynamic: Any, static: tuple[tuple[Any, ...], Any]) -> Any:
    """Inverse of [haliax.tree_util.hashable_partition][]."""
    static_leaves, static_treedef = static
    return eqx.combine(dynamic, jax.tree_util.tree_unflatten(static_treedef, static_leaves))
