"""fp8 matmuls with delayed scaling: `Fp8DotGeneralOp`.

Forward operands are quantized to ``float8_e4m3fn`` and the incoming gradient to
``float8_e5m2``; every GEMM (the forward one and both backward ones) is a ``jax.lax.dot_general``
on fp8 operands with a wider ``preferred_element_type``, which XLA lowers to cuBLASLt fp8 GEMMs
on Hopper GPUs.

Delayed scaling: each operand has a scale and a history of its recent absolute maxima (amax).
A step quantizes with the scale it was handed (computed from *earlier* steps), records the
current amax in the history, and derives the next scale from the history's maximum. The new
scales and histories leave the step as the "gradients" of the state fields
(`OverwriteWithGradient`), and `apply_updates` writes them into the model.
"""

from __future__ import annotations

import functools
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp

from haliax._src.axis import Axis
from haliax._src.named_array import NamedArray

from .overwrite import OverwriteWithGradient

E4M3 = jnp.float8_e4m3fn
E5M2 = jnp.float8_e5m2
AMAX_AXIS = "amax_history"
"""Name of the history axis of the amax-history state arrays."""


def _fmax(dtype: Any) -> float:
    return float(jnp.finfo(dtype).max)


def quantize(x: jax.Array, scale: jax.Array, dtype: Any) -> jax.Array:
    """``clip(x / scale)`` cast to the fp8 ``dtype``; ``x ≈ quantize(x) * scale``."""
    fmax = _fmax(dtype)
    y = x.astype(jnp.float32) / scale.astype(jnp.float32)
    return jnp.clip(y, -fmax, fmax).astype(dtype)


def next_scale(x: jax.Array, scale: jax.Array, history: jax.Array, dtype: Any) -> tuple[jax.Array, jax.Array]:
    """Roll ``amax(|x|)`` into ``history`` and derive the scale that maps its maximum to ``dtype``'s max.

    A history of zeros (or a non-finite maximum) keeps the old scale.
    """
    amax = jnp.max(jnp.abs(x)).astype(history.dtype)
    new_history = jnp.roll(history, 1).at[0].set(amax)
    top = jnp.max(new_history)
    ok = jnp.isfinite(top) & (top > 0)
    new_scale = jnp.where(ok, top / _fmax(dtype), scale).astype(scale.dtype)
    return new_scale, new_history


# ----- dimension bookkeeping for the backward GEMMs -----
def _free(ndim: int, contract: tuple[int, ...], batch: tuple[int, ...]) -> list[int]:
    return [d for d in range(ndim) if d not in contract and d not in batch]


@functools.lru_cache(maxsize=1024)
def _transpose_plan(
    dims: Any, lhs_ndim: int, rhs_ndim: int
) -> tuple[Any, tuple[int, ...], Any, tuple[int, ...]]:
    """Dimension numbers and permutations for ``d lhs = g · rhs`` and ``d rhs = g · lhs``."""
    (lc, rc), (lb, rb) = dims
    lc, rc, lb, rb = tuple(lc), tuple(rc), tuple(lb), tuple(rb)
    nb = len(lb)
    lf, rf = _free(lhs_ndim, lc, lb), _free(rhs_ndim, rc, rb)
    g_lf = tuple(range(nb, nb + len(lf)))
    g_rf = tuple(range(nb + len(lf), nb + len(lf) + len(rf)))
    g_b = tuple(range(nb))
    # d lhs: contract g's rhs-free dims with rhs's free dims; result (batch, lhs free, rhs contracting sorted)
    dl_dims = ((g_rf, tuple(rf)), (g_b, rb))
    rc_sorted = sorted(rc)
    pos_l = []
    for d in range(lhs_ndim):
        if d in lb:
            pos_l.append(lb.index(d))
        elif d in lf:
            pos_l.append(nb + lf.index(d))
        else:
            pos_l.append(nb + len(lf) + rc_sorted.index(rc[lc.index(d)]))
    # d rhs: contract g's lhs-free dims with lhs's free dims; result (batch, rhs free, lhs contracting sorted)
    dr_dims = ((g_lf, tuple(lf)), (g_b, lb))
    lc_sorted = sorted(lc)
    pos_r = []
    for d in range(rhs_ndim):
        if d in rb:
            pos_r.append(rb.index(d))
        elif d in rf:
            pos_r.append(nb + rf.index(d))
        else:
            pos_r.append(nb + len(rf) + lc_sorted.index(lc[rc.index(d)]))
    return dl_dims, tuple(pos_l), dr_dims, tuple(pos_r)


def _hashable_dims(dims: Any) -> Any:
    (lc, rc), (lb, rb) = dims
    return ((tuple(lc), tuple(rc)), (tuple(lb), tuple(rb)))


# ----- the custom-vjp GEMM -----
@functools.partial(jax.custom_vjp, nondiff_argnums=(8, 9))
def fp8_dot_general(
    lhs: jax.Array,
    rhs: jax.Array,
    lhs_scale: jax.Array,
    rhs_scale: jax.Array,
    grad_scale: jax.Array,
    lhs_history: jax.Array,
    rhs_history: jax.Array,
    grad_history: jax.Array,
    dims: Any,
    out_dtype: Any,
) -> jax.Array:
    """``dot_general`` on e4m3-quantized operands; under ``grad``, new scales come back as gradients."""
    lq, rq = quantize(lhs, lhs_scale, E4M3), quantize(rhs, rhs_scale, E4M3)
    raw = jax.lax.dot_general(lq, rq, dims, preferred_element_type=out_dtype)
    return raw * (lhs_scale * rhs_scale).astype(out_dtype)


