"""On any backend, the program an fp8 Linear hands to XLA multiplies fp8 operands (not bf16 ones).

What XLA then does with them is backend-specific: a Hopper GPU runs fp8 GEMMs (test_fp8_gpu.py),
XLA:CPU upcasts. This pins our side: every quantized matmul, forward and backward, is a
``dot_general`` over f8 tensors in the lowered StableHLO.
"""

import re

import jax
import jax.numpy as jnp

import haliax as hax
import haliax.nn as hnn
import haliax.quantization as hq

Batch, Embed, Hidden = hax.Axis("batch", 8), hax.Axis("embed", 16), hax.Axis("hidden", 32)
_DOT = re.compile(r"stablehlo\.dot_general.*?:\s*\((tensor<[^>]*>),\s*(tensor<[^>]*>)\)")


def _dot_operand_types(text: str) -> list[tuple[str, str]]:
    """The element types of each dot_general's two operands, e.g. ``("f8E4M3FN", "f8E4M3FN")``."""
    out = []
    for line in text.splitlines():
        m = _DOT.search(line)
        if m:
            out.append(tuple(t.rsplit("x", 1)[-1].rstrip(">") for t in m.groups()))
    return out


def _fp8_layer() -> hnn.Linear:
    layer = hnn.Linear.init(Embed, Hidden, key=jax.random.PRNGKey(0), use_bias=False)
    return hq.quantize_linear_layers(
        layer, hq.QuantizationConfig(fp8=True, amax_history_length=4, compute_dtype=jnp.bfloat16)
    )


def test_the_forward_matmul_is_lowered_with_e4m3_operands():
    x = hax.random.normal(jax.random.PRNGKey(1), (Batch, Embed)).astype(jnp.bfloat16)
    text = jax.jit(lambda m, x: m(x)).lower(_fp8_layer(), x).as_text()
    assert _dot_operand_types(text) == [("f8E4M3FN", "f8E4M3FN")]


def test_the_backward_matmuls_take_e5m2_gradients():
    x = hax.random.normal(jax.random.PRNGKey(1), (Batch, Embed)).astype(jnp.bfloat16)

    def loss(m, x):
        return (m(x).astype(jnp.float32) ** 2).sum().scalar()

    text = jax.jit(jax.grad(loss, argnums=(0, 1))).lower(_fp8_layer(), x).as_text()
    types = _dot_operand_types(text)
    assert len(types) == 3, types  # forward, d/dx, d/dw
    assert all(a.startswith("f8") and b.startswith("f8") for a, b in types), types
    assert sum("f8E5M2" in pair for pair in types) == 2, types


def test_the_unquantized_layer_is_lowered_without_fp8():
    layer = hnn.Linear.init(Embed, Hidden, key=jax.random.PRNGKey(0), use_bias=False)
    x = hax.random.normal(jax.random.PRNGKey(1), (Batch, Embed))
    assert _dot_operand_types(jax.jit(lambda m, x: m(x)).lower(layer, x).as_text()) == [("f32", "f32")]
