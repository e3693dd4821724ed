"""Training with quantized Linears, Stacked, state dicts, and config errors."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import haliax as hax
import haliax.nn as hnn
import haliax.quantization as hq
from haliax._src.base.errors import QuantizationError
from haliax.state_dict import from_state_dict, load_state_dict, save_state_dict, to_state_dict

Batch, In, Hidden, Out = hax.Axis("batch", 32), hax.Axis("in", 8), hax.Axis("hidden", 16), hax.Axis("out", 4)


class Mlp(eqx.Module):
    up: hnn.Linear
    down: hnn.Linear
    norm: hnn.LayerNorm

    @staticmethod
    def init(key: jax.Array) -> "Mlp":
        k1, k2 = jax.random.split(key)
        return Mlp(
            hnn.Linear.init(In, Hidden, key=k1), hnn.Linear.init(Hidden, Out, key=k2), hnn.LayerNorm.init(Out)
        )

    def __call__(self, x: hax.NamedArray) -> hax.NamedArray:
        return self.down(hnn.relu(self.up(x)))


def _data() -> tuple[hax.NamedArray, hax.NamedArray]:
    kx, kw = jax.random.split(jax.random.PRNGKey(7))
    x = hax.random.normal(kx, (Batch, In))
    w = hax.random.normal(kw, (In, Out))
    return x, hax.tanh(hax.dot(x, w, axis=In))


def _train(model: Mlp, steps: int = 30) -> float:
    x, y = _data()
    opt = optax.adam(1e-2)
    _, params = hq.partition_for_grad_overwrite(model)
    opt_state = opt.init(eqx.filter(params, eqx.is_inexact_array))

    def loss_fn(m: Mlp) -> jax.Array:
        return hax.mean((m(x) - y) ** 2).scalar()

    @eqx.filter_jit
    def step(m, opt_state):
        loss, grads = eqx.filter_value_and_grad(loss_fn)(m)
        overwrites, grads = hq.partition_for_grad_overwrite(grads)
        _, params = hq.partition_for_grad_overwrite(m)
        updates, opt_state = opt.update(grads, opt_state, params)
        return hq.apply_updates(m, updates, overwrites), opt_state, loss

    for _ in range(steps):
        model, opt_state, _ = step(model, opt_state)
    return float(loss_fn(model))


@pytest.mark.parametrize(
    "config", [hq.QuantizationConfig(fp8=True, amax_history_length=8), hq.QuantizationConfig(int8=True)]
)
def test_quantized_mlp_trains_within_10_percent_of_full_precision(config):
    model = Mlp.init(jax.random.PRNGKey(0))
    full = _train(model)
    quant = _train(hq.quantize_linear_layers(model, config))
    print(f"{'fp8' if config.fp8 else 'int8'}: final loss {quant:.5f} vs full precision {full:.5f}")
    assert full < 0.2  # it did learn
    assert quant <= full * 1.10


def test_quantize_targets_choose_layers():
    model = Mlp.init(jax.random.PRNGKey(0))
    q = hq.quantize_linear_layers(
        model, hq.QuantizationConfig(targets=["up"], fp8=True, amax_history_length=4)
    )
    assert isinstance(q.up.dot_general, hq.Fp8DotGeneralOp)
    assert isinstance(q.down.dot_general, hq.DefaultDotGeneralOp)
    q = hq.quantize_linear_layers(model, hq.QuantizationConfig(targets="u.*|down", int8=True))
    assert isinstance(q.up.dot_general, hq.Int8DotGeneralOp) and isinstance(
        q.down.dot_general, hq.Int8DotGeneralOp
    )
    # a string is a regular expression matched from the start of the path, as in Haliax
    q = hq.quantize_linear_layers(model, hq.QuantizationConfig(targets="do", int8=True))
    assert isinstance(q.down.dot_general, hq.Int8DotGeneralOp)
    assert isinstance(q.up.dot_general, hq.DefaultDotGeneralOp)


def test_list_targets_match_the_last_path_part_and_stacks_are_under_stacked():
    Layers = hax.Axis("layers", 2)
    stack = hnn.Stacked.init(Layers, Block)(key=jax.random.split(jax.random.PRNGKey(0), 2))
    model = {"blocks": stack, "head": hnn.Linear.init(Hidden, Hidden.alias("out"), key=jax.random.PRNGKey(1))}
    q = hq.quantize_linear_layers(model, hq.QuantizationConfig(targets=["proj"], fp8=True))
    assert isinstance(q["blocks"].stacked.proj.dot_general, hq.Fp8DotGeneralOp)
    assert isinstance(q["head"].dot_general, hq.DefaultDotGeneralOp)
    q = hq.quantize_linear_layers(model, hq.QuantizationConfig(targets="blocks.stacked", int8=True))
    assert isinstance(q["blocks"].stacked.proj.dot_general, hq.Int8DotGeneralOp)
    assert isinstance(q["head"].dot_general, hq.DefaultDotGeneralOp)


def test_state_dict_round_trip_keeps_fp8_scales(tmp_path):
    model = hq.quantize_linear_layers(
        Mlp.init(jax.random.PRNGKey(0)), hq.QuantizationConfig(fp8=True, amax_history_length=4)
    )
    x, _ = _data()
    for _ in range(2):  # the second step's scales come from the first step's amax
        grads = eqx.filter_grad(lambda m: m(x).sum().scalar())(model)
        overwrites, _ = hq.partition_for_grad_overwrite(grads)
        model = hq.apply_updates(model, None, overwrites)
    sd = to_state_dict(model)
    assert "up.dot_general.input_scale" in sd and sd["up.dot_general.input_amax_history"].shape == (4,)
    path = str(tmp_path / "model.safetensors")
    save_state_dict(sd, path)
    template = hq.quantize_linear_layers(
        Mlp.init(jax.random.PRNGKey(1)), hq.QuantizationConfig(fp8=True, amax_history_length=4)
    )
    loaded = from_state_dict(template, load_state_dict(path))
    np.testing.assert_allclose(loaded.up.dot_general.input_scale, model.up.dot_general.input_scale)
    np.testing.assert_allclose(
        loaded.down.dot_general.kernel_amax_history, model.down.dot_general.kernel_amax_history
    )
    assert float(loaded.up.dot_general.input_scale[0]) != 1.0


class Block(eqx.Module):
    proj: hnn.Linear

    @staticmethod
    def init(key: jax.Array) -> "Block":
        return Block(hnn.Linear.init(Hidden, Hidden.alias("h2"), key=key))

    def __call__(self, x: hax.NamedArray) -> hax.NamedArray:
        return self.proj(x).rename({"h2": "hidden"})


def test_stacked_linears_get_per_layer_fp8_state():
    Layers = hax.Axis("layers", 3)
    stack = hnn.Stacked.init(Layers, Block)(key=jax.random.split(jax.random.PRNGKey(0), 3))
    model = {"blocks": stack}
    q = hq.quantize_linear_layers(
        model, hq.QuantizationConfig(targets="blocks.stacked.proj", fp8=True, amax_history_length=5)
    )
    op = q["blocks"].stacked.proj.dot_general
    assert op.input_scale.shape == (Layers.size, 1)
    assert op.input_amax_history.shape == (Layers.size, 5)
    x = hax.random.normal(jax.random.PRNGKey(1), (Batch, Hidden))
    grads = eqx.filter_grad(lambda m: m["blocks"].fold(x).sum().scalar())(q)
    overwrites, _ = hq.partition_for_grad_overwrite(grads)
    q2 = hq.apply_updates(q, None, overwrites)
    hist = q2["blocks"].stacked.proj.dot_general.input_amax_history
    assert hist.shape == (3, 5)
    np.testing.assert_allclose(hist[0, 0], float(jnp.max(jnp.abs(x.array))), rtol=1e-6)
    assert len(set(np.asarray(hist[:, 0]).round(5).tolist())) == 3  # each layer saw its own input
    sd = to_state_dict(q2)
    assert sd["blocks.2.proj.dot_general.input_amax_history"].shape == (5,)
    back = from_state_dict(q, sd)
    np.testing.assert_allclose(back["blocks"].stacked.proj.dot_general.input_amax_history, hist)


def test_target_matching_nothing_is_an_error_naming_the_pattern():
    model = Mlp.init(jax.random.PRNGKey(0))
    with pytest.raises(QuantizationError) as info:
        hq.quantize_linear_layers(model, hq.QuantizationConfig(targets=["up", "attn.qkv"], fp8=True))
    assert str(info.value) == (
        "quantize_linear_layers: target 'attn.qkv' matches no Linear layer; the Linear paths in this "
        "model are 'up', 'down'"
    )


def test_targeting_a_non_linear_is_an_error_naming_its_path_and_type():
    model = Mlp.init(jax.random.PRNGKey(0))
    with pytest.raises(QuantizationError) as info:
        hq.quantize_linear_layers(model, hq.QuantizationConfig(targets="norm", int8=True))
    assert str(info.value) == (
        "quantize_linear_layers: target 'norm' matches 'norm' (LayerNorm), which is not a Linear; only "
        "Linear layers can be quantized: target one of the Linear paths 'up', 'down'"
    )


def test_config_without_a_format_warns_and_returns_the_model_and_both_is_an_error():
    model = Mlp.init(jax.random.PRNGKey(0))
    with pytest.warns(
        UserWarning, match=r"quantize_linear_layers: .* returned unchanged; set fp8=True or int8=True"
    ):
        assert hq.quantize_linear_layers(model, hq.QuantizationConfig()) is model
    with pytest.raises(QuantizationError) as info:
        hq.QuantizationConfig(fp8=True, int8=True)
    assert str(info.value) == "QuantizationConfig: fp8=True and int8=True were both given; choose one of them"


def test_unstacked_call_of_stacked_fp8_state_is_an_error():
    op = hq.Fp8DotGeneralOp.init(4, leading_axes=(hax.Axis("layers", 2),))
    with pytest.raises(
        ValueError,
        match=r"leading dimensions \(scale shape \(2, 1\), expected \(1,\)\); call the layer through its Stacked",
    ):
        op(jnp.ones((2, 3)), jnp.ones((3, 2)), (((1,), (0,)), ((), ())))
