import warnings
from typing import cast

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import haliax as hax
from haliax.nn import attention as attn
from haliax.nn._src import fused_attention as fused_mod

Batch, Pos, KPos, Heads, Key = hax.make_axes(batch=2, pos=5, kpos=5, heads=3, key=8)


def _x(seed, *axes):
    return hax.named(jax.random.normal(jax.random.PRNGKey(seed), tuple(a.size for a in axes)), axes)


q = _x(0, Batch, Pos, Heads, Key)
k = _x(1, Batch, KPos, Heads, Key)
v = _x(2, Batch, KPos, Heads, Key)


def _reference(qa, ka, va, mask=None, bias=None):
    s = jnp.einsum("bqhd,bkhd->bhqk", qa, ka) / jnp.sqrt(qa.shape[-1])
    if bias is not None:
        s = s + bias
    if mask is not None:
        s = jnp.where(mask, s, -1e9)
    w = jax.nn.softmax(s, axis=-1)
    return jnp.einsum("bhqk,bkhd->bqhd", w, va)


def test_dot_product_attention_matches_softmax_qk_v():
    out = attn.dot_product_attention(KPos, Key, q, k, v)
    ref = _reference(q.array, k.array, v.array)
    np.testing.assert_allclose(out.broadcast_to((Batch, Pos, Heads, Key)).array, ref, rtol=1e-5, atol=1e-6)


def test_attention_with_mask_and_bias_and_permuted_inputs():
    mask = attn.causal_mask(Pos, KPos)
    bias = attn.alibi_attention_bias(Heads, KPos)
    out = attn.dot_product_attention(
        KPos, Key, q.rearrange((Key, Heads, Pos, Batch)), k, v, mask=mask, bias=bias
    )
    ref = _reference(
        q.array, k.array, v.array, mask=mask.array[None, None], bias=bias.array[None, :, None, :]
    )
    np.testing.assert_allclose(out.broadcast_to((Batch, Pos, Heads, Key)).array, ref, rtol=1e-5, atol=1e-6)


def test_attention_weights_sum_to_one_and_respect_the_mask():
    w = attn.dot_product_attention_weights(Key, KPos, q, k, mask=attn.causal_mask(Pos, KPos))
    np.testing.assert_allclose(w.sum(KPos).array, 1.0, rtol=1e-5)
    upper = w.broadcast_to((Batch, Heads, Pos, KPos)).array[..., 0, 1:]
    assert float(jnp.abs(upper).max()) < 1e-6


def test_attention_bad_inputs():
    with pytest.raises(ValueError, match=r"dot_product_attention \(key\): axis 'kpos' not found"):
        attn.dot_product_attention(KPos, Key, q, q, v)
    with pytest.raises(ValueError, match=r"dot_product_attention: axis 'key' has size 8 in one place and 4"):
        attn.dot_product_attention(KPos, Key, q, _x(3, Batch, KPos, Heads, Key.resize(4)), v)


def test_masks():
    m = attn.causal_mask(Pos, KPos, q_start=1)
    assert m.axes == (Pos, KPos)
    assert m.array.tolist()[0] == [True, True, False, False, False]
    p = attn.prefix_lm_mask(Pos, KPos, 3)
    assert p.array.tolist()[0] == [True, True, True, False, False]
    f = attn.forgetful_causal_mask(KPos, 0.9, sample_prob=False, key=jax.random.PRNGKey(0))
    assert f.axes == (KPos,) and bool(f.array[0])
    d = attn.dropout_mask((Heads, KPos), 0.0, key=jax.random.PRNGKey(0))
    assert bool(d.array.all())
    both = attn.combine_masks_and(m, p)
    assert both is not None
    np.testing.assert_array_equal(both.array, m.array & p.array)
    either = attn.combine_masks_or(m, None)
    assert either is not None
    np.testing.assert_array_equal(either.array, m.array)
    assert attn.combine_masks_and(None, None) is None


def test_mask_to_bias_penalises_the_true_entries_as_in_haliax():
    m = attn.causal_mask(Pos, KPos)
    np.testing.assert_array_equal(attn.mask_to_bias(m).array, jnp.where(m.array, -1e9, 0.0))
    np.testing.assert_array_equal(attn.mask_to_bias(~m, -5.0).array, jnp.where(m.array, 0.0, -5.0))


def test_alibi_slopes_are_geometric():
    b = attn.alibi_attention_bias(hax.Axis("heads", 8), KPos)
    slopes = b.array[:, 1]
    np.testing.assert_allclose(slopes, [2.0 ** (-(h + 1)) for h in range(8)], rtol=1e-6)


def test_fused_kernel_layout_agrees_with_reference_on_cpu():
    mask = attn.combine_masks_and(attn.causal_mask(Pos, KPos), hax.named(jnp.array([True, False]), Batch))
    bias = attn.alibi_attention_bias(Heads, KPos)
    ref = attn.fused_attention(Pos, KPos, Key, q, k, v, mask=mask, bias=bias, implementation="xla")
    fused = attn.fused_attention(Pos, KPos, Key, q, k, v, mask=mask, bias=bias, implementation="jax_xla")
    assert fused.axes == q.axes
    np.testing.assert_allclose(ref.broadcast_to(q.axes).array, fused.array, rtol=1e-5, atol=1e-5)


