"""int8 matmuls for quantized training: `Int8DotGeneralOp`.

Symmetric quantization (per channel by default, per tensor on request), an int8 x int8 GEMM
accumulated in int32 (``preferred_element_type=jnp.int32``), and straight-through gradients:
the backward pass is that of the full-precision ``dot_general``.
"""

from __future__ import annotations

import functools
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jax.typing import DTypeLike

from .fp8 import _hashable_dims

INT8_MAX = 127.0


def _quantize(x: jax.Array, reduce_dims: tuple[int, ...]) -> tuple[jax.Array, jax.Array]:
    """Symmetric int8 quantization; the scale is the amax over ``reduce_dims`` (kept as size 1) / 127."""
    amax = jnp.max(jnp.abs(x.astype(jnp.float32)), axis=reduce_dims, keepdims=True)
    scale = jnp.where(amax > 0, amax / INT8_MAX, 1.0)
    q = jnp.clip(jnp.round(x.astype(jnp.float32) / scale), -INT8_MAX, INT8_MAX).astype(jnp.int8)
    return q, scale


def _scale_in_output(
    scale: jax.Array, contract: tuple[int, ...], batch: tuple[int, ...], lhs_side: bool, n_other_free: int
) -> jax.Array:
    """Lay a keepdims scale out like the dot_general output: (batch, lhs free, rhs free)."""
    ndim = scale.ndim
    free = [d for d in range(ndim) if d not in contract and d not in batch]
    s = jnp.transpose(scale, (*batch, *free, *contract)).reshape(
        tuple(scale.shape[d] for d in (*batch, *free))
    )
    ones = (1,) * n_other_free
    nb = len(batch)
    if lhs_side:
        return s.reshape(*s.shape, *ones)
    return s.reshape(*s.shape[:nb], *ones, *s.shape[nb:])


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3, 4))
def int8_dot_general(
    lhs: jax.Array, rhs: jax.Array, dims: Any, per_channel: bool, out_dtype: Any
) -> jax.Array:
    """int8 GEMM with int32 accumulation, rescaled to ``out_dtype``; straight-through gradients."""
    (lc, rc), (lb, rb) = dims
    if per_channel:
        lq, ls = _quantize(lhs, tuple(lc))
        rq, rs = _quantize(rhs, tuple(rc))
    else:
        lq, ls = _quantize(lhs, tuple(range(lhs.ndim)))
        rq, rs = _quantize(rhs, tuple(range(rhs.ndim)))
    acc = jax.lax.dot_general(lq, rq, dims, preferred_element_type=jnp.int32)
    if per_channel:
        n_lf = lhs.ndim - len(lc) - len(lb)
        n_rf = rhs.ndim - len(rc) - len(rb)
        scale = _scale_in_output(ls, tuple(lc), tuple(lb), True, n_rf) * _scale_in_output(
            rs, tuple(rc), tuple(rb), False, n_lf
        )
    else:
        scale = (ls * rs).reshape(())
    return (acc.astype(jnp.float32) * scale).astype(out_dtype)


def _fwd(lhs, rhs, dims, per_channel, out_dtype):  # type: ignore[no-untyped-def]  # custom_vjp rule
    return int8_dot_general(lhs, rhs, dims, per_channel, out_dtype), (lhs, rhs)


def _bwd(dims, per_channel, out_dtype, res, g):  # type: ignore[no-untyped-def]  # custom_vjp rule
    lhs, rhs = res
    _, vjp = jax.vjp(lambda a, b: jax.lax.dot_general(a, b, dims, preferred_element_type=out_dtype), lhs, rhs)
    return vjp(g)


int8_dot_general.defvjp(_fwd, _bwd)


class Int8DotGeneralOp(eqx.Module):
    """INT8 dot_general: symmetric int8 operands, int32 accumulation, straight-through gradients.

    Written with JAX alone (no quantization library). ``per_channel=True`` gives each output
    channel (each non-contracted index of an operand) its own scale; ``False`` one scale per
    operand. The op has no state to carry between steps.

    Examples:
        >>> import jax.numpy as jnp
        >>> from haliax.quantization import Int8DotGeneralOp
        >>> op = Int8DotGeneralOp.init()
        >>> op(jnp.ones((2, 4)), jnp.ones((4, 3)), (((1,), (0,)), ((), ())))
        Array([[4., 4., 4.],
               [4., 4., 4.]], dtype=float32)
    """

    per_channel: bool = eqx.field(static=True, default=True)
    compute_dtype: DTypeLike | None = eqx.field(static=True, default=None)

    @staticmethod
    def init(per_channel: bool = True, compute_dtype: DTypeLike | None = None) -> Int8DotGeneralOp:
        """A new op: per-channel (default) or per-tensor scales; output dtype ``compute_dtype``."""
        return Int8DotGeneralOp(per_channel, compute_dtype)

    def __call__(
        self,
        lhs: Any,
        rhs: Any,
        dimension_numbers: Any,
        precision: Any = None,
        preferred_element_type: DTypeLike | None = None,
    ) -> Any:
        """``jax.lax.dot_general`` through int8 (``precision`` does not apply to integer GEMMs)."""
        out_dtype = preferred_element_type or self.compute_dtype or jnp.result_type(lhs, rhs)
        return int8_dot_general(
            lhs, rhs, _hashable_dims(dimension_numbers), self.per_channel, jnp.dtype(out_dtype)
        )
