import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

import haliax as hax
from haliax import Axis


def _n(shape, names, start=0.0):
    return hax.named(start + jnp.arange(np.prod(shape), dtype=jnp.float32).reshape(shape), names)


def test_tree_map_hands_fn_whole_named_arrays():
    tree = {"w": _n((2, 3), ("a", "b")), "b": jnp.zeros(2), "n": None}
    out = hax.tree.map(lambda x: x.axes if isinstance(x, hax.NamedArray) else x.shape, tree)
    assert out == {"w": (Axis("a", 2), Axis("b", 3)), "b": (2,), "n": None}
    doubled = hax.tree_util.tree_map(lambda x, y: x + y, tree, tree)
    np.testing.assert_allclose(doubled["w"].array, 2 * tree["w"].array)


def test_leaves_flatten_structure_unflatten_round_trip():
    tree = [_n((2,), ("a",)), (jnp.ones(3), _n((1, 2), ("x", "y")))]
    leaves = hax.tree.leaves(tree)
    assert [type(x).__name__ for x in leaves] == ["NamedArray", "ArrayImpl", "NamedArray"]
    flat, treedef = hax.tree.flatten(tree)
    assert treedef == hax.tree.structure(tree)
    rebuilt = hax.tree.unflatten(treedef, flat)
    assert rebuilt[1][1].axes == tree[1][1].axes
    assert hax.tree_util.tree_leaves(tree, is_leaf=lambda x: isinstance(x, tuple))[1] is tree[1]


class Layer(eqx.Module):
    w: hax.NamedArray
    b: jax.Array


class FakeStacked(eqx.Module):
    """Follows the stacked-module protocol of haliax._src.trees.tree (what haliax.nn.Stacked provides)."""

    stacked: Layer
    Block: Axis = eqx.field(static=True)


def test_scan_aware_tree_map_sees_one_layer_at_a_time():
    Block = Axis("layer", 3)
    model = {
        "stack": FakeStacked(Layer(_n((3, 2), ("layer", "embed")), jnp.arange(3.0)), Block),
        "head": _n((2,), ("embed",)),
    }
    seen = []

    def fn(x):
        seen.append(x.axes if isinstance(x, hax.NamedArray) else x.shape)
        return x * 2

    out = hax.tree_util.scan_aware_tree_map(fn, model)
    assert (Axis("embed", 2),) in seen and () in seen  # per-layer NamedArray and per-layer scalar
    assert out["stack"].stacked.w.axes == (Block, Axis("embed", 2))
    np.testing.assert_allclose(out["stack"].stacked.w.array, 2 * model["stack"].stacked.w.array)
    np.testing.assert_allclose(out["stack"].stacked.b, 2 * jnp.arange(3.0))
    np.testing.assert_allclose(out["head"].array, 2 * model["head"].array)
    same = hax.tree.scan_aware_map(lambda x: x, model)
    assert isinstance(same["stack"], FakeStacked)


def test_resize_axis_truncates():
    x = _n((2, 4), ("batch", "vocab"))
    other = _n((3,), ("embed",))
    out = hax.tree_util.resize_axis({"x": x, "o": other}, "vocab", 2)
    assert out["x"].axes == (Axis("batch", 2), Axis("vocab", 2))
    np.testing.assert_allclose(out["x"].array, x.array[:, :2])
    assert out["o"] is other


def test_resize_axis_grows_with_the_mean_without_a_key():
    x = hax.named(jnp.array([[1.0, 3.0], [0.0, 10.0]]), ("batch", "vocab"))
    out = hax.tree_util.resize_axis(x, Axis("vocab", 2), 4)
    np.testing.assert_allclose(out.array, [[1.0, 3.0, 2.0, 2.0], [0.0, 10.0, 5.0, 5.0]])


def test_resize_axis_grows_with_matching_statistics_with_a_key():
    x = hax.named(jax.random.normal(jax.random.PRNGKey(0), (2000, 2)) * 3.0 + 1.0, ("vocab", "embed"))
    out = hax.tree_util.resize_axis(x, "vocab", 6000, key=jax.random.PRNGKey(1))
    assert out.axes == (Axis("vocab", 6000), Axis("embed", 2))
    new = out.array[2000:]
    np.testing.assert_allclose(new.mean(0), x.array.mean(0), atol=0.2)
    # truncated at two standard deviations, so a bit narrower than the original
    assert (new.std(0) < x.array.std(0)).all() and (new.std(0) > 0.7 * x.array.std(0)).all()


def test_hashable_partition_round_trips_and_is_hashable():
    tree = {"w": _n((2,), ("a",)), "act": "relu", "n": 3}
    dynamic, static = hax.tree_util.hashable_partition(tree, eqx.is_array)
    hash(static)
    back = hax.tree_util.hashable_combine(dynamic, static)
    assert back["act"] == "relu" and back["n"] == 3
    assert back["w"].axes == tree["w"].axes
