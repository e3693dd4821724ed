import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import haliax as hax
from haliax import Axis
from haliax import jax_utils as ju


def _n(shape, names):
    return hax.named(jnp.arange(np.prod(shape), dtype=jnp.float32).reshape(shape), names)


def test_filter_checkpoint_accepts_python_objects_and_keeps_gradients():
    def f(x, scale, name):
        return {"out": hax.sin(x) * scale, "name": name}

    x = _n((3,), ("a",))
    ck = ju.filter_checkpoint(f, policy=jax.checkpoint_policies.nothing_saveable)
    out = ck(x, 2.0, "hi")
    assert out["name"] == "hi"
    g = jax.grad(lambda x: ck(x, 2.0, "hi")["out"].array.sum())(x)
    np.testing.assert_allclose(g.array, 2 * jnp.cos(x.array), rtol=1e-6)
    assert "checkpoint" in str(jax.make_jaxpr(lambda x: ck(x, 2.0, "hi")["out"].array)(x)) or "remat" in str(
        jax.make_jaxpr(lambda x: ck(x, 2.0, "hi")["out"].array)(x)
    )


def test_named_call_names_the_scope():
    class Attention:
        @ju.named_call
        def __call__(self, x):
            return x * 2

    @ju.named_call(name="my_mlp")
    def mlp(x):
        return x + 1

    hlo = jax.jit(lambda x: mlp(Attention()(x))).lower(jnp.ones(2)).as_text(debug_info=True)
    assert "my_mlp" in hlo
    assert "Attention" in hlo
    assert mlp.__name__ == "mlp"


def test_tree_checkpoint_name_tags_every_array_leaf():
    tree = {"x": _n((2,), ("a",)), "y": jnp.ones(3), "s": "static"}
    arrays = {"x": tree["x"], "y": tree["y"]}
    jaxpr = jax.make_jaxpr(lambda t: hax.tree_checkpoint_name(t, "hidden"))(arrays)
    names = [e.params.get("name") for e in jaxpr.jaxpr.eqns if e.primitive.name == "name"]
    assert names == ["hidden", "hidden"]
    out = hax.tree_checkpoint_name(tree, "hidden")
    assert out["s"] == "static" and out["x"].axes == tree["x"].axes


def test_multilevel_scan_matches_lax_scan_values_and_gradients():
    xs = jnp.linspace(0.0, 1.0, 12)

    def f(c, x):
        return jnp.sin(c) + x, c * x

    ref = jax.lax.scan(f, 0.5, xs)
    got = ju.multilevel_scan(f, 0.5, xs, outer_size=3, length=12)
    np.testing.assert_allclose(got[0], ref[0], rtol=1e-6)
    np.testing.assert_allclose(got[1], ref[1], rtol=1e-6)
    rev = ju.multilevel_scan(f, 0.5, xs, outer_size=4, length=12, reverse=True)
    np.testing.assert_allclose(rev[1], jax.lax.scan(f, 0.5, xs, reverse=True)[1], rtol=1e-6)
    g_ref = jax.grad(lambda xs: jax.lax.scan(f, 0.5, xs)[0])(xs)
    g = jax.grad(lambda xs: ju.multilevel_scan(f, 0.5, xs, 3, 12)[0])(xs)
    np.testing.assert_allclose(g, g_ref, rtol=1e-5)
    with pytest.raises(ValueError) as e:
        ju.multilevel_scan(f, 0.5, xs, outer_size=5, length=12)
    assert str(e.value) == (
        "multilevel_scan: a scan of length 12 cannot be split into 5 equal blocks; pick an outer_size that divides 12"
    )


def test_rng_splitting():
    key = jax.random.PRNGKey(0)
    keys = ju.shaped_rng_split(key, (2, 3))
    assert keys.shape == (2, 3, 2)
    np.testing.assert_array_equal(keys.reshape(6, 2), jax.random.split(key, 6))
    assert ju.shaped_rng_split(key, 4).shape == (4, 2)
    assert ju.maybe_rng_split(None, 3) == [None, None, None]
    np.testing.assert_array_equal(ju.maybe_rng_split(key, 3), jax.random.split(key, 3))


def test_predicates():
    assert not ju.is_in_jit()
    assert jax.jit(lambda x: jnp.float32(ju.is_in_jit()) + x)(0.0) == 1.0
    assert (
        ju.is_scalarish(1.0)
        and ju.is_scalarish(jnp.ones(()))
        and ju.is_scalarish(hax.named(jnp.ones(()), ()))
    )
    assert not ju.is_scalarish(jnp.ones(2)) and not ju.is_scalarish(_n((2,), ("a",)))
    assert ju.is_jax_array_like(jnp.ones(2)) and ju.is_jax_array_like(np.ones(2))
    assert ju.is_jax_array_like(jax.ShapeDtypeStruct((2,), jnp.float32)) and not ju.is_jax_array_like(2.0)
    assert ju.is_on_mac_metal() is False
    from jax.experimental import pallas

    assert ju.is_pallas_dslice(pallas.dslice(0, 2)) and not ju.is_pallas_dslice(hax.dslice(0, 2))


def test_ensure_scalar():
    assert ju.ensure_scalar(3.0) == 3.0
    assert ju.ensure_scalar(hax.named(jnp.array(2.0), ())) == 2.0
    with pytest.raises(TypeError) as e:
        ju.ensure_scalar(_n((2,), ("a",)), name="lr")
    assert (
        str(e.value)
        == "ensure_scalar: expected a scalar for 'lr', got a NamedArray {a: 2}; reduce its axes first"
    )


def test_static_and_combine_and_broadcast_prefix():
    s = ju.Static("relu")
    assert jax.tree_util.tree_leaves(s) == [] and s.value == "relu"
    assert ju.combine({"a": None, "b": 2}, {"a": 1, "b": None}) == {"a": 1, "b": 2}
    assert ju.broadcast_prefix((0, None), ([1, 2], {"a": 3})) == ([0, 0], {"a": None})
    x = _n((2,), ("a",))
    assert ju.broadcast_prefix([1], [[x, x]], is_leaf=hax.is_named_array) == [[1, 1]]
    assert ju.to_jax_shape((Axis("a", 2), Axis("b", 3))) == (2, 3)


def test_filter_eval_shape_with_named_arrays():
    out = ju.filter_eval_shape(lambda x, n: (x * n, n), _n((2, 3), ("a", "b")), 2)
    assert out[0].axes == (Axis("a", 2), Axis("b", 3))
    assert isinstance(out[0].array, jax.ShapeDtypeStruct) and out[1] == 2


def test_multihost_helpers_on_one_process():
    tree = {"x": _n((2,), ("a",))}
    ju.assert_equal(tree, "should match")
    back = ju.broadcast_one_to_all(tree)
    np.testing.assert_array_equal(back["x"].array, tree["x"].array)
    ju.sync_global_devices("test-barrier")


def test_jit_and_filter_jit_work_with_named_arrays():
    x = _n((2, 3), ("a", "b"))

    @eqx.filter_jit
    def f(x, axis_name):
        return x.sum(axis_name)

    out = f(x, "b")
    assert out.axes == (Axis("a", 2),)
    np.testing.assert_allclose(out.array, x.array.sum(1))
    out2 = jax.jit(lambda x: x * 2)(x)
    assert out2.axes == x.axes
