import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import haliax as hax
from haliax import Axis


def _x(shape=(3, 2, 4), names=("embed", "batch", "pos")):
    return hax.named(jnp.arange(np.prod(shape), dtype=jnp.float32).reshape(shape), names)


def test_vmap_matches_jax_vmap_and_puts_the_axis_first():
    x = _x()
    out = hax.vmap(lambda r: hax.sin(r) * 2, "batch")(x)
    ref = jax.vmap(lambda r: jnp.sin(r) * 2, in_axes=1)(x.array)
    assert out.axes == (Axis("batch", 2), Axis("embed", 3), Axis("pos", 4))
    np.testing.assert_allclose(out.array, ref)


def test_vmap_reductions_inside_see_the_element():
    x = _x()
    out = hax.vmap(lambda r: r.sum("embed"), "batch")(x)
    assert out.axes == (Axis("batch", 2), Axis("pos", 4))
    np.testing.assert_allclose(out.array, x.array.sum(0))


def test_vmap_passes_named_arrays_without_the_axis_whole():
    x = _x()
    bias = hax.named(jnp.arange(4.0), "pos")
    out = hax.vmap(lambda r, b: r + b, "batch")(x, bias)
    np.testing.assert_allclose(out.array, jnp.transpose(x.array, (1, 0, 2)) + jnp.arange(4.0)[None, None, :])


def test_vmap_maps_unnamed_arrays_on_their_first_dim_by_default():
    keys = jax.random.split(jax.random.PRNGKey(0), 2)
    out = hax.vmap(lambda k: hax.random.normal(k, Axis("embed", 3)), "batch")(keys)
    ref = jax.vmap(lambda k: jax.random.normal(k, (3,)))(keys)
    assert out.axes == (Axis("batch", 2), Axis("embed", 3))
    np.testing.assert_array_equal(out.array, ref)


def test_vmap_unnamed_array_specs_default_args_kwargs():
    x = _x()
    raw = jnp.arange(2.0)
    full = jnp.arange(6.0).reshape(3, 2)
    # default=None: the plain array reaches every call whole
    out = hax.vmap(lambda r, v: r.sum(("embed", "pos")) + v.sum(), "batch", default=None)(x, raw)
    np.testing.assert_allclose(out.array, x.array.sum((0, 2)) + raw.sum())
    # args: map the second positional argument along its dimension 1
    out = hax.vmap(lambda r, v: r.sum(("embed", "pos")) + v.sum(), "batch", args=(None, 1))(x, full)
    np.testing.assert_allclose(out.array, x.array.sum((0, 2)) + full.sum(0))
    # kwargs: leave the keyword argument unmapped
    out = hax.vmap(lambda r, *, v: r.sum(("embed", "pos")) + v.sum(), "batch", kwargs={"v": None})(x, v=full)
    np.testing.assert_allclose(out.array, x.array.sum((0, 2)) + full.sum())


def test_vmap_static_arguments_and_outputs():
    x = _x()
    out, tag = hax.vmap(lambda r, flag, ax: (r.sum(ax) if flag else r, "done"), "batch")(x, True, "pos")
    assert tag == "done"
    assert out.axes == (Axis("batch", 2), Axis("embed", 3))


def test_vmap_over_a_module():
    class Lin(eqx.Module):
        w: hax.NamedArray
        act: str = eqx.field(static=True)

        def __call__(self, v):
            return (self.w * v).sum("embed")

    layers = Lin(_x((2, 3), ("layer", "embed")), "relu")
    v = hax.named(jnp.ones(3), "embed")
    out = hax.vmap(lambda m, v: m(v), "layer")(layers, v)
    np.testing.assert_allclose(out.array, layers.w.array.sum(1))


def test_vmap_axis_no_input_has_needs_a_size():
    out = hax.vmap(lambda: hax.named(jnp.zeros(3), "embed"), Axis("layer", 4))()
    assert out.shape == {"layer": 4, "embed": 3}
    with pytest.raises(ValueError) as e:
        hax.vmap(lambda v: v, "layer", default=None)(jnp.zeros(3))
    assert str(e.value) == (
        "vmap: no input has axis 'layer', so its size is unknown; pass a sized axis such as hax.Axis('layer', n)"
    )


def test_vmap_error_for_mismatched_sizes_names_axis_sizes_and_paths():
    with pytest.raises(ValueError) as e:
        hax.vmap(lambda a, b: a, "batch")(_x(), {"k": jnp.zeros(5)})
    assert str(e.value) == (
        "vmap: axis 'batch' has size 2 at a but size 5 at b['k']; "
        "every mapped input must have the same size along 'batch'"
    )
    with pytest.raises(ValueError, match=r"vmap: axis 'batch' has size 7 at the given Axis but size 2 at x"):
        hax.vmap(lambda x: x, Axis("batch", 7))(_x())


def test_vmap_error_for_bad_unnamed_spec():
    with pytest.raises(TypeError) as e:
        hax.vmap(lambda a, b: a, "batch", args=(None, 3))(_x(), jnp.zeros(2))
    assert str(e.value) == (
        "vmap: cannot map dimension 3 of the array of shape (2,) at b along 'batch'; "
        "give it a spec of None or a dimension it has"
    )


def test_vmap_error_when_output_already_has_the_axis():
    with pytest.raises(ValueError, match=r"vmap: an output already has axis 'batch' \{batch: 2\}"):
        hax.vmap(lambda r: hax.named(jnp.zeros(2), "batch"), "batch")(_x())


def test_vmap_over_several_axes_matches_nested_jax_vmap():
    x = _x()
    out = hax.vmap(lambda r: r.sum("embed"), ("pos", "batch"))(x)
    ref = jax.vmap(jax.vmap(lambda r: r.sum(), in_axes=1), in_axes=2)(x.array)
    assert out.axes == (Axis("pos", 4), Axis("batch", 2))
    np.testing.assert_allclose(out.array, ref)


def test_vmap_var_positional_and_jit():
    x = _x()

    def f(*rs):
        return sum(rs[1:], rs[0])

    out = jax.jit(lambda a, b: hax.vmap(f, "batch")(a, b))(x, x)
    np.testing.assert_allclose(out.array, 2 * jnp.transpose(x.array, (1, 0, 2)))


def test_vmap_over_no_axes_is_the_function_itself():
    def double(x):
        return x * 2

    assert hax.vmap(double, ()) is double
