import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import haliax as hax
import haliax.nn as hnn

Batch, Embed, Pos = hax.make_axes(batch=2, embed=4, pos=3)


def _x(*axes, seed=0):
    return hax.named(jax.random.normal(jax.random.PRNGKey(seed), tuple(a.size for a in axes)), axes)


def test_softmax_family_matches_jax_over_named_axis_in_any_position():
    x = _x(Batch, Embed, Pos)
    np.testing.assert_allclose(hnn.softmax(x, Embed).array, jax.nn.softmax(x.array, axis=1), rtol=1e-6)
    np.testing.assert_allclose(
        hnn.log_softmax(x, "pos").array, jax.nn.log_softmax(x.array, axis=2), rtol=1e-6
    )
    lse = hnn.logsumexp(x, Embed)
    assert lse.axes == (Batch, Pos)
    np.testing.assert_allclose(lse.array, jax.nn.logsumexp(x.array, axis=1), rtol=1e-6)
    np.testing.assert_allclose(hnn.logsumexp(x).array, jax.nn.logsumexp(x.array), rtol=1e-6)
    both = hnn.softmax(x, (Embed, Pos))
    np.testing.assert_allclose(both.array, jax.nn.softmax(x.array, axis=(1, 2)), rtol=1e-6)


def test_softmax_missing_axis_message():
    with pytest.raises(ValueError, match=r"softmax: axis 'vocab' not found in \{batch: 2, embed: 4\}"):
        hnn.softmax(_x(Batch, Embed), "vocab")


def test_standardize_matches_jax():
    x = _x(Batch, Embed)
    np.testing.assert_allclose(
        hnn.standardize(x, Embed).array, jax.nn.standardize(x.array, axis=1), rtol=1e-5, atol=1e-6
    )


def test_layer_norm_matches_reference_and_permuted_input():
    ln = hnn.LayerNorm.init(Embed)
    x = _x(Batch, Pos, Embed)
    ref = (x.array - x.array.mean(-1, keepdims=True)) / jnp.sqrt(x.array.var(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(ln(x).array, ref, rtol=1e-5, atol=1e-6)
    xt = x.rearrange((Embed, Batch, Pos))
    np.testing.assert_allclose(ln(xt).broadcast_to(x.axes).array, ref, rtol=1e-5, atol=1e-6)


def test_rms_norm_matches_reference_and_has_no_bias_when_asked():
    rms = hnn.RmsNorm.init(Embed, use_bias=False, eps=1e-6)
    assert rms.bias is None
    x = _x(Batch, Embed)
    ref = x.array / jnp.sqrt(jnp.mean(x.array**2, -1, keepdims=True) + 1e-6)
    np.testing.assert_allclose(rms(x).array, ref, rtol=1e-5)


def test_norm_missing_axis_raises():
    with pytest.raises(ValueError, match=r"LayerNorm: axis 'embed' not found in \{batch: 2, pos: 3\}"):
        hnn.LayerNorm.init(Embed)(_x(Batch, Pos))


def test_one_hot():
    Label = hax.Axis("label", 3)
    ids = hax.named(jnp.array([0, 2, 5]), "batch")
    out = hnn.one_hot(ids, Label)
    assert out.axes == (hax.Axis("batch", 3), Label)
    np.testing.assert_array_equal(out.array, [[1, 0, 0], [0, 0, 1], [0, 0, 0]])
    assert hnn.one_hot(1, Label, dtype=jnp.int32).array.tolist() == [0, 1, 0]
    with pytest.raises(TypeError, match=r"one_hot: expected an integer array"):
        hnn.one_hot(hax.named(jnp.ones(2), "batch"), Label)


def test_norms_serialize_with_custom_state_dict_hooks():
    from haliax.state_dict import ModuleWithStateDictSerialization

    for cls in (hnn.LayerNorm, hnn.RmsNorm, hnn.normalization.LayerNormBase):
        assert issubclass(cls, ModuleWithStateDictSerialization)


def test_norm_params_are_float32_and_output_keeps_the_input_dtype():
    rms = hnn.RmsNorm.init(Embed, dtype=jnp.float32)
    assert rms.weight.dtype == jnp.float32
    x = _x(Batch, Embed).astype(jnp.bfloat16)
    ln = hnn.LayerNorm.init(Embed, use_weight=False, use_bias=False, dtype=jnp.float32)
    assert ln(x).dtype == jnp.bfloat16
    assert (
        hnn.RmsNorm.init(Embed, use_weight=False, use_bias=False, dtype=jnp.float32)(x).dtype == jnp.bfloat16
    )


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16])
@pytest.mark.parametrize("cls", [hnn.LayerNorm, hnn.RmsNorm])
def test_multi_axis_norms_round_trip_bit_exactly_through_safetensors_and_torch_layout(tmp_path, cls, dtype):
    from haliax.state_dict import (
        from_state_dict,
        from_torch_compatible_state_dict,
        load_state_dict,
        save_state_dict,
        to_state_dict,
        to_torch_compatible_state_dict,
    )

    Heads, HeadDim = hax.make_axes(heads=2, head_dim=3)
    norm = cls.init((Heads, HeadDim))
    norm = jax.tree_util.tree_map(lambda a: a.astype(dtype), norm)
    norm = eqx.tree_at(lambda m: m.weight, norm, norm.weight + _x(Heads, HeadDim).astype(dtype))
    template = jax.tree_util.tree_map(lambda a: a.astype(dtype), cls.init((Heads, HeadDim)))

    def same(a, b):
        for p, q in ((a.weight, b.weight), (a.bias, b.bias)):
            assert p.axes == q.axes and p.dtype == q.dtype
            assert np.asarray(p.array).tobytes() == np.asarray(q.array).tobytes()
        assert a.axis == b.axis

    save_state_dict(to_state_dict(norm), tmp_path / "n.safetensors")
    same(from_state_dict(template, load_state_dict(tmp_path / "n.safetensors")), norm)
    torch_sd = to_torch_compatible_state_dict(norm)
    assert torch_sd["weight"].shape == (6,) and torch_sd["bias"].shape == (6,)
    np.testing.assert_array_equal(torch_sd["weight"], np.asarray(norm.weight.array).reshape(6))
    save_state_dict(torch_sd, tmp_path / "t.safetensors")
    same(from_torch_compatible_state_dict(template, load_state_dict(tmp_path / "t.safetensors")), norm)


def test_single_axis_norm_exports_unchanged():
    ln = hnn.LayerNorm.init(Embed)
    assert ln.flatten_for_export() is ln


def test_softmax_and_log_softmax_default_to_every_axis():
    x = hax.named(jnp.arange(6.0).reshape(2, 3), ("a", "b"))
    np.testing.assert_allclose(hnn.softmax(x).array, jax.nn.softmax(x.array, axis=None), rtol=1e-6)
    np.testing.assert_allclose(hnn.log_softmax(x).array, jax.nn.log_softmax(x.array, axis=None), rtol=1e-6)
