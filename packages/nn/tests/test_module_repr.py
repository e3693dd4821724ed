"""Printing a model shows its structure and each weight's named shape, never the weights' values."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

import haliax as hax
import haliax.nn as hnn

Embed = hax.Axis("embed", 4)
Hidden = hax.Axis("hidden", 6)
Layer = hax.Axis("layer", 3)


def test_linear_prints_named_shapes_only():
    linear = hnn.Linear.init(Embed, Hidden, key=jax.random.PRNGKey(0))
    assert repr(linear).splitlines() == [
        "Linear(",
        "  weight=f32{hidden: 6, embed: 4},",
        "  bias=f32{hidden: 6},",
        "  In=Axis(name='embed', size=4),",
        "  Out=Axis(name='hidden', size=6),",
        "  dot_general=DefaultDotGeneralOp()",
        ")",
    ]


def test_stacked_prints_one_entry_per_weight_with_the_layer_axis():
    stacked = hnn.Stacked.init(Layer, hnn.Linear)(
        Embed, Hidden, key=jax.random.split(jax.random.PRNGKey(0), 3)
    )
    text = repr(stacked)
    assert "weight=f32{layer: 3, hidden: 6, embed: 4}," in text
    assert "bias=f32{layer: 3, hidden: 6}," in text
    assert len(text.splitlines()) < 15
    assert "0." not in text  # no values (a value would print as e.g. 0.8057)


def test_sharded_weight_in_a_module_names_its_mesh_axes():
    mesh = Mesh(np.array(jax.devices()[:8]).reshape(4, 2), ("data", "model"))
    linear = hnn.Linear.init(Embed, Hidden, key=jax.random.PRNGKey(0))
    sharding = NamedSharding(mesh, PartitionSpec("model", "data"))
    linear = eqx.tree_at(
        lambda m: m.weight,
        linear,
        hax.named(jax.device_put(linear.weight.array, sharding), linear.weight.axes),
    )
    assert "weight=f32{hidden: 6, embed: 4} sharded{hidden: model, embed: data}," in repr(linear)
    assert "bias=f32{hidden: 6}," in repr(linear)


def test_a_model_printed_under_jit_shows_named_shapes():
    seen = []

    @jax.jit
    def f(m: hnn.Linear) -> jax.Array:
        seen.append(repr(m))
        return jnp.zeros(())

    f(hnn.Linear.init(Embed, Hidden, key=jax.random.PRNGKey(0)))
    assert "weight=f32{hidden: 6, embed: 4}," in seen[0]
