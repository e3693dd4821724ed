import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import haliax as hax
import haliax.nn as hnn
from haliax.errors import AxisSizeError, LayerStackError, StateDictError
from haliax.nn.scan import _stack_state_dict, _unstack_state_dict
from haliax.state_dict import (
    flatten_modules_for_export,
    from_state_dict,
    to_state_dict,
    to_torch_compatible_state_dict,
    unflatten_modules_from_export,
)

Layers, Embed, Hidden, Batch = hax.make_axes(layers=3, embed=4, hidden=5, batch=2)


class Block(eqx.Module):
    up: hnn.Linear
    down: hnn.Linear

    @staticmethod
    def init(Embed, Hidden, *, key):
        k1, k2 = jax.random.split(key)
        return Block(hnn.Linear.init(Embed, Hidden, key=k1), hnn.Linear.init(Hidden, Embed, key=k2))

    def __call__(self, x, scale=1.0):
        return x + scale * self.down(hnn.relu(self.up(x)))


keys = jax.random.split(jax.random.PRNGKey(0), Layers.size)
x = hax.named(jax.random.normal(jax.random.PRNGKey(1), (2, 4)), (Batch, Embed))


def _loop(layers, x):
    for layer in layers:
        x = layer(x)
    return x


def test_stacked_init_vmaps_over_block_and_fold_matches_a_loop():
    stack = hnn.Stacked.init(Layers, Block)(Embed, Hidden, key=keys)
    assert stack.stacked.up.weight.axes == (Layers, Hidden, Embed)
    layers = stack.unstacked()
    assert len(layers) == 3 and layers[1].up.weight.axes == (Hidden, Embed)
    np.testing.assert_allclose(stack.fold(x).array, _loop(layers, x).array, rtol=1e-5)
    np.testing.assert_array_equal(stack.get_layer(2).down.weight.array, stack.stacked.down.weight.array[2])


def test_stacked_and_blockseq_agree_under_jit_and_grad():
    stack = hnn.Stacked.init(Layers, Block, gradient_checkpointing=True)(Embed, Hidden, key=keys)
    seq = hnn.BlockSeq.init(Layers, Block, gradient_checkpointing=True)(Embed, Hidden, key=keys)
    np.testing.assert_allclose(
        eqx.filter_jit(lambda s, x: s.fold(x))(stack, x).array, seq.fold(x).array, rtol=1e-5
    )
    gs = eqx.filter_grad(lambda s: s.fold(x).array.sum())(stack)
    gq = eqx.filter_grad(lambda s: s.fold(x).array.sum())(seq)
    np.testing.assert_allclose(
        gs.stacked.up.weight.array[1], gq.blocks[1].up.weight.array, rtol=1e-4, atol=1e-6
    )


def test_scan_and_vmap_stack_outputs_along_block():
    stack = hnn.Stacked.init(Layers, Block)(Embed, Hidden, key=keys)
    seq = hnn.BlockSeq.init(Layers, Block)(Embed, Hidden, key=keys)
    carry, outs = stack.scan_via(lambda layer, c: (layer(c), c.sum(Embed)))(x)
    carry2, outs2 = seq.scan_via(lambda layer, c: (layer(c), c.sum(Embed)))(x)
    assert outs.axes == (Layers, Batch) == outs2.axes
    np.testing.assert_allclose(carry.array, carry2.array, rtol=1e-5)
    np.testing.assert_allclose(outs.array, outs2.array, rtol=1e-5)
    v = stack.vmap(x)
    assert v.axes == (Layers, Batch, Embed)
    np.testing.assert_allclose(v.array[1], stack.get_layer(1)(x).array, rtol=1e-5)
    np.testing.assert_allclose(seq.vmap(x).array, v.array, rtol=1e-5)


def test_fold_slices_per_layer_arguments_and_broadcasts_the_rest():
    stack = hnn.Stacked.init(Layers, Block)(Embed, Hidden, key=keys)
    scales = hax.named(jnp.array([1.0, 0.0, 2.0]), (Layers,))
    out = stack.fold(x, scale=scales)
    layers = stack.unstacked()
    ref = layers[2](layers[1](layers[0](x, 1.0), 0.0), 2.0)
    np.testing.assert_allclose(out.array, ref.array, rtol=1e-5)
    folded = stack.fold_via(lambda layer, c, s: layer(c, s))(x, scales)
    np.testing.assert_allclose(folded.array, ref.array, rtol=1e-5)


def test_state_dict_uses_per_layer_keys_and_round_trips():
    stack = hnn.Stacked.init(Layers, Block)(Embed, Hidden, key=keys)
    seq = hnn.BlockSeq.init(Layers, Block)(Embed, Hidden, key=keys)
    sd = to_state_dict({"layers": stack})
    assert "layers.0.up.weight" in sd and "layers.2.down.bias" in sd
    assert sd["layers.1.up.weight"].shape == (Hidden.size, Embed.size)
    assert sorted(sd) == sorted(to_state_dict({"layers": seq}))
    back = from_state_dict({"layers": stack}, sd)
    np.testing.assert_array_equal(back["layers"].stacked.up.weight.array, stack.stacked.up.weight.array)
    into_seq = from_state_dict({"layers": seq}, sd)
    np.testing.assert_array_equal(
        into_seq["layers"].blocks[2].up.weight.array, stack.stacked.up.weight.array[2]
    )
    torch_sd = to_torch_compatible_state_dict({"layers": stack})
    assert torch_sd["layers.0.up.weight"].shape == (Hidden.size, Embed.size)


