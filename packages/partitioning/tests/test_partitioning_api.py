"""Mappings, meshes, shard, named_jit, the named shard_map, strategies and the explainer."""

from __future__ import annotations

import io

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import NamedSharding, PartitionSpec

import haliax as hax
import haliax.partitioning as hp
from haliax.registry import get_sharding_strategy, list_sharding_strategies

Batch = hax.Axis("batch", 8)
Embed = hax.Axis("embed", 4)
Mlp = hax.Axis("mlp", 8)


def mesh_2x4() -> jax.sharding.Mesh:
    return jax.sharding.Mesh(np.array(jax.devices()).reshape(2, 4), ("data", "model"))


def test_axis_mapping_nests_merges_and_restores() -> None:
    assert hp.current_thread_local_mapping() is None
    with hp.axis_mapping({"batch": "data"}):
        with hp.axis_mapping(embed="model", merge=True):
            assert dict(hp.current_thread_local_mapping() or {}) == {"batch": "data", "embed": "model"}
        with hp.axis_mapping({"embed": "model"}):
            assert dict(hp.current_thread_local_mapping() or {}) == {"embed": "model"}
        assert dict(hp.current_thread_local_mapping() or {}) == {"batch": "data"}
    assert hp.current_thread_local_mapping() is None


def test_physical_axis_queries_and_rounding() -> None:
    mapping = {"batch": ("data", "model"), "embed": "model"}
    with hp.set_mesh(mesh_2x4()), hp.axis_mapping(mapping):
        assert hp.physical_axis_name("batch") == ("data", "model")
        assert hp.physical_axis_name(Mlp) is None
        assert hp.physical_axis_size("batch") == 8
        assert hp.physical_axis_size("mlp") is None
        assert hp.round_axis_for_partitioning(hax.Axis("embed", 10)) == hax.Axis("embed", 12)
        assert hp.round_axis_for_partitioning(hax.Axis("mlp", 10)) == hax.Axis("mlp", 10)
    assert hp.pspec_for_axis((Batch, Mlp), mapping) == PartitionSpec(("data", "model"), None)


def test_set_mesh_enters_jax_mesh_context_and_works_bare() -> None:
    mesh = mesh_2x4()
    assert hp.current_mesh() is None
    with hp.set_mesh(mesh) as entered:
        assert entered is mesh and hp.current_mesh() is mesh
        assert jax.sharding.get_mesh() == mesh
    assert hp.current_mesh() is None and jax.sharding.get_mesh().empty
    with jax.set_mesh(mesh):  # a mesh entered through JAX itself is found too
        assert hp.current_mesh() == mesh
    assert hp.mesh_context is hp.set_mesh
    assert (
        hp.ResourceAxis.DATA == "data"
        and hp.ResourceAxis.MODEL == "model"
        and hp.ResourceAxis.REPLICA == "replica"
    )


def test_shard_places_named_arrays_of_any_pytree_and_leaves_plain_arrays() -> None:
    x = hax.ones((Batch, Embed))
    plain = jnp.ones((8, 4))
    tree = {"x": x, "plain": plain, "n": 3}
    with hp.set_mesh(mesh_2x4()):
        out = hp.shard(tree, {"batch": "data", "embed": "model"})
    assert out["x"].array.sharding.spec == PartitionSpec("data", "model")
    assert out["plain"] is plain and out["n"] == 3
    np.testing.assert_array_equal(out["x"].array, x.array)


def test_shard_without_mapping_returns_the_input_with_a_warning_and_auto_sharded_is_silent() -> None:
    x = hax.ones((Batch, Embed))
    with pytest.warns(RuntimeWarning, match="^shard: no axis mapping was passed and none is active"):
        assert hp.shard(x) is x
    assert hp.auto_sharded(x) is x


def test_shard_inside_jit_adds_a_sharding_constraint() -> None:
    mesh = mesh_2x4()

    @jax.jit
    def f(x: hax.NamedArray) -> hax.NamedArray:
        return hp.shard(x * 2, {"batch": "model"})

    with hp.set_mesh(mesh):
        out = f(hax.ones((Batch, Embed)))
        text = f.lower(hax.ones((Batch, Embed))).as_text()
    assert out.array.sharding.spec == PartitionSpec("model")
    assert "sharding_constraint" in text or "@Sharding" in text


def test_shard_with_axis_mapping_is_shard_with_an_explicit_mapping() -> None:
    with hp.set_mesh(mesh_2x4()):
        out = hp.shard_with_axis_mapping(hax.ones((Batch,)), {"batch": "data"})
    assert out.array.sharding.spec == PartitionSpec("data")