def _fwd(lhs, rhs, lhs_scale, rhs_scale, grad_scale, lhs_history, rhs_history, grad_history, dims, out_dtype):  # type: ignore[no-untyped-def]  # custom_vjp rule
    lq, rq = quantize(lhs, lhs_scale, E4M3), quantize(rhs, rhs_scale, E4M3)
    raw = jax.lax.dot_general(lq, rq, dims, preferred_element_type=out_dtype)
    out = raw * (lhs_scale * rhs_scale).astype(out_dtype)
    new_l = next_scale(lhs, lhs_scale, lhs_history, E4M3)
    new_r = next_scale(rhs, rhs_scale, rhs_history, E4M3)
    tags = (jnp.zeros((), lhs.dtype), jnp.zeros((), rhs.dtype))
    return out, (lq, rq, lhs_scale, rhs_scale, grad_scale, grad_history, new_l, new_r, tags)


def _bwd(dims, out_dtype, res, g):  # type: ignore[no-untyped-def]  # custom_vjp rule
    lq, rq, lhs_scale, rhs_scale, grad_scale, grad_history, new_l, new_r, tags = res
    new_g = next_scale(g, grad_scale, grad_history, E5M2)
    gq = quantize(g, grad_scale, E5M2)
    dl_dims, perm_l, dr_dims, perm_r = _transpose_plan(_hashable_dims(dims), lq.ndim, rq.ndim)
    acc = jnp.float32
    dl = jax.lax.dot_general(gq, rq, dl_dims, preferred_element_type=acc)
    dl = jnp.transpose(dl, perm_l) if perm_l != tuple(range(lq.ndim)) else dl
    dr = jax.lax.dot_general(gq, lq, dr_dims, preferred_element_type=acc)
    dr = jnp.transpose(dr, perm_r) if perm_r != tuple(range(rq.ndim)) else dr
    dl = (dl * (grad_scale * rhs_scale)).astype(tags[0].dtype)
    dr = (dr * (grad_scale * lhs_scale)).astype(tags[1].dtype)
    return dl, dr, new_l[0], new_r[0], new_g[0], new_l[1], new_r[1], new_g[1]


fp8_dot_general.defvjp(_fwd, _bwd)


class Fp8DotGeneralOp(OverwriteWithGradient):
    """FP8 dot_general with delayed scaling; scales and amax histories are updated through the gradient.

    Forward operands are quantized to e4m3 and gradients to e5m2. The state arrays may carry
    leading axes (the ``Block`` axis of a `haliax.nn.Stacked`), so a stack's scan hands each
    layer its own slice. Use with `apply_updates` / `partition_for_grad_overwrite` in the train
    step; without a gradient (inference) the scales stay as they are.

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> from haliax.quantization import Fp8DotGeneralOp
        >>> op = Fp8DotGeneralOp.init(amax_history_length=16)
        >>> op(jnp.ones((2, 4)), jnp.ones((4, 3)), (((1,), (0,)), ((), ()))).shape
        (2, 3)
    """

    input_scale: NamedArray
    kernel_scale: NamedArray
    output_grad_scale: NamedArray
    input_amax_history: NamedArray
    kernel_amax_history: NamedArray
    output_grad_amax_history: NamedArray
    compute_dtype: Any = eqx.field(static=True, default=None)

    @staticmethod
    def init(
        amax_history_length: int = 1024,
        compute_dtype: Any = None,
        *,
        leading_axes: tuple[Axis, ...] = (),
    ) -> Fp8DotGeneralOp:
        """Unit scales and zero histories of ``amax_history_length`` entries.

        Args:
            amax_history_length: how many steps of amax each scale looks back over.
            compute_dtype: the GEMM's output dtype (default: the operands' result dtype).
            leading_axes: axes put in front of every state array (a stack's ``Block`` axis).
        """
        if amax_history_length < 1:
            raise ValueError(
                f"Fp8DotGeneralOp.init: amax_history_length must be at least 1, got {amax_history_length}"
            )
        lead = tuple(leading_axes)
        lead_shape = tuple(ax.size for ax in lead)
        hist_axes = (*lead, Axis(AMAX_AXIS, amax_history_length))

        def scale() -> NamedArray:
            return NamedArray._new(jnp.ones(lead_shape, jnp.float32), lead)

        def history() -> NamedArray:
            return NamedArray._new(jnp.zeros((*lead_shape, amax_history_length), jnp.float32), hist_axes)

        return Fp8DotGeneralOp(scale(), scale(), scale(), history(), history(), history(), compute_dtype)

    def __call__(
        self,
        lhs: Any,
        rhs: Any,
        dimension_numbers: Any,
        precision: Any = None,
        preferred_element_type: Any = None,
    ) -> Any:
        """``jax.lax.dot_general`` on fp8-quantized operands (``precision`` does not apply to fp8)."""
        if self.input_scale.array.ndim != 0:
            raise ValueError(
                f"Fp8DotGeneralOp: the state has leading axes {tuple(ax.name for ax in self.input_scale.axes)}; "
                f"call the layer through its Stacked (scan/fold/vmap), which slices them per layer"
            )
        out_dtype = preferred_element_type or self.compute_dtype or jnp.result_type(lhs, rhs)
        return fp8_dot_general(
            lhs,
            rhs,
            self.input_scale.array,
            self.kernel_scale.array,
            self.output_grad_scale.array,
            self.input_amax_history.array,
            self.kernel_amax_history.array,
            self.output_grad_amax_history.array,
            _hashable_dims(dimension_numbers),
            jnp.dtype(out_dtype),
        )