def test_scan_aware_tree_map_sees_one_layer_at_a_time():
    stack = hnn.Stacked.init(Layers, Block)(Embed, Hidden, key=keys)
    seen = []

    def record(a):
        seen.append(a.axes)
        return a

    hax.tree_util.scan_aware_tree_map(record, stack)
    assert all(Layers not in axes for axes in seen)


def test_get_layer_out_of_range_and_policies():
    stack = hnn.Stacked.init(Layers, Block, gradient_checkpointing="offload")(Embed, Hidden, key=keys)
    assert stack.gradient_checkpointing.save_carries == "offload"
    hash(stack.gradient_checkpointing)
    with pytest.raises(IndexError, match=r"get_layer: index 3 is out of range for axis 'layers' of size 3"):
        stack.get_layer(3)
    assert hnn.ScanCheckpointPolicy is hax.ScanCheckpointPolicy


def _assert_trees_bit_exact(a, b):
    la, lb = jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)
    assert jax.tree_util.tree_structure(a) == jax.tree_util.tree_structure(b)
    for x, y in zip(la, lb, strict=True):
        assert x.dtype == y.dtype
        assert np.asarray(x).tobytes() == np.asarray(y).tobytes()


# Bit-exact round trips of Stacked/BlockSeq (dtypes, safetensors and torch layout, sharded, unroll and
# policy kept) are cases of the matrix in test_state_dict_roundtrip.py.


def test_stacked_reads_per_layer_or_already_stacked_keys_and_names_a_missing_layer():
    stack = hnn.Stacked.init(Layers, Block)(Embed, Hidden, key=keys)
    stacked_form = {
        "up.weight": stack.stacked.up.weight.array,
        **{k: v for k, v in stack.to_state_dict().items() if not k.endswith("up.weight")},
    }
    assert sorted(stacked_form) != sorted(stack.to_state_dict())
    _assert_trees_bit_exact(stack.from_state_dict(stacked_form), stack)
    sd = stack.to_state_dict(prefix="h")
    del sd["h.1.down.bias"]
    with pytest.raises(StateDictError, match=r"^Stacked.from_state_dict: key 'h.1.down.bias' is missing"):
        stack.from_state_dict(sd, prefix="h")


def test_stack_and_unstack_state_dict_are_inverse():
    sd = {"b.0.w": jnp.array([1.0, 2.0]), "b.1.w": jnp.array([3.0, 4.0]), "other": jnp.array([5.0])}
    stacked = _stack_state_dict(sd, "b")
    assert sorted(stacked) == ["b.w", "other"] and stacked["b.w"].shape == (2, 2)
    back = _unstack_state_dict(stacked, "b")
    assert sorted(back) == sorted(sd)
    np.testing.assert_array_equal(back["b.1.w"], sd["b.1.w"])


def test_layers_is_block_and_unroll_accepts_bools_and_ints():
    stack = hnn.Stacked.init(Layers, Block)(Embed, Hidden, key=keys)
    assert stack.Layers is stack.Block
    ref = stack.fold(x)
    for unroll in (True, False, 2, 3):
        np.testing.assert_allclose(stack.fold(x, unroll=unroll).array, ref.array, rtol=1e-6)
        c, _ = stack.scan_via(lambda layer, c: (layer(c), c), unroll=unroll)(x)
        np.testing.assert_allclose(c.array, ref.array, rtol=1e-6)
    with pytest.raises(LayerStackError, match=r"^Stacked.fold: unroll must be at least 1"):
        stack.fold(x, unroll=0)
    with pytest.raises(LayerStackError, match=r"^Stacked.fold_via: unroll must be at least 1"):
        stack.fold_via(lambda layer, c: layer(c), unroll=0)
    with pytest.raises(LayerStackError, match=r"^Stacked.init: unroll must be at least 1"):
        hnn.Stacked.init(Layers, Block, unroll=0)


@pytest.mark.parametrize("cls", [hnn.Stacked, hnn.BlockSeq])
def test_scan_of_layers_that_return_only_a_carry_is_a_value_error(cls):
    stack = cls.init(Layers, Block)(Embed, Hidden, key=keys)
    with pytest.raises(
        LayerStackError,
        match=r"scan: each layer must return a pair \(carry, output\), but one "
        r"returned \{batch: 2, embed: 4\}; use fold",
    ):
        stack.scan(x)


def test_blockseq_init_with_more_keys_than_layers_raises_like_stacked():
    too_many = jax.random.split(jax.random.PRNGKey(0), 5)
    with pytest.raises(AxisSizeError):
        hnn.Stacked.init(Layers, Block)(Embed, Hidden, key=too_many)
    with pytest.raises(
        AxisSizeError, match=r"^BlockSeq.init: an unnamed argument of shape \(5, 2\) is sliced"
    ):
        hnn.BlockSeq.init(Layers, Block)(Embed, Hidden, key=too_many)


def test_prevent_cse_is_deprecated_in_favour_of_the_policy():
    with pytest.warns(DeprecationWarning, match="prevent_cse is deprecated"):
        stack = hnn.Stacked.init(Layers, Block, gradient_checkpointing=True, prevent_cse=True)(
            Embed, Hidden, key=keys
        )
    assert stack.gradient_checkpointing.prevent_cse


def test_stacked_layer_norms_export_one_layer_at_a_time():
    D, E = hax.make_axes(D=2, E=3)
    norms = hnn.Stacked.init(Layers, hnn.LayerNorm)((D, E))
    norms = eqx.tree_at(lambda s: s.stacked.weight, norms, hax.arange(Layers) + norms.stacked.weight)
    flat = flatten_modules_for_export(norms)
    sd = to_state_dict(flat)
    assert sd["0.weight"].shape == (6,) and sd["2.bias"].shape == (6,)
    _assert_trees_bit_exact(unflatten_modules_from_export(flat, norms), norms)
