"""Pytree plumbing for any Python objects: merging partitions, static carriers, prefix trees, eval_shape."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax


def combine(*pytrees: Any, is_leaf: Callable[[Any], bool] | None = None) -> Any:
    """Merge pytrees of one structure, taking each leaf from the first tree where it is not None.

    The inverse of `equinox.partition`; same as `equinox.combine`.

    Examples:
        >>> from haliax.jax_utils import combine
        >>> combine({"a": None, "b": 2}, {"a": 1, "b": None})
        {'a': 1, 'b': 2}
    """
    return eqx.combine(*pytrees, is_leaf=is_leaf)


class Static(eqx.Module):
    """A module that carries one static (non-array, hashable) value through jax transforms.

    Examples:
        >>> from haliax.jax_utils import Static
        >>> import jax
        >>> jax.tree_util.tree_leaves(Static("relu"))
        []
    """

    value: Any = eqx.field(static=True)


def filter_eval_shape(fun: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """`jax.eval_shape` that accepts any Python objects: arrays become ``ShapeDtypeStruct`` leaves.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> from haliax.jax_utils import filter_eval_shape
        >>> out = filter_eval_shape(lambda x, n: x * n, hax.named(jnp.ones(3), "a"), 2)
        >>> out.axes, out.array.shape
        ((Axis(name='a', size=3),), (3,))
    """
    return eqx.filter_eval_shape(fun, *args, **kwargs)


def broadcast_prefix(prefix_tree: Any, full_tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> Any:
    """Expand the prefix pytree ``prefix_tree`` to the structure of ``full_tree``: each of its leaves is copied to every leaf below it.

    ``None`` in ``prefix_tree`` is a leaf (it means "this whole subtree gets None").

    Examples:
        >>> from haliax.jax_utils import broadcast_prefix
        >>> broadcast_prefix((0, None), ([1, 2], {"a": 3}))
        ([0, 0], {'a': None})
    """

    def expand(p: Any, sub: Any) -> Any:
        return jax.tree_util.tree_map(lambda _: p, sub, is_leaf=is_leaf)

    return jax.tree_util.tree_map(expand, prefix_tree, full_tree, is_leaf=lambda x: x is None)
