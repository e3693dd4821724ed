import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import haliax as hax
import haliax.nn as hnn
from haliax.state_dict import from_torch_compatible_state_dict, to_torch_compatible_state_dict

Batch, Embed, Hidden, Heads, Key = hax.make_axes(batch=2, embed=4, hidden=3, heads=2, key=3)


def _x(*axes):
    return hax.named(jax.random.normal(jax.random.PRNGKey(7), tuple(a.size for a in axes)), axes)


def test_linear_matches_x_at_w_transpose_plus_bias():
    layer = hnn.Linear.init(Embed, Hidden, key=jax.random.PRNGKey(0))
    layer = eqx.tree_at(lambda m: m.bias, layer, hax.named(jnp.arange(3.0), (Hidden,)))
    x = _x(Batch, Embed)
    out = layer(x)
    assert out.axes == (Batch, Hidden)
    assert layer.weight.axes == (Hidden, Embed)
    np.testing.assert_allclose(
        out.array, x.array @ layer.weight.array.T + jnp.arange(3.0)[None, :], rtol=1e-6
    )


def test_linear_is_invariant_to_input_axis_order():
    layer = hnn.Linear.init(Embed, Hidden, key=jax.random.PRNGKey(0))
    x = _x(Batch, Embed)
    xt = x.rearrange((Embed, Batch))
    np.testing.assert_allclose(layer(xt).broadcast_to((Batch, Hidden)).array, layer(x).array, rtol=1e-6)


def test_linear_multi_axis_out_and_in_first_layout():
    proj = hnn.Linear.init(Embed, (Heads, Key), key=jax.random.PRNGKey(0), out_first=False)
    assert proj.weight.axes == (Embed, Heads, Key)
    assert not proj._out_first
    x = _x(Batch, Embed)
    out = proj(x)
    assert out.axes == (Batch, Heads, Key)
    ref = jnp.einsum("be,ehk->bhk", x.array, proj.weight.array)
    np.testing.assert_allclose(out.array, ref, rtol=1e-5)
    back = hnn.Linear.init((Heads, Key), Embed, key=jax.random.PRNGKey(1), use_bias=False)
    assert back.bias is None
    assert back(out).axes == (Batch, Embed)


def test_linear_missing_in_axis_raises_instead_of_broadcasting():
    layer = hnn.Linear.init(Embed, Hidden, key=jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match=r"Linear: axis 'embed' not found in \{batch: 2, heads: 2\}"):
        layer(_x(Batch, Heads))


def test_linear_input_that_already_has_an_output_axis_raises():
    layer = hnn.Linear.init(Embed, Hidden, key=jax.random.PRNGKey(0))
    with pytest.raises(
        ValueError, match=r"Linear: the input \{hidden: 3, embed: 4\} already has output axis 'hidden'"
    ):
        layer(_x(Hidden, Embed))


def test_linear_wrong_size_in_axis_raises():
    layer = hnn.Linear.init(Embed, Hidden, key=jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match=r"Linear: axis 'embed' has size 5 in one place and 4 in another"):
        layer(_x(Batch, Embed.resize(5)))


def test_linear_same_axis_in_and_out_is_rejected_at_init():
    with pytest.raises(ValueError, match=r"Linear.init: axis 'embed' is in both In and Out"):
        hnn.Linear.init(Embed, Embed, key=jax.random.PRNGKey(0))


def test_linear_dot_general_is_a_pluggable_module():
    class Doubling(eqx.Module):
        def __call__(self, lhs, rhs, dims, precision=None, preferred_element_type=None):
            return 2 * jax.lax.dot_general(lhs, rhs, dims)

    plain = hnn.Linear.init(Embed, Hidden, key=jax.random.PRNGKey(0), use_bias=False)
    doubled = hnn.Linear.init(
        Embed, Hidden, key=jax.random.PRNGKey(0), use_bias=False, dot_general=Doubling()
    )
    x = _x(Batch, Embed)
    np.testing.assert_allclose(doubled(x).array, 2 * plain(x).array, rtol=1e-6)
    assert isinstance(plain.dot_general, hnn.DefaultDotGeneralOp)


def test_linear_init_scale_follows_reparam():
    big = hax.Axis("embed", 400)
    layer = hnn.Linear.init(big, Hidden, key=jax.random.PRNGKey(0))
    assert float(jnp.std(layer.weight.array)) < 0.1
    unit = hnn.Linear.init(big, Hidden, key=jax.random.PRNGKey(0), reparam_cls=hnn.mup.InputLinearMup)
    assert float(jnp.std(unit.weight.array)) > 0.5


