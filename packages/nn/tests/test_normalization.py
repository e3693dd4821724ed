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
