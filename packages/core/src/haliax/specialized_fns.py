"""Ops with no single jax.numpy counterpart: `top_k`."""

from ._src.ops.select import top_k as top_k
