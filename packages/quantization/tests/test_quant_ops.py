"""fp8 / int8 dot_general: forward accuracy, gradients, delayed scaling, HLO, registry."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import haliax as hax
import haliax.nn as hnn
import haliax.quantization as hq
from haliax.quantization._src.fp8 import compute_amax_history, compute_scale

Batch, Embed, Hidden = hax.Axis("batch", 8), hax.Axis("embed", 16), hax.Axis("hidden", 32)
DIMS = (((1,), (0,)), ((), ()))


def _layer(config: hq.QuantizationConfig | None) -> hnn.Linear:
    layer = hnn.Linear.init(Embed, Hidden, key=jax.random.PRNGKey(0))
    return layer if config is None else hq.quantize_linear_layers(layer, config)


def _x() -> hax.NamedArray:
    return hax.random.normal(jax.random.PRNGKey(1), (Batch, Embed))


def _rel_err(a: jax.Array, b: jax.Array) -> float:
    return float(jnp.linalg.norm(a - b) / jnp.linalg.norm(b))


def _calibrated(layer: hnn.Linear, x: hax.NamedArray) -> hnn.Linear:
    """One grad step's overwrites: the fp8 scales fitted to x and the weight."""
    grads = eqx.filter_grad(lambda m: m(x).sum().scalar())(layer)
    overwrites, _ = hq.partition_for_grad_overwrite(grads)
    return hq.apply_updates(layer, None, overwrites)


def test_fp8_linear_forward_close_to_full_precision():
    x = _x()
    ref = _layer(None)(x).array
    layer = _calibrated(_layer(hq.QuantizationConfig(fp8=True, amax_history_length=4)), x)
    err = _rel_err(layer(x).array, ref)
    print(f"fp8 forward relative error: {err:.4f}")
    assert err < 0.05


@pytest.mark.parametrize("per_channel", [True, False])
def test_int8_linear_forward_close_to_full_precision(per_channel):
    x = _x()
    ref = _layer(None)(x).array
    layer = _layer(None)
    layer = eqx.tree_at(lambda m: m.dot_general, layer, hq.Int8DotGeneralOp.init(per_channel=per_channel))
    err = _rel_err(layer(x).array, ref)
    print(f"int8 (per_channel={per_channel}) forward relative error: {err:.4f}")
    assert err < 0.02


@pytest.mark.parametrize(
    "dims, lshape, rshape",
    [
        (DIMS, (4, 6), (6, 5)),
        ((((0,), (1,)), ((), ())), (6, 4), (5, 6)),
        ((((2,), (1,)), ((0,), (0,))), (3, 4, 6), (3, 6, 5)),
        ((((1, 2), (2, 0)), ((), ())), (4, 3, 2), (2, 5, 3)),
    ],
)
def test_fp8_gradients_match_full_precision_dot(dims, lshape, rshape):
    k1, k2 = jax.random.split(jax.random.PRNGKey(2))
    a, b = jax.random.normal(k1, lshape), jax.random.normal(k2, rshape)
    op = hq.Fp8DotGeneralOp.init(amax_history_length=2)
    # fit the scales on the same loss first (delayed scaling starts from unit scales)
    loss = lambda o, a_, b_: (o(a_, b_, dims) ** 2).sum() / 2
    for _ in range(2):
        op = hq.apply_updates(op, None, jax.grad(loss)(op, a, b))
    ga = jax.grad(loss, argnums=(1, 2))(op, a, b)
    ref = jax.grad(lambda a_, b_: (jax.lax.dot_general(a_, b_, dims) ** 2).sum() / 2, argnums=(0, 1))(a, b)
    for got, want in zip(ga, ref, strict=True):
        assert got.shape == want.shape
        assert _rel_err(got, want) < 0.15


def test_int8_gradients_are_straight_through():
    k1, k2 = jax.random.split(jax.random.PRNGKey(3))
    a, b = jax.random.normal(k1, (4, 6)), jax.random.normal(k2, (6, 5))
    op = hq.Int8DotGeneralOp.init()
    got = jax.grad(lambda a_, b_: op(a_, b_, DIMS).sum(), argnums=(0, 1))(a, b)
    want = jax.grad(lambda a_, b_: jax.lax.dot_general(a_, b_, DIMS).sum(), argnums=(0, 1))(a, b)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-6)


def test_amax_history_rolls_back_and_writes_the_newest_amax_first():
    history = compute_amax_history(jnp.array([2.0, -4.0]), jnp.zeros(3))
    np.testing.assert_allclose(history, [4.0, 0.0, 0.0])
    history = compute_amax_history(jnp.array([1.0]), history)
    np.testing.assert_allclose(history, [1.0, 0.0, 4.0])  # the replaced front entry moves to the end
    history = compute_amax_history(jnp.array([3.0]), history)
    np.testing.assert_allclose(history, [3.0, 4.0, 1.0])