def test_dot_output_follows_the_context_mapping_inside_jit() -> None:
    x = hax.ones((Batch, Embed))
    w = hax.ones((Embed, Mlp))

    @jax.jit
    def f(x: hax.NamedArray, w: hax.NamedArray) -> hax.NamedArray:
        return hax.dot(x, w, axis="embed")

    with hp.set_mesh(mesh_2x4()), hp.axis_mapping({"batch": "data", "mlp": "model"}):
        text = f.lower(x, w).as_text()
    # the dot result is constrained to batch->data, mlp->model (Shardy or GSPMD spelling)
    assert '[{"data"}, {"model"}]' in text or "{devices=[2,4]" in text


def test_constraint_hook_is_the_identity_without_a_mapping() -> None:
    x = hax.ones((Batch,))
    assert hax.extend.constrain(x) is x
    with hp.axis_mapping({"batch": "data"}):  # a mapping but no mesh: still the identity
        assert hax.extend.constrain(x) is x


def test_pspec_for_and_infer_resource_partitions_follow_the_mapping() -> None:
    tree = {"x": hax.ones((Batch, Embed)), "plain": jnp.ones(3), "scalar": jnp.ones(()), "k": 2, "name": "n"}
    mapping = {"batch": "data"}
    with hp.set_mesh(mesh_2x4()):
        specs = hp.pspec_for(tree, mapping, preserve_existing_shardings=False)
        shardings = hp.infer_resource_partitions(tree, mapping, preserve_existing_shardings=False)
        axis_sharding = hp.sharding_for_axis((Batch, Embed), mapping)
    # as in Haliax: plain arrays are replicated, P() for scalars (and Python numbers), P(None) otherwise
    assert specs == {
        "x": PartitionSpec("data", None),
        "plain": PartitionSpec(None),
        "scalar": PartitionSpec(),
        "k": PartitionSpec(),
        "name": None,
    }
    assert isinstance(shardings["x"], NamedSharding) and shardings["x"].spec == PartitionSpec("data", None)
    assert shardings["plain"].spec == PartitionSpec(None) and shardings["name"] is None
    assert axis_sharding.spec == PartitionSpec("data", None)


def test_pspec_for_keeps_existing_shardings_unless_asked_not_to() -> None:
    plain = jnp.ones((8, 4))  # on one device: SingleDeviceSharding, which counts as replicated
    with hp.set_mesh(mesh_2x4()):
        x = hp.shard(hax.ones((Batch, Embed)), {"embed": "model"})
        # None means "keep the sharding it has": every concrete array has one (Haliax's rule)
        assert hp.pspec_for({"x": x, "plain": plain}, {"batch": "data"}) == {
            "x": None,
            "plain": PartitionSpec(None),
        }
        assert hp.pspec_for(x, {"batch": "data"}, preserve_existing_shardings=False) == PartitionSpec(
            "data", None
        )
        assert hp.infer_resource_partitions(x, {"batch": "data"}) == x.array.sharding
        # shape structs carry no sharding, so they follow the mapping either way
        struct = hax.named(jax.ShapeDtypeStruct((8, 4), jnp.float32), (Batch, Embed))
        assert hp.pspec_for(struct, {"batch": "data"}) == PartitionSpec("data", None)


def test_named_jit_lays_out_inputs_and_outputs_and_runs_the_body_under_the_mapping() -> None:
    seen = {}

    @hp.named_jit(axis_resources={"batch": "data"}, out_axis_resources={"batch": "model"})
    def f(x: hax.NamedArray, scale: float) -> hax.NamedArray:
        seen["mapping"] = dict(hp.current_thread_local_mapping() or {})
        return x * scale

    with hp.set_mesh(mesh_2x4()):
        out = f(hax.ones((Batch, Embed)), 2.0)
        again = f(hax.ones((Batch, Embed)), 2.0)
    assert seen["mapping"] == {"batch": "data"}
    assert out.array.sharding.spec == PartitionSpec("model")
    np.testing.assert_array_equal(again.array, 2 * np.ones((8, 4)))
    assert f.__name__ == "f" and isinstance(f, hp.WrappedCallable)


def test_named_jit_as_a_function_donates_and_lowers() -> None:
    def step(x: hax.NamedArray, y: hax.NamedArray) -> hax.NamedArray:
        return x + y

    jitted = hp.named_jit(step, {"batch": "data"}, donate_args=(True, False))
    with hp.set_mesh(mesh_2x4()):
        x = hp.shard(hax.ones((Batch,)), {"batch": "data"})
        y = hax.ones((Batch,))
        lowered = jitted.lower(x, y)
        out = jitted(x, y)
    assert "tf.aliasing_output" in lowered.as_text() or "jax.buffer_donor" in lowered.as_text()
    assert x.array.is_deleted()
    np.testing.assert_array_equal(out.array, 2 * np.ones(8))


def test_named_jit_donate_kwargs() -> None:
    jitted = hp.named_jit(lambda x, *, y: x * y, {"batch": "data"}, donate_kwargs={"y": True})
    with hp.set_mesh(mesh_2x4()):
        y = hp.shard(hax.ones((Batch,)), {"batch": "data"})
        jitted(hax.ones((Batch,)), y=y)
    assert y.array.is_deleted()


