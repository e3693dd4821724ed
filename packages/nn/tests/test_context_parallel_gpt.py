"""The GPT example under a data x seq mesh: mapping its ``position`` axis to ``seq`` routes attention
through context parallelism, and loss and gradients equal the unsharded model's."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import haliax as hax
import haliax.partitioning as hp
from haliax.nn._src import context_parallel as cp_mod

gpt = pytest.importorskip("haliax_gpt_example.model")

AUTO = jax.sharding.AxisType.Auto


@pytest.mark.filterwarnings("ignore::haliax.nn.attention.FusedAttentionFallbackWarning")
def test_gpt_loss_and_gradients_on_a_sequence_parallel_mesh_equal_the_unsharded_model(monkeypatch):
    monkeypatch.setattr(cp_mod, "GATHER_MAX_SCORE_BYTES", 0)  # tiny sequences: take the ring anyway
    config = gpt.GPTConfig(vocab=32, seq_len=32, embed=16, heads=2, layers=1)
    # Random weights in the model's shapes, drawn with numpy: GPT.init (and jax.random per shape)
    # compile dozens of small programs, seconds of a 2-core CI machine.
    rng = np.random.default_rng(0)
    shapes = eqx.filter_eval_shape(gpt.GPT.init, config, key=jax.random.PRNGKey(0))
    leaves, tree = jax.tree.flatten(shapes)
    model = jax.tree.unflatten(
        tree, [jnp.asarray(0.2 * rng.standard_normal(x.shape), x.dtype) for x in leaves]
    )
    Batch, Window = hax.Axis("batch", 4), hax.Axis("window", config.seq_len + 1)
    tokens = hax.named(jnp.asarray(rng.integers(0, 32, (4, config.seq_len + 1))), (Batch, Window))
    step = eqx.filter_jit(eqx.filter_value_and_grad(gpt.loss_fn))

    loss, grads = step(model, tokens)
    mesh = jax.make_mesh((2, 4), ("data", "seq"), axis_types=(AUTO, AUTO))
    with hp.set_mesh(mesh), hp.axis_mapping({"batch": "data", "position": "seq"}):
        jaxpr = str(jax.make_jaxpr(gpt.loss_fn)(model, tokens))
        sharded_loss, sharded_grads = step(model, tokens)

    assert "shard_map" in jaxpr and "ppermute" in jaxpr
    np.testing.assert_allclose(sharded_loss, loss, rtol=1e-6)
    for a, b in zip(jax.tree.leaves(sharded_grads), jax.tree.leaves(grads), strict=True):
        np.testing.assert_allclose(jnp.asarray(a), jnp.asarray(b), atol=1e-6)
