"""named_jit as Haliax 1.4 code uses it: plain jax.jit without a mesh, legacy meshes, Explicit axes, donation."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import PartitionSpec

import haliax as hax
import haliax.partitioning as hp

Batch = hax.Axis("batch", 8)
Embed = hax.Axis("embed", 4)

legacy_mesh_block = pytest.mark.filterwarnings(
    "ignore:.*context manager has been deprecated:DeprecationWarning"
)


def _scaled(x: hax.NamedArray, scale: float) -> hax.NamedArray:
    return hax.sin(x) * scale


def test_named_jit_without_a_mesh_or_mapping_gives_jax_jit_values() -> None:
    x = hax.named(np.arange(32, dtype=np.float32).reshape(8, 4), (Batch, Embed))
    out = hp.named_jit(_scaled)(x, 3.0)
    expected = jax.jit(lambda a: jnp.sin(a) * 3.0)(x.array)
    assert out.axes == (Batch, Embed)
    np.testing.assert_allclose(out.array, expected)


def test_named_jit_without_a_mesh_works_as_a_decorator_with_and_without_arguments() -> None:
    @hp.named_jit
    def double(x: hax.NamedArray) -> hax.NamedArray:
        return x * 2

    @hp.named_jit(donate_args=False)
    def triple(x: hax.NamedArray) -> hax.NamedArray:
        return x * 3

    x = hax.ones((Batch,))
    np.testing.assert_array_equal(double(x).array, 2 * np.ones(8))
    np.testing.assert_array_equal(triple(x).array, 3 * np.ones(8))
    assert double.__name__ == "double"


def test_named_jit_without_a_mesh_builds_a_module_from_its_class() -> None:
    class Layer(eqx.Module):
        w: hax.NamedArray
        b: jax.Array
        size: int = eqx.field(static=True)

        def __init__(self, w: hax.NamedArray):
            self.w = w * 2
            self.b = jnp.zeros(())
            self.size = w.axis_size("embed")

    layer = hp.named_jit(Layer)(hax.ones((Embed,)))
    assert isinstance(layer, Layer) and layer.size == 4 and layer.b.shape == ()
    np.testing.assert_array_equal(layer.w.array, 2 * np.ones(4))


def test_named_jit_returns_the_non_array_parts_of_the_result() -> None:
    @hp.named_jit
    def describe(x: hax.NamedArray, label: str) -> tuple[hax.NamedArray, str, int, hax.Axis]:
        return x + 1, label.upper(), x.axis_size("batch"), x.resolve_axis("embed")

    out, label, size, axis = describe(hax.zeros((Batch, Embed)), "ok")
    assert (label, size, axis) == ("OK", 8, Embed)
    np.testing.assert_array_equal(out.array, np.ones((8, 4)))
    # a second call with other static arguments retraces and gives its own static results
    assert describe(hax.zeros((Batch, Embed)), "again")[1] == "AGAIN"


def test_named_jit_without_a_mesh_donates_and_passes_jit_options() -> None:
    def step(x: hax.NamedArray, y: hax.NamedArray, *, z: hax.NamedArray) -> hax.NamedArray:
        return x + y + z

    def donated(jitted: hp.WrappedCallable, *args: hax.NamedArray, **kwargs: hax.NamedArray) -> int:
        text = jitted.lower(*args, **kwargs).as_text()
        return text.count("tf.aliasing_output") + text.count("jax.buffer_donor")

    y, z = hax.ones((Batch,)), hax.ones((Batch,))
    first = hp.named_jit(step, donate_args=(True,), keep_unused=True)  # shorter than the arguments
    assert donated(first, hax.ones((Batch,)), y, z=z) == 1
    x = hax.ones((Batch,))
    np.testing.assert_array_equal(first(x, y, z=z).array, 3 * np.ones(8))
    assert x.array.is_deleted() and not y.array.is_deleted()
    assert donated(hp.named_jit(step, donate_kwargs={"z": True}), y, y, z=z) == 1
    assert donated(hp.named_jit(lambda a, b: (a * 2, b * 2), donate_args=True), y, z) == 2


def test_named_jit_donate_args_may_hold_leaf_predicates() -> None:
    def step(pair: tuple[hax.NamedArray, jax.Array]) -> hax.NamedArray:
        return pair[0] + pair[1].sum()

    jitted = hp.named_jit(step, donate_args=(lambda leaf: isinstance(leaf, hax.NamedArray),))
    text = jitted.lower((hax.ones((Batch,)), jnp.ones(8))).as_text()
    assert text.count("tf.aliasing_output") + text.count("jax.buffer_donor") == 1


@legacy_mesh_block
def test_named_jit_sees_a_legacy_mesh_block() -> None:
    mesh = jax.sharding.Mesh(np.array(jax.devices()).reshape(2, 4), ("data", "model"))

    @hp.named_jit(axis_resources={"batch": "data"})
    def f(x: hax.NamedArray) -> hax.NamedArray:
        return hp.shard(x * 2)

    with mesh:
        out = f(hax.ones((Batch, Embed)))
    assert out.array.sharding.spec == PartitionSpec("data", None)
    assert out.array.sharding.mesh == mesh


def test_named_jit_on_a_mesh_with_explicit_axes() -> None:
    mesh = jax.make_mesh((8, 1), ("data", "model"), axis_types=(jax.sharding.AxisType.Explicit,) * 2)
    with hp.set_mesh(mesh), hp.axis_mapping({"batch": "data", "embed": "model"}):
        x = hp.shard(hax.ones((Batch, Embed)))
        out = hp.named_jit(lambda a: hp.shard(a + hax.zeros((Embed,))))(x)
    assert out.array.sharding.spec == PartitionSpec("data", "model")
    np.testing.assert_array_equal(out.array, np.ones((8, 4)))
