"""Compiled for a Hopper GPU without one: the fp8 Linear's GEMMs take fp8 operands, forward and backward.

Runs wherever the CUDA plugin is installed (``pip install "jax[cuda12]"``, no GPU needed; run with
``JAX_PLATFORMS=cpu`` on a host without a GPU); skips elsewhere. test_fp8_gpu.py checks the same
on a real device, where autotuning may also pick cuBLASLt.
"""

from typing import Any

import jax
import jax.numpy as jnp

import haliax as hax
import haliax.nn as hnn
import haliax.partitioning as hp
import haliax.quantization as hq
from haliax.testing import abstract_like, hlo_gemms

Batch, Embed, Hidden = hax.Axis("batch", 256), hax.Axis("embed", 512), hax.Axis("hidden", 1024)


def _layer(**config: Any) -> hnn.Linear:
    layer = hnn.Linear.init(Embed, Hidden, key=jax.random.PRNGKey(0), use_bias=False)
    return hq.quantize_linear_layers(layer, hq.QuantizationConfig(**config))


def _compiled_step(layer: hnn.Linear, mesh: Any) -> str:
    x = hax.ones((Batch, Embed), dtype=jnp.bfloat16)

    def loss(m: hnn.Linear, x: hax.NamedArray) -> jax.Array:
        return (m(x).astype(jnp.float32) ** 2).sum().scalar()

    with hp.set_mesh(mesh):
        lowered = jax.jit(jax.grad(loss, argnums=(0, 1))).lower(*abstract_like((layer, x), mesh))
        text = lowered.compile().as_text()
    assert text is not None
    return text


def test_fp8_linear_runs_three_fp8_gemms_on_hopper(gpu_aot_mesh):
    layer = _layer(fp8=True, amax_history_length=16, compute_dtype=jnp.bfloat16)
    census = hlo_gemms(_compiled_step(layer, gpu_aot_mesh))
    # forward e4m3 x e4m3; both backward GEMMs e5m2 (gradient) x e4m3 (saved operand); nothing in bf16
    assert census["by_operand_types"] == {"f8e4m3fn": 1, "f8e4m3fn+f8e5m2": 2}, census


def test_int8_linear_runs_an_int8_forward_gemm_and_full_precision_backward(gpu_aot_mesh):
    census = hlo_gemms(_compiled_step(_layer(int8=True), gpu_aot_mesh))
    # straight-through gradients: the backward GEMMs are those of the unquantized matmul
    assert census["by_operand_types"] == {"s8": 1, "f32": 2}, census  # f32: the layer's weights
