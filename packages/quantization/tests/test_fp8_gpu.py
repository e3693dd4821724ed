"""On a Hopper GPU, the compiled fp8 Linear runs fp8 GEMMs (forward and backward), not bf16 ones."""

import re

import jax
import jax.numpy as jnp
import pytest

import haliax as hax
import haliax.nn as hnn
import haliax.quantization as hq


def _hopper() -> bool:
    dev = jax.devices()[0]
    return dev.platform == "gpu" and any(k in dev.device_kind for k in ("H100", "H200"))


pytestmark = pytest.mark.skipif(not _hopper(), reason="needs an NVIDIA Hopper GPU (H100/H200)")

Batch, Embed, Hidden = hax.Axis("batch", 256), hax.Axis("embed", 512), hax.Axis("hidden", 1024)


def _gemms(hlo: str) -> list[str]:
    """One line per GEMM: a cuBLAS custom call, or the header of a computation that holds a dot.

    XLA runs a GEMM either as a cuBLASLt custom call or as a Triton GEMM fusion; for the latter
    the fused computation's header shows the operand types.
    """
    out = [line for line in hlo.splitlines() if 'custom_call_target="__cublas' in line]
    header = None
    for line in hlo.splitlines():
        if line.startswith("%") and "->" in line and line.rstrip().endswith("{"):
            header = line
        elif " dot(" in line and header is not None:
            out.append(header)
            header = None
    return out


def test_compiled_fp8_linear_uses_fp8_gemms():
    layer = hnn.Linear.init(Embed, Hidden, key=jax.random.PRNGKey(0), use_bias=False)
    layer = hq.quantize_linear_layers(
        layer, hq.QuantizationConfig(fp8=True, amax_history_length=16, compute_dtype=jnp.bfloat16)
    )
    x = hax.random.normal(jax.random.PRNGKey(1), (Batch, Embed)).astype(jnp.bfloat16)
    fwd = jax.jit(lambda m, x: m(x)).lower(layer, x).compile().as_text()
    assert fwd is not None
    gemms = _gemms(fwd)
    print("forward GEMMs:", *gemms, sep="\n")
    assert len(gemms) == 1 and re.search(r"f8e4m3fn\[", gemms[0]), gemms

    step = jax.jit(
        jax.value_and_grad(lambda m, x: (m(x).astype(jnp.float32) ** 2).sum().scalar(), argnums=(0, 1))
    )
    bwd = step.lower(layer, x).compile().as_text()
    assert bwd is not None
    gemms = _gemms(bwd)
    print("train-step GEMMs:", *gemms, sep="\n")
    assert len(gemms) == 3 and sum("f8e5m2[" in g for g in gemms) == 2, gemms
    assert all("bf16[" not in g.split("->")[0] for g in gemms), gemms  # no bf16 operands
    loss, _ = step(layer, x)
    assert jnp.isfinite(loss)