def test_compute_scale_maps_amax_to_the_fp8_max_and_keeps_the_scale_for_zero_or_inf():
    fmax = float(jnp.finfo(jnp.float8_e4m3fn).max)
    np.testing.assert_allclose(compute_scale(jnp.array(4.0), jnp.array(1.0), fmax), 4.0 / fmax, rtol=1e-6)
    np.testing.assert_allclose(
        compute_scale(jnp.array(4.0), jnp.array(1.0), fmax, margin=1), 8.0 / fmax, rtol=1e-6
    )
    np.testing.assert_allclose(compute_scale(jnp.array(0.0), jnp.array(0.5), fmax), 0.5)
    np.testing.assert_allclose(compute_scale(jnp.array(jnp.inf), jnp.array(0.5), fmax), 0.5)


def test_haliax_src_fp8_is_an_alias_of_the_implementation():
    from haliax._src import fp8 as alias
    from haliax.quantization._src import fp8 as impl

    assert alias.compute_scale is impl.compute_scale
    assert alias.compute_amax_history is impl.compute_amax_history


def test_fp8_linear_train_step_updates_scales_through_gradient():
    x = _x() * 10.0
    layer = _layer(hq.QuantizationConfig(fp8=True, amax_history_length=4))
    op0 = layer.dot_general
    assert op0.input_scale.shape == (1,) and op0.input_amax_history.shape == (4,)
    np.testing.assert_array_equal(op0.input_scale, [1.0])
    layer = _calibrated(layer, x)
    op = layer.dot_general
    fmax = float(jnp.finfo(jnp.float8_e4m3fn).max)
    amax = float(jnp.max(jnp.abs(x.array)))
    np.testing.assert_allclose(op.input_amax_history, [amax, 0.0, 0.0, 0.0], rtol=1e-6)
    # the scale a step uses comes from the history it was handed: all zeros, so the scale stays 1
    np.testing.assert_allclose(op.input_scale, [1.0])
    # the output gradient of sum() is all ones: its amax is 1
    np.testing.assert_allclose(op.output_grad_amax_history[0], 1.0)
    layer2 = _calibrated(layer, x * 0.5)
    op2 = layer2.dot_general
    np.testing.assert_allclose(op2.input_amax_history[0], amax * 0.5, rtol=1e-6)
    np.testing.assert_allclose(op2.input_scale, [amax / fmax], rtol=1e-6)
    np.testing.assert_allclose(
        op2.kernel_scale, [float(jnp.max(jnp.abs(layer.weight.array))) / fmax], rtol=1e-6
    )
    np.testing.assert_allclose(
        op2.output_grad_scale, [1.0 / float(jnp.finfo(jnp.float8_e5m2).max)], rtol=1e-6
    )


def test_fp8_lowered_program_has_f8_dot_general_operands():
    layer = _layer(hq.QuantizationConfig(fp8=True, amax_history_length=4))
    x = _x()
    text = jax.jit(lambda m, x: m(x)).lower(layer, x).as_text()
    dots = [line for line in text.splitlines() if "dot_general" in line]
    assert dots and all("f8E4M3FN" in line for line in dots), dots
    grad_fn = jax.value_and_grad(lambda m, x: m(x).sum().scalar(), argnums=(0, 1))
    grad_text = jax.jit(grad_fn).lower(layer, x).as_text()
    dots = [line for line in grad_text.splitlines() if "stablehlo.dot_general" in line]
    assert len(dots) == 3, dots  # forward, d input, d weight: all on fp8 operands
    assert sum("f8E5M2" in line for line in dots) == 2


def test_int8_lowered_program_accumulates_int8_in_int32():
    layer = _layer(hq.QuantizationConfig(int8=True))
    text = jax.jit(lambda m, x: m(x)).lower(layer, _x()).as_text()
    dots = [line for line in text.splitlines() if "dot_general" in line]
    assert len(dots) == 1 and "xi8>" in dots[0] and "xi32>" in dots[0], dots


def test_ops_registered_in_haliax_ops():
    assert hax.get_op("fp8_dot_general") is hq.Fp8DotGeneralOp
    assert hax.get_op("int8_dot_general") is hq.Int8DotGeneralOp


def test_default_op_is_the_nn_one_and_satisfies_protocol():
    assert hq.DefaultDotGeneralOp is hnn.linear.DefaultDotGeneralOp
    assert isinstance(hq.DotGeneralOp.default(), hq.DefaultDotGeneralOp)
    a, b = jnp.ones((2, 3)), jnp.ones((3, 4))
    for op in (hq.DefaultDotGeneralOp(), hq.Fp8DotGeneralOp.init(4), hq.Int8DotGeneralOp.init()):
        np.testing.assert_allclose(op(a, b, DIMS, None, jnp.float32), jnp.full((2, 4), 3.0))