def test_linear_output_mup_scales_activation():
    layer = hnn.Linear.init(
        Embed, Hidden, key=jax.random.PRNGKey(0), reparam_cls=hnn.mup.OutputLinearMup, use_bias=False
    )
    x = _x(Batch, Embed)
    ref = x.array @ layer.weight.array.T / Embed.size
    np.testing.assert_allclose(layer(x).array, ref, rtol=1e-5)
    assert layer.reparam.active_scale == 1 / Embed.size


@pytest.mark.parametrize("out_first", [True, False])
def test_linear_torch_export_is_2d_in_the_layers_layout_and_round_trips(out_first):
    layer = hnn.Linear.init((Heads, Key), Embed, key=jax.random.PRNGKey(0), out_first=out_first)
    sd = to_torch_compatible_state_dict(layer)
    flat = (Embed.size, Heads.size * Key.size)
    assert sd["weight"].shape == (
        flat if out_first else flat[::-1]
    )  # (out, in) only when out-first, as Haliax
    back = from_torch_compatible_state_dict(layer, sd)
    assert back.weight.axes == layer.weight.axes
    np.testing.assert_array_equal(back.weight.array, layer.weight.array)


def test_linear_with_single_axes_exports_as_it_is():
    layer = hnn.Linear.init(Embed, Hidden, key=jax.random.PRNGKey(0), out_first=False)
    assert layer.flatten_for_export() is layer
    assert to_torch_compatible_state_dict(layer)["weight"].shape == (Embed.size, Hidden.size)


def test_linear_under_jit_and_grad():
    layer = hnn.Linear.init(Embed, Hidden, key=jax.random.PRNGKey(0))
    x = _x(Batch, Embed)
    g = eqx.filter_grad(lambda m: m(x).array.sum())(layer)
    np.testing.assert_allclose(g.weight.array, jnp.broadcast_to(x.array.sum(0), (3, 4)), rtol=1e-5)
    assert eqx.filter_jit(lambda m, x: m(x))(layer, x).axes == (Batch, Hidden)


def test_moe_linear_matches_per_expert_matmul():
    Experts, Token = hax.Axis("experts", 3), hax.Axis("token", 6)
    moe = hnn.MoELinear.init(Experts, Embed, Hidden, key=jax.random.PRNGKey(0))
    assert moe.bias.axes == (Hidden,)  # type: ignore[union-attr]  # init makes a bias; one shared by the experts, as in Haliax
    moe = eqx.tree_at(lambda m: m.bias, moe, hax.named(jnp.arange(3.0), (Hidden,)))
    x = _x(Token, Embed)
    sizes = jnp.array([2, 1, 3])
    out = moe(x, hax.named(sizes, (Experts,)))
    assert out.axes == (Token, Hidden)
    expert = np.repeat(np.arange(3), np.asarray(sizes))
    w = np.asarray(moe.weight.array)
    ref = np.stack([np.asarray(x.array)[t] @ w[e] + np.arange(3.0) for t, e in enumerate(expert)])
    np.testing.assert_allclose(out.array, ref, rtol=2e-3, atol=2e-3)  # TF32 matmuls on GPU
    out_first = hnn.MoELinear.init(
        Experts, Embed, Hidden, key=jax.random.PRNGKey(0), out_first=True, use_bias=False
    )
    ref2 = np.stack(
        [np.asarray(x.array)[t] @ np.asarray(out_first.weight.array)[e].T for t, e in enumerate(expert)]
    )
    np.testing.assert_allclose(out_first(x, sizes).array, ref2, rtol=2e-3, atol=2e-3)


def test_moe_linear_rejects_several_token_axes():
    Experts = hax.Axis("experts", 3)
    moe = hnn.MoELinear.init(Experts, Embed, Hidden, key=jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match=r"MoELinear: expected the input to have 'embed' and one token axis"):
        moe(_x(Batch, Heads, Embed), jnp.array([1, 1, 2]))


def test_moe_linear_gmm_path_matches_the_ragged_dot_path() -> None:
    from haliax.nn.linear import gmm_sharded

    E, In, Out, Tok = hax.Axis("experts", 3), hax.Axis("in", 4), hax.Axis("out", 5), hax.Axis("tok", 6)
    key = jax.random.PRNGKey(0)
    plain = hnn.MoELinear.init(E, In, Out, key=key)
    gmm = hnn.MoELinear.init(E, In, Out, key=key, use_gmm=True)
    x = hax.random.normal(jax.random.PRNGKey(1), (Tok, In))
    gs = hax.named(jnp.array([1, 3, 2]), (E,))
    np.testing.assert_allclose(gmm(x, gs).array, plain(x, gs).array, rtol=1e-5, atol=1e-6)
    direct = gmm_sharded(x.array, plain.weight.array, gs.array)
    assert plain.bias is not None
    np.testing.assert_allclose(direct + plain.bias.array[None, :], plain(x, gs).array, rtol=1e-5, atol=1e-6)


