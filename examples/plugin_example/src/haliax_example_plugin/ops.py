"""A named op provided through the ``haliax.ops`` entry-point group."""

from __future__ import annotations

import jax.numpy as jnp

import haliax as hax


def squared_relu_norm(x: hax.NamedArray, axis: hax.AxisSelection, *, eps: float = 1e-6) -> hax.NamedArray:
    """Squared ReLU, normalised to unit mean along ``axis``: ``relu(x)**2 / (mean(relu(x)**2, axis) + eps)``.

    Example:
        >>> import haliax as hax, jax.numpy as jnp
        >>> op = hax.get_op("squared_relu_norm")
        >>> x = hax.named(jnp.array([[-1.0, 1.0], [2.0, 2.0]]), ("batch", "embed"))
        >>> jnp.round(op(x, "embed").array, 3).tolist()
        [[0.0, 2.0], [1.0, 1.0]]
    """
    sq = hax.square(hax.maximum(x, jnp.zeros((), x.dtype)))
    return sq / (hax.mean(sq, axis) + eps)
