"""State updated through the gradient: `OverwriteWithGradient`, and the train-step helpers.

A module that subclasses `OverwriteWithGradient` returns, as the "gradient" of its array fields,
the *new value* of those fields (fp8 scales and amax histories are computed in the forward and
backward passes this way). A train step therefore splits the gradient tree in two with
`partition_for_grad_overwrite`, feeds only the ordinary gradients to the optimizer, and applies
both with `apply_updates`.
"""

from __future__ import annotations

from typing import Any, TypeVar

import equinox as eqx
import jax

T = TypeVar("T")


class OverwriteWithGradient(eqx.Module):
    """Marker base: the gradient of this module's array fields is new state that replaces them.

    The optimizer must never see these "gradients": `partition_for_grad_overwrite` takes them
    out, and `apply_updates` writes them into the model as they are.
    """


def _is_overwrite(x: Any) -> bool:
    return isinstance(x, OverwriteWithGradient)


def partition_for_grad_overwrite(grad: T) -> tuple[T, T]:
    """Split a gradient tree into ``(overwrites, grads)``.

    ``overwrites`` holds the leaves that belong to `OverwriteWithGradient` modules (``None``
    elsewhere); ``grads`` holds every other leaf (``None`` where ``overwrites`` has one). Both
    have the structure of ``grad``. Applied to a *model* rather than a gradient, the second half
    is the trainable part of the model, the tree to initialise an optax optimizer with.

    Examples:
        >>> import jax, haliax as hax, haliax.nn as hnn
        >>> import haliax.quantization as hq
        >>> layer = hnn.Linear.init(hax.Axis("in", 2), hax.Axis("out", 3), key=jax.random.PRNGKey(0))
        >>> layer = hq.quantize_linear_layers(layer, hq.QuantizationConfig(fp8=True, amax_history_length=4))
        >>> overwrites, params = hq.partition_for_grad_overwrite(layer)
        >>> params.dot_general.input_scale is None, overwrites.weight.array is None
        (True, True)
    """

    def spec(x: Any) -> Any:
        return jax.tree_util.tree_map(lambda _: True, x) if _is_overwrite(x) else False

    filter_spec = jax.tree_util.tree_map(spec, grad, is_leaf=_is_overwrite)
    return eqx.partition(grad, filter_spec)


def apply_updates(tree: T, updates: Any, overwrites: Any) -> T:
    """Apply updates to a model, replacing leaves with overwrites where given.

    ``updates`` are added to the leaves of ``tree`` (``None`` leaves are skipped, as in
    ``eqx.apply_updates``); leaves where ``overwrites`` is not ``None`` are replaced by the
    overwrite, cast to the leaf's dtype.
    """

    def one(leaf: Any, update: Any, overwrite: Any) -> Any:
        if overwrite is not None:
            return overwrite.astype(leaf.dtype) if hasattr(leaf, "dtype") else overwrite
        if update is None:
            return leaf
        return leaf + update

    def none_leaf(x: Any) -> bool:
        return x is None

    # Align the three trees on ``tree``'s leaves; a None in updates/overwrites is a leaf of theirs.
    leaves, treedef = jax.tree_util.tree_flatten(tree, is_leaf=none_leaf)
    up = treedef.flatten_up_to(updates) if updates is not None else [None] * len(leaves)
    ov = treedef.flatten_up_to(overwrites) if overwrites is not None else [None] * len(leaves)
    return treedef.unflatten(
        [one(leaf, u, o) if leaf is not None else leaf for leaf, u, o in zip(leaves, up, ov, strict=True)]
    )