def test_dropout_module_is_importable_beside_the_dropout_function() -> None:
    from haliax.nn.dropout import Dropout, dropout

    assert Dropout is hnn.Dropout and dropout is hnn.dropout and callable(hnn.dropout)


def test_linear_takes_its_parameterisation_as_the_private_reparam_cls_field():
    weight, bias = hax.ones((Hidden, Embed)) * 0.5, hax.zeros(Hidden)
    layer = hnn.Linear(weight, bias, Embed, Hidden, _reparam_cls=hnn.mup.OutputLinearMup)
    assert isinstance(layer.reparam, hnn.mup.OutputLinearMup)
    np.testing.assert_allclose(layer(hax.ones((Batch, Embed))).array, 0.5)


def test_linear_out_first_is_read_from_the_weight_layout():
    assert hnn.Linear.init(Embed, Hidden, key=jax.random.PRNGKey(0))._out_first
    assert not hnn.Linear.init(Embed, Hidden, key=jax.random.PRNGKey(0), out_first=False)._out_first
    Layers = hax.Axis("layers", 2)
    stacked = hnn.Stacked.init(Layers, hnn.Linear)(
        Embed, Hidden, key=jax.random.split(jax.random.PRNGKey(0), 2)
    )
    assert stacked.stacked._out_first


def test_linear_reparam_helpers_pick_mup_or_standard():
    assert hnn.Linear.input_reparam() is hnn.mup.InputLinearMup
    assert hnn.Linear.hidden_reparam() is hnn.mup.HiddenLinearMup
    assert hnn.Linear.output_reparam() is hnn.mup.OutputLinearMup
    assert hnn.Linear.output_reparam(use_mup=False) is hnn.mup.LinearStandardParam


def test_mup_output_linear_state_dict_holds_the_effective_weight():
    layer = hnn.Linear.init(
        Embed, Hidden, key=jax.random.PRNGKey(0), reparam_cls=hnn.mup.OutputLinearMup, use_bias=False
    )
    sd = layer.to_state_dict()
    np.testing.assert_allclose(sd["weight"], layer.weight.array / Embed.size, rtol=1e-6)
    template = hnn.Linear.init(
        Embed, Hidden, key=jax.random.PRNGKey(1), reparam_cls=hnn.mup.OutputLinearMup, use_bias=False
    )
    back = template.from_state_dict(sd)
    np.testing.assert_allclose(back.weight.array, layer.weight.array, rtol=1e-6)
    x = _x(Batch, Embed)
    np.testing.assert_allclose(back(x).array, layer(x).array, rtol=1e-5)


def test_linear_result_keeps_haliax_dot_order_when_the_weight_shares_a_batch_axis():
    # a weight with an extra axis the input also has: the result follows hax.dot's order
    w = hax.named(jnp.ones((2, 3, 4)), (Heads, Hidden, Embed))
    layer = hnn.Linear(w, None, Embed, Hidden)
    out = layer(_x(Batch, Heads, Embed))
    assert out.axes == (Batch, Heads, Hidden)
    np.testing.assert_allclose(
        out.array, jnp.broadcast_to(_x(Batch, Heads, Embed).array.sum(-1)[..., None], (2, 2, 3)), rtol=1e-5
    )


def test_moe_linear_out_first_and_result_axis_order():
    Experts, Token = hax.Axis("experts", 3), hax.Axis("token", 6)
    assert hnn.MoELinear.init(Experts, Embed, Hidden, key=jax.random.PRNGKey(0), out_first=True).out_first
    moe = hnn.MoELinear.init(Experts, Embed, Hidden, key=jax.random.PRNGKey(0))
    assert not moe.out_first and moe.weight.axes == (Experts, Embed, Hidden)
    sizes = hax.named(jnp.array([2, 1, 3]), (Experts,))
    x = _x(Token, Embed)
    flipped = moe(x.rearrange((Embed, Token)), sizes)
    assert flipped.axes == (Hidden, Token)  # In's place in the input is taken by Out
    np.testing.assert_allclose(flipped.array.T, moe(x, sizes).array, rtol=1e-5)
