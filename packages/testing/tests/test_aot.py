"""Reading optimized HLO (`hlo_gemms`, `hlo_kernels`) and deviceless GPU compilation."""

import importlib.util

import jax
import jax.numpy as jnp
import pytest

import haliax as hax
from haliax.testing import AotUnavailable, abstract_like, compile_only_gpu_mesh, hlo_gemms, hlo_kernels

# A hand-written excerpt in the form of XLA:GPU's optimized HLO: a Triton GEMM fusion over fp8
# operands, a cuBLASLt fp8 call, a bf16 dot, and a scan body.
_HLO = """\
HloModule jit_step, is_scheduled=true

%gemm_fusion_dot.3_computation (parameter_0: f8e4m3fn[64,32], parameter_1: f8e4m3fn[32,16]) -> bf16[64,16] {
  %parameter_0 = f8e4m3fn[64,32]{1,0} parameter(0)
  %parameter_1 = f8e4m3fn[32,16]{1,0} parameter(1)
  ROOT %dot.3 = bf16[64,16]{1,0} dot(%parameter_0, %parameter_1), lhs_contracting_dims={1}, rhs_contracting_dims={0}
}

%body.7 (p: (s32[], bf16[64,16])) -> (s32[], bf16[64,16]) {
  %p = (s32[], bf16[64,16]{1,0}) parameter(0)
  %g = bf16[64,16]{1,0} get-tuple-element(%p), index=1
  %input_reduce_fusion.2 = bf16[] fusion(%g), kind=kInput, calls=%fused_reduce
  %loop_add_fusion.4 = bf16[64,16]{1,0} fusion(%g, %input_reduce_fusion.2), kind=kLoop, calls=%fused_add
  %loop_add_fusion.5 = bf16[64,16]{1,0} fusion(%loop_add_fusion.4), kind=kLoop, calls=%fused_add.1
  ROOT %t = (s32[], bf16[64,16]{1,0}) tuple(%p, %loop_add_fusion.5)
}

ENTRY %main.9 (x: f8e4m3fn[64,32], w: f8e4m3fn[32,16], g: f8e5m2[64,16], b: bf16[16,16]) -> bf16[64,16] {
  %x = f8e4m3fn[64,32]{1,0} parameter(0)
  %w = f8e4m3fn[32,16]{1,0} parameter(1)
  %g = f8e5m2[64,16]{1,0} parameter(2)
  %b = bf16[16,16]{1,0} parameter(3)
  %gemm_fusion_dot.3 = bf16[64,16]{1,0} fusion(%x, %w), kind=kCustom, calls=%gemm_fusion_dot.3_computation
  %cublas-gemm.1 = (bf16[32,16]{1,0}, s8[0]{0}) custom-call(%x, %g), custom_call_target="__cublas$lt$matmul$f8"
  %dot.9 = bf16[64,16]{1,0} dot(%gemm_fusion_dot.3, %b), lhs_contracting_dims={1}, rhs_contracting_dims={0}
  %while.1 = (s32[], bf16[64,16]{1,0}) while(%dot.9), condition=%cond.7, body=%body.7
  ROOT %r = bf16[64,16]{1,0} get-tuple-element(%while.1), index=1
}
"""


def test_hlo_gemms_counts_gemms_by_operand_types_and_library_calls():
    census = hlo_gemms(_HLO)
    assert census["by_operand_types"] == {"f8e4m3fn": 1, "f8e4m3fn+f8e5m2": 1, "bf16": 1}
    assert census["library_calls"] == {"__cublas$lt$matmul$f8": 1}


def test_hlo_kernels_counts_launches_per_computation_that_runs_on_its_own():
    kernels = hlo_kernels(_HLO)
    assert set(kernels) == {"entry", "body.7"}
    assert kernels["body.7"] == {"input_reduce_fusion": 1, "loop_add_fusion": 2}
    assert kernels["entry"] == {"gemm_fusion_dot": 1, "__cublas$lt$matmul$f8": 1, "dot": 1}


def test_hlo_readers_on_a_program_compiled_here():
    def f(x, w):
        y, _ = jax.lax.scan(lambda c, _: (jnp.tanh(c @ w), None), x, None, length=3)
        return y

    x, w = jnp.ones((8, 4)), jnp.ones((4, 4))
    text = jax.jit(f).lower(x, w).compile().as_text()
    assert text is not None
    assert hlo_gemms(text)["by_operand_types"] == {"f32": 1}
    kernels = hlo_kernels(text)
    assert "entry" in kernels and len(kernels) == 2  # the scan is one while body
    (body,) = (c for name, c in kernels.items() if name != "entry")
    assert sum(body.values()) >= 1


def test_abstract_like_keeps_names_and_structure():
    mesh = jax.make_mesh((1,), ("data",))
    tree = {"w": hax.ones((hax.Axis("embed", 4), hax.Axis("hidden", 2))), "n": 3}
    out = abstract_like(tree, mesh)
    assert out["n"] == 3
    assert out["w"].axes == tree["w"].axes
    assert isinstance(out["w"].array, jax.ShapeDtypeStruct) and out["w"].array.shape == (4, 2)
    assert out["w"].array.sharding.mesh.shape == mesh.shape


def test_unknown_target_is_a_clear_error():
    with pytest.raises(
        AotUnavailable, match=r"compile_only_gpu_mesh: unknown target 'a100'; known: h100, h200"
    ):
        compile_only_gpu_mesh("a100")


def _cuda_plugin_installed() -> bool:
    return importlib.util.find_spec("jax_plugins") is not None and (
        importlib.util.find_spec("jax_plugins.xla_cuda12") is not None
    )


@pytest.mark.skipif(_cuda_plugin_installed(), reason="the CUDA plugin is installed")
def test_without_the_cuda_plugin_the_error_says_how_to_get_it():
    with pytest.raises(
        AotUnavailable, match=r"cannot describe a h100 without the CUDA plugin .*jax\[cuda12\]"
    ):
        compile_only_gpu_mesh("h100")