def test_fused_attention_falls_back_and_warns_once_per_reason():
    fused_mod._warned.clear()
    if jax.default_backend() == "gpu":
        pytest.skip("the fallback is exercised off-GPU")
    with pytest.warns(
        attn.FusedAttentionFallbackWarning,
        match=r"kernel 'cudnn' cannot run \(cuDNN attention needs a GPU backend",
    ):
        out = attn.fused_attention(Pos, KPos, Key, q, k, v)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = attn.fused_attention(Pos, KPos, Key, q, k, v)
    np.testing.assert_array_equal(out.array, again.array)
    ref = attn.dot_product_attention(KPos, Key, q, k, v)
    np.testing.assert_allclose(out.array, ref.array, rtol=1e-6)


def test_the_cudnn_check_follows_the_devices_of_the_mesh_in_scope(monkeypatch: pytest.MonkeyPatch):
    # Compiling ahead of time for GPU devices from a CPU host: the mesh's devices decide, not the
    # host's default backend (a stand-in device, as jax's compile-only GPU devices need the CUDA plugin).
    import haliax.partitioning as part

    class Device:
        platform = "gpu"

    class GpuMesh:
        devices = np.array([Device()], dtype=object)

    assert fused_mod._target_platform() == jax.default_backend()
    with part.set_mesh(jax.make_mesh((1,), ("data",))):
        assert fused_mod._target_platform() == jax.devices()[0].platform
    monkeypatch.setattr(part, "current_mesh", lambda: GpuMesh())
    assert fused_mod._target_platform() == "gpu"


def test_attention_kernel_registry():
    assert {"xla", "cudnn", "jax_xla"} <= set(attn.list_attention_kernels())
    with pytest.raises(LookupError, match=r"xl"):
        attn.fused_attention(Pos, KPos, Key, q, k, v, implementation="xlaa")

    def doubled(QPos, KPos_, Key_, query, key, value, *, mask, bias, scaling_factor):
        out = attn.dot_product_attention(KPos_, Key_, query, key, value, mask=mask, bias=bias)
        return out * 2

    name = "test_doubled_attention"
    if name not in attn.attention_kernels:
        # A kernel written before is_causal existed: fused_attention passes is_causal only when set.
        attn.register_attention_kernel(name, cast(fused_mod.AttentionKernel, doubled))
    out = attn.fused_attention(Pos, KPos, Key, q, k, v, implementation=name)
    np.testing.assert_allclose(out.array, 2 * attn.dot_product_attention(KPos, Key, q, k, v).array, rtol=1e-6)


@pytest.mark.skipif(jax.default_backend() != "gpu", reason="cuDNN attention needs a GPU")
def test_cudnn_kernel_agrees_with_reference_on_gpu():
    fused_mod._warned.clear()
    bf = lambda a: a.astype(jnp.bfloat16)
    qb, kb, vb = bf(q), bf(k), bf(v)
    mask = attn.causal_mask(Pos, KPos)
    bias = attn.alibi_attention_bias(Heads, KPos)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback: the kernel itself must run
        fused = jax.jit(
            lambda q, k, v: attn.fused_attention(
                Pos, KPos, Key, q, k, v, mask=mask, bias=bias, implementation="cudnn"
            )
        )(qb, kb, vb)
    ref = attn.fused_attention(Pos, KPos, Key, q, k, v, mask=mask, bias=bias, implementation="xla")
    assert fused.axes == q.axes and fused.dtype == jnp.bfloat16
    np.testing.assert_allclose(
        ref.broadcast_to(q.axes).array, fused.array.astype(jnp.float32), rtol=3e-2, atol=3e-2
    )


def test_attention_result_axes_follow_hax_dot_order():
    w = attn.dot_product_attention_weights(Key, KPos, q, k)
    assert w.axes == (Batch, Pos, Heads, KPos)
    out = attn.dot_product_attention(KPos, Key, q, k, v)
    assert out.axes == (Batch, Pos, Heads, Key)


def test_attention_rejects_kpos_that_is_also_a_query_axis():
    with pytest.raises(
        ValueError, match=r"dot_product_attention: attended-to axis 'kpos' .* must be distinct"
    ):
        attn.dot_product_attention(KPos, Key, _x(3, Batch, KPos, Heads, Key), k, v)


def test_attention_mask_of_the_wrong_size_names_the_attention_op():
    bad = attn.causal_mask(Pos, KPos.resize(4))
    with pytest.raises(ValueError, match=r"^dot_product_attention \(mask\): "):
        attn.dot_product_attention(KPos, Key, q, k, v, mask=bad)


def test_integer_queries_are_scaled_in_floating_point():
    QPos, KP, Head = hax.make_axes(q=10, k=20, head=8)
    qi, ki = hax.arange(QPos).broadcast_axis(Head), hax.arange(KP).broadcast_axis(Head)
    weights = attn.dot_product_attention_weights(Head, KP, qi, ki)
    as_float = attn.dot_product_attention_weights(Head, KP, qi.astype(jnp.float32), ki.astype(jnp.float32))
    # same as with float queries, then cast to the query dtype (saturated rows give exact 1s);
    # a scale truncated to the integer 0 would give uniform weights, all truncated to 0
    assert weights.dtype == jnp.int32
    np.testing.assert_array_equal(weights.array, as_float.array.astype(jnp.int32))
    assert int(weights.sum().array) > 0
