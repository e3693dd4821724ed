import equinox as eqx
import jax
import numpy as np
import pytest

import haliax as hax
import haliax.nn as hnn

Batch, H, W, C, D = hax.make_axes(batch=2, height=6, width=5, chan=4, feat=6)


def _x(*axes):
    return hax.named(jax.random.normal(jax.random.PRNGKey(3), tuple(a.size for a in axes)), axes)


def _eqx_conv(conv: hnn.Conv | hnn.ConvTranspose, transpose: bool, **kw):
    cls = eqx.nn.ConvTranspose if transpose else eqx.nn.Conv
    ref = cls(2, C.size, D.size, conv.kernel_size, key=jax.random.PRNGKey(9), **kw)
    ref = eqx.tree_at(
        lambda m: m.weight,
        ref,
        conv.weight.broadcast_to(
            (D, C.resize(C.size // conv.groups), H.resize(conv.kernel_size[0]), W.resize(conv.kernel_size[1]))
        ).array,
    )
    assert conv.bias is not None
    return eqx.tree_at(lambda m: m.bias, ref, conv.bias.array[:, None, None])


@pytest.mark.parametrize(
    "kw",
    [
        dict(kernel_size=3),
        dict(kernel_size=(3, 2), stride=2, padding=1),
        dict(kernel_size=3, dilation=2, padding=((1, 2), (0, 1))),
        dict(kernel_size=3, groups=2, padding="SAME"),
    ],
)
def test_conv_matches_equinox(kw):
    conv = hnn.Conv.init((H, W), C, D, key=jax.random.PRNGKey(0), **kw)
    ref = _eqx_conv(conv, False, **{k: v for k, v in kw.items() if k != "kernel_size"})
    x = _x(Batch, C, H, W)
    out = conv(x)
    expected = jax.vmap(ref)(x.array)
    assert [a.name for a in out.axes] == ["batch", "feat", "height", "width"]
    np.testing.assert_allclose(out.array, expected, rtol=1e-5, atol=1e-5)


def test_conv_permuted_and_multi_batch_inputs_agree():
    conv = hnn.Conv.init((H, W), C, D, kernel_size=3, key=jax.random.PRNGKey(0))
    x = _x(Batch, C, H, W)
    base = conv(x)
    for order in [(H, Batch, W, C), (W, H, C, Batch)]:
        out = conv(x.rearrange(order))
        np.testing.assert_allclose(out.broadcast_to(base.axes).array, base.array, rtol=1e-5, atol=1e-5)
    Extra = hax.Axis("extra", 3)
    x2 = _x(Batch, H, Extra, C, W)
    out2 = conv(x2)
    assert {a.name for a in out2.axes} == {"batch", "extra", "feat", "height", "width"}
    one = conv(x2[{"extra": 1}])
    np.testing.assert_allclose(
        out2[{"extra": 1}].broadcast_to(one.axes).array, one.array, rtol=1e-5, atol=1e-5
    )
    unbatched = conv(x[{"batch": 0}])
    np.testing.assert_allclose(unbatched.array, base.array[0], rtol=1e-5, atol=1e-5)


def test_conv_1d_and_3d():
    L, Dp = hax.Axis("length", 9), hax.Axis("depth", 4)
    c1 = hnn.Conv.init(L, C, D, kernel_size=3, key=jax.random.PRNGKey(0))
    assert c1(_x(C, L)).axes == (D, L.resize(7))
    c3 = hnn.Conv.init((Dp, H, W), C, D, kernel_size=2, key=jax.random.PRNGKey(0))
    assert c3(_x(Batch, Dp, H, W, C)).axes == (Batch, Dp.resize(3), H.resize(5), W.resize(4), D)


@pytest.mark.parametrize(
    "kw", [dict(kernel_size=3), dict(kernel_size=3, stride=2, padding=1, output_padding=1)]
)
def test_conv_transpose_matches_equinox(kw):
    conv = hnn.ConvTranspose.init((H, W), C, D, key=jax.random.PRNGKey(0), **kw)
    ref = _eqx_conv(conv, True, **{k: v for k, v in kw.items() if k != "kernel_size"})
    x = _x(Batch, C, H, W)
    np.testing.assert_allclose(conv(x).array, jax.vmap(ref)(x.array), rtol=1e-5, atol=1e-5)


def test_conv_bad_inputs():
    conv = hnn.Conv.init((H, W), C, D, kernel_size=3, key=jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match=r"Conv: axis 'width' not found in \{batch: 2, chan: 4, height: 6\}"):
        conv(_x(Batch, C, H))
    with pytest.raises(ValueError, match=r"Conv: axis 'chan' has size 3 in one place and 4 in another"):
        conv(_x(C.resize(3), H, W))
    with pytest.raises(
        ValueError, match=r"^Conv.init: groups=3 must divide both 'chan' \(4\) and 'feat' \(6\)"
    ):
        hnn.Conv.init((H, W), C, D, kernel_size=3, groups=3, key=jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match=r"^Conv.init: kernel_size has 3 entries for 2 spatial axes"):
        hnn.Conv.init((H, W), C, D, kernel_size=(1, 2, 3), key=jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match=r"^Conv.init: every stride must be at least 1, got 0"):
        hnn.Conv.init((H, W), C, D, kernel_size=3, stride=0, key=jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match=r"^ConvTranspose.init: every kernel_size must be at least 1, got 0"):
        hnn.ConvTranspose.init((H, W), C, D, kernel_size=0, key=jax.random.PRNGKey(0))


def test_conv_on_an_input_smaller_than_its_kernel_is_an_error():
    conv = hnn.Conv.init((H, W), C, D, kernel_size=3, key=jax.random.PRNGKey(0))
    small = _x(Batch, C, H.resize(2), W)
    with pytest.raises(
        ValueError, match=r"Conv: the input .* is too small along 'height' for a kernel of size 3"
    ):
        conv(small)
    padded = hnn.Conv.init((H, W), C, D, kernel_size=3, padding=1, key=jax.random.PRNGKey(0))
    assert padded(small).resolve_axis("height").size == 2


def test_conv_init_rejects_a_spatial_axis_that_is_a_channel_axis():
    with pytest.raises(ValueError, match=r"Conv.init: spatial axis 'chan' is also the In \(channel\) axis"):
        hnn.Conv.init((H, C), C, D, kernel_size=3, key=jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match=r"ConvTranspose.init: spatial axis 'feat' is also the Out"):
        hnn.ConvTranspose.init((H, D), C, D, kernel_size=3, key=jax.random.PRNGKey(0))


def test_conv_input_that_already_has_the_output_axis_is_an_error():
    conv = hnn.Conv.init((H, W), C, D, kernel_size=3, key=jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match=r"Conv: the input .* already has the output axis 'feat'"):
        conv(_x(D, C, H, W))
