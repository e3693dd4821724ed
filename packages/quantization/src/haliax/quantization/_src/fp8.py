"""fp8 matmuls with delayed scaling: `Fp8DotGeneralOp`, and the scaling helpers it is built from.

Forward operands are quantized to ``float8_e4m3fn`` and the incoming gradient to
``float8_e5m2``; every GEMM (the forward one and both backward ones) is a ``jax.lax.dot_general``
on fp8 operands with a wider ``preferred_element_type``, which XLA lowers to cuBLASLt fp8 GEMMs
on Hopper GPUs.

Delayed scaling, as Haliax (and Flax) do it: each operand has a scale and a history of its
recent absolute maxima (amax). A step first derives the scale it uses from the history it was
handed (steps before this one; `compute_scale`), quantizes with it, and records the current
amax in the history (`compute_amax_history`). The scale it used and the new history leave the
step as the "gradients" of the state fields (`OverwriteWithGradient`), and `apply_updates`
writes them into the model. The helpers keep Haliax's names and signatures (``haliax._src.fp8``
resolves to this module).
"""

from __future__ import annotations

import functools
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jax.typing import DTypeLike

from haliax.axis import Axis
from haliax.errors import NamedTypeError, QuantizationError

from .overwrite import OverwriteWithGradient

E4M3 = jnp.float8_e4m3fn
E5M2 = jnp.float8_e5m2


def get_fp8_max(fp8_dtype: DTypeLike, out_dtype: DTypeLike) -> jax.Array:
    """The largest finite value of ``fp8_dtype`` (e4m3fn or e5m2), as a 0-d array of ``out_dtype``."""
    if jnp.dtype(fp8_dtype) not in (jnp.dtype(E4M3), jnp.dtype(E5M2)):
        raise NamedTypeError(
            f"get_fp8_max: expected float8_e4m3fn or float8_e5m2, got {jnp.dtype(fp8_dtype).name}"
        )
    return jnp.asarray(float(jnp.finfo(fp8_dtype).max), out_dtype)


def quantize(x: jax.Array, q_dtype: DTypeLike, scale: jax.Array, compute_dtype: DTypeLike) -> jax.Array:
    """``x / scale`` in ``compute_dtype``, clipped to ``q_dtype``'s range and cast to it."""
    top = get_fp8_max(q_dtype, compute_dtype)
    y = x.astype(compute_dtype) / jnp.broadcast_to(scale.astype(compute_dtype), x.shape)
    return jnp.clip(y, -top, top).astype(q_dtype)


def dequantize(x: jax.Array, dq_dtype: DTypeLike, scale: jax.Array) -> jax.Array:
    """``x * scale`` in ``dq_dtype`` (the inverse of `quantize` up to rounding)."""
    return x.astype(dq_dtype) * jnp.broadcast_to(scale.astype(dq_dtype), x.shape)


def quantize_dequantize(
    x: jax.Array, q_dtype: DTypeLike, scale: jax.Array, compute_dtype: DTypeLike
) -> jax.Array:
    """``x`` rounded through ``q_dtype`` and back to its own dtype."""
    return dequantize(quantize(x, q_dtype, scale, compute_dtype), x.dtype, scale)


def compute_scale(amax: jax.Array, scale: jax.Array, fp8_max: Any, margin: int = 0) -> jax.Array:
    """The scale that maps ``amax`` to ``fp8_max / 2**margin``; ``scale`` is kept where ``amax`` is 0 or not finite."""
    factor = (fp8_max / amax) / (2.0**margin)
    ok = (amax > 0.0) & jnp.isfinite(amax)
    return 1.0 / jnp.where(ok, factor, 1.0 / scale)


def compute_amax_history(x: jax.Array, amax_history: jax.Array) -> jax.Array:
    """``amax_history`` rolled back one place, with ``max(|x|)`` written at the front.

    (As Flax and Haliax: entry 0 is the newest amax; the entry it replaces moves to the end.)
    """
    amax = jnp.max(jnp.abs(x)).astype(amax_history.dtype)
    return jnp.roll(amax_history, shift=-1, axis=0).at[0].set(amax)


def _step(
    x: jax.Array, scale: jax.Array, history: jax.Array, dtype: Any
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """One delayed-scaling step: (``x`` quantized, the scale used, the new history)."""
    new_scale = compute_scale(jnp.max(history, axis=0), scale, get_fp8_max(dtype, jnp.float32)).astype(
        scale.dtype
    )
    q = quantize(x, dtype, new_scale, jnp.float32)
    return q, new_scale, compute_amax_history(x, history)


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
def _scalar(scale: jax.Array) -> jax.Array:
    return scale.reshape(())


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
    out_dtype: DTypeLike,
) -> jax.Array:
    """``dot_general`` on e4m3-quantized operands; under ``grad``, the new state comes back as gradients."""
    return _fwd(
        lhs, rhs, lhs_scale, rhs_scale, grad_scale, lhs_history, rhs_history, grad_history, dims, out_dtype
    )[0]