def test_fsdp_lays_parameters_out_by_the_parameter_mapping() -> None:
    class Layer(eqx.Module):
        w: hax.NamedArray

    @hp.fsdp(parameter_mapping={"embed": "data"}, compute_mapping={"batch": "data"})
    def step(layer: Layer, x: hax.NamedArray) -> tuple[Layer, hax.NamedArray]:
        return Layer(layer.w * 2), hax.dot(x, layer.w, axis="embed")

    with hp.set_mesh(mesh_2x4()):
        layer, y = step(Layer(hax.ones((Embed, Mlp))), hax.ones((Batch, Embed)))
    assert layer.w.array.sharding.spec == PartitionSpec("data", None)
    np.testing.assert_allclose(y.array, 4 * np.ones((8, 8)))


def test_named_shard_map_runs_a_kernel_on_the_blocks_of_named_inputs() -> None:
    def kernel(x: hax.NamedArray, w: hax.NamedArray) -> hax.NamedArray:
        assert x.axis_size("batch") == 4 and w.axis_size("mlp") == 2  # per-device blocks
        partial = hax.dot(x, w, axis="embed")
        return partial * jax.lax.axis_index("data").astype(jnp.float32)

    x = hax.named(np.arange(32, dtype=np.float32).reshape(8, 4), (Batch, Embed))
    w = hax.ones((Embed, Mlp))
    with hp.set_mesh(mesh_2x4()), hp.axis_mapping({"batch": "data", "mlp": "model"}):
        out = jax.jit(hp.shard_map(kernel))(x, w)
    assert out.axes == (Batch, Mlp)
    expected = (x.array.sum(1, keepdims=True) * np.ones((1, 8))) * np.repeat([0.0, 1.0], 4)[:, None]
    np.testing.assert_allclose(out.array, expected)
    assert out.array.sharding.spec == PartitionSpec("data", "model")


def test_named_shard_map_with_collectives_and_replicated_outputs() -> None:
    def total(x: hax.NamedArray) -> jax.Array:
        return jax.lax.psum(x.array.sum(), "data")

    x = hax.named(np.arange(8, dtype=np.float32), (Batch,))
    with hp.set_mesh(mesh_2x4()):
        out = hp.shard_map(total, mapping={"batch": "data"})(x)
    assert float(out) == 28.0


def test_strategies_are_registered_and_map_the_documented_axes() -> None:
    assert {"dp", "fsdp", "tp", "fsdp+tp"} <= set(list_sharding_strategies())
    mesh = mesh_2x4()
    assert get_sharding_strategy("dp")(None, mesh) == (
        {"batch": ("data", "model")},
        {"batch": ("data", "model")},
    )
    assert get_sharding_strategy("fsdp")(None, mesh)[0] == {
        "batch": ("data", "model"),
        "embed": ("data", "model"),
    }
    params, compute = get_sharding_strategy("fsdp+tp")(None, mesh)
    assert params == {"batch": "data", "mlp": "model", "heads": "model", "embed": "data"}
    assert compute == {"batch": "data", "mlp": "model", "heads": "model"}
    assert get_sharding_strategy("tp") is hp.tensor_parallel


def test_strategies_are_configurable() -> None:
    custom = hp.fully_sharded_tensor_parallel.configure(fsdp_axes=("hidden",), tensor_axes=("vocab",))
    params, compute = custom(None, mesh_2x4())
    assert params == {"batch": "data", "vocab": "model", "hidden": "data"}
    assert compute == {"batch": "data", "vocab": "model"}


def test_explainer_lists_named_shapes_layouts_and_bytes_per_device() -> None:
    model = {"w": hax.ones((Embed, Mlp)), "b": hax.ones((Mlp,)), "scale": jnp.ones((2,))}
    out = io.StringIO()
    report = hp.explain_sharding(model, {"embed": "data", "mlp": "model"}, mesh_2x4(), file=out)
    text = out.getvalue()
    lines = [" ".join(line.split()) for line in text.splitlines()]
    assert lines[:2] == ["mesh {data: 2, model: 4}", "parameter named shape layout dtype bytes/device"]
    assert "['w'] {embed: 4, mlp: 8} embed->data, mlp->model f32 16 B" in lines
    assert "['b'] {mlp: 8} mlp->model f32 8 B" in lines
    assert "['scale'] (2,) replicated f32 8 B" in lines
    assert report.total_bytes_per_device == 16 + 8 + 8
    assert text.rstrip().endswith("32 B")


def test_explainer_rich_table_when_rich_is_installed() -> None:
    pytest.importorskip("rich")
    out = io.StringIO()
    hp.explain_sharding({"w": hax.ones((Embed, Mlp))}, {"mlp": "model"}, mesh_2x4(), file=out, use_rich=True)
    assert "mlp->model" in out.getvalue() and "bytes/device" in out.getvalue()
