import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import haliax as hax
import haliax.nn as hnn
from haliax.state_dict import from_state_dict, to_state_dict, to_torch_compatible_state_dict

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