def _fwd(lhs, rhs, lhs_scale, rhs_scale, grad_scale, lhs_history, rhs_history, grad_history, dims, out_dtype):  # type: ignore[no-untyped-def]  # custom_vjp rule
    lq, ls, lh = _step(lhs, lhs_scale, lhs_history, E4M3)
    rq, rs, rh = _step(rhs, rhs_scale, rhs_history, E4M3)
    raw = jax.lax.dot_general(lq, rq, dims, preferred_element_type=out_dtype)
    out = raw * _scalar(ls * rs).astype(out_dtype)
    # The small state travels to the backward pass as two packed arrays, not six: under a scan over
    # layers each residual is stacked by its own kernel, so this saves four launches per GEMM.
    scales = jnp.concatenate([ls, rs, grad_scale.astype(ls.dtype)])
    histories = jnp.stack([lh, rh, grad_history.astype(lh.dtype)])
    tags = (jnp.zeros((), lhs.dtype), jnp.zeros((), rhs.dtype))
    return out, (lq, rq, scales, histories, tags)


def _bwd(dims, out_dtype, res, g):  # type: ignore[no-untyped-def]  # custom_vjp rule
    lq, rq, scales, histories, tags = res
    ls, rs, grad_scale = scales[0:1], scales[1:2], scales[2:3]
    lh, rh, grad_history = histories[0], histories[1], histories[2]
    gq, gs, gh = _step(g, grad_scale, grad_history, E5M2)
    dl_dims, perm_l, dr_dims, perm_r = _transpose_plan(_hashable_dims(dims), lq.ndim, rq.ndim)
    acc = jnp.float32
    dl = jax.lax.dot_general(gq, rq, dl_dims, preferred_element_type=acc)
    dl = jnp.transpose(dl, perm_l) if perm_l != tuple(range(lq.ndim)) else dl
    dr = jax.lax.dot_general(gq, lq, dr_dims, preferred_element_type=acc)
    dr = jnp.transpose(dr, perm_r) if perm_r != tuple(range(rq.ndim)) else dr
    dl = (dl * _scalar(gs * rs)).astype(tags[0].dtype)
    dr = (dr * _scalar(gs * ls)).astype(tags[1].dtype)
    return dl, dr, ls, rs, gs, lh, rh, gh


fp8_dot_general.defvjp(_fwd, _bwd)


class Fp8DotGeneralOp(OverwriteWithGradient):
    """FP8 dot_general with delayed scaling; scales and amax histories are updated through the gradient.

    Forward operands are quantized to e4m3 and gradients to e5m2. The state is plain arrays, as
    in Haliax: each scale has shape ``(1,)`` and each history ``(amax_history_length,)``. Inside
    a `haliax.nn.Stacked` they carry a leading layer dimension (``(layers, 1)``), which the stack's
    scan slices per layer. Use with `apply_updates` / `partition_for_grad_overwrite` in the train
    step; without a gradient (inference) the state stays as it is.

    Examples:
        >>> import jax, jax.numpy as jnp
        >>> from haliax.quantization import Fp8DotGeneralOp
        >>> op = Fp8DotGeneralOp.init(amax_history_length=16)
        >>> op.input_scale.shape, op.input_amax_history.shape
        ((1,), (16,))
        >>> op(jnp.ones((2, 4)), jnp.ones((4, 3)), (((1,), (0,)), ((), ()))).shape
        (2, 3)
    """

    input_scale: jax.Array
    output_grad_scale: jax.Array
    kernel_scale: jax.Array
    input_amax_history: jax.Array
    output_grad_amax_history: jax.Array
    kernel_amax_history: jax.Array
    compute_dtype: DTypeLike | None = eqx.field(static=True, default=None)

    @staticmethod
    def init(
        amax_history_length: int = 1024,
        compute_dtype: DTypeLike | None = None,
        *,
        leading_axes: tuple[Axis, ...] = (),
    ) -> Fp8DotGeneralOp:
        """Unit scales and zero histories of ``amax_history_length`` entries.

        Args:
            amax_history_length: how many steps of amax each scale looks back over.
            compute_dtype: the GEMM's output dtype (default: the operands' result dtype).
            leading_axes: dimensions put in front of every state array (a stack's ``Block``
                axis), as vmapping this constructor over them would.
        """
        if amax_history_length < 1:
            raise QuantizationError(
                f"Fp8DotGeneralOp.init: amax_history_length must be at least 1, got {amax_history_length}"
            )
        lead = tuple(ax.size for ax in leading_axes)

        def scale() -> jax.Array:
            return jnp.ones((*lead, 1), jnp.float32)

        def history() -> jax.Array:
            return jnp.zeros((*lead, amax_history_length), jnp.float32)

        return Fp8DotGeneralOp(scale(), scale(), scale(), history(), history(), history(), compute_dtype)

    def __call__(
        self,
        lhs: Any,
        rhs: Any,
        dimension_numbers: Any,
        precision: Any = None,
        preferred_element_type: DTypeLike | None = None,
    ) -> Any:
        """``jax.lax.dot_general`` on fp8-quantized operands (``precision`` does not apply to fp8)."""
        if jnp.shape(self.input_scale) != (1,):
            raise QuantizationError(
                f"Fp8DotGeneralOp: the fp8 state has leading dimensions (scale shape {tuple(jnp.shape(self.input_scale))}, "
                f"expected (1,)); call the layer through its Stacked (scan/fold/vmap), which slices them per layer"
            )
        out_dtype = preferred_element_type or self.compute_dtype or jnp.result_type(lhs, rhs)
        return fp8_dot_general(
            lhs,
            rhs,
            self.input_scale,
            self.kernel_scale,
            self.output_grad_scale,
            self.input_amax_history,
            self.kernel_amax_history,
            self.output_grad_amax_history,
            _hashable_dims(dimension_numbers),
            jnp.dtype(out_dtype),
        )
