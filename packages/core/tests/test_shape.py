"""Shape manipulation by name, compared with numpy under different axis orders."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import haliax as hax
from haliax._src.base.errors import (
    AxisNotFoundError,
    AxisSizeError,
    DuplicateAxisError,
    ShapeMismatchError,
)
from haliax.core import check_shape, flatten_all_axes_but

B, S, E = hax.make_axes(batch=2, seq=3, embed=4)


def _x(axes=(B, S, E)):
    shape = tuple(a.size for a in axes)
    return hax.named(jnp.arange(float(np.prod(shape))).reshape(shape), axes)


def test_rename_with_names_and_axes():
    x = _x()
    y = x.rename({"seq": "key", E: hax.Axis("hidden", 4)})
    assert y.axes == (B, hax.Axis("key", 3), hax.Axis("hidden", 4))
    assert y.array is x.array


def test_rename_errors():
    x = _x()
    with pytest.raises(
        AxisNotFoundError,
        match=r"rename: axis 'sq' not found in \{batch: 2, seq: 3, embed: 4\}; did you mean 'seq'\?",
    ):
        hax.rename(x, {"sq": "key"})
    with pytest.raises(AxisSizeError, match="rename: axis 'seq' has size 3 in one place and 5 in another"):
        hax.rename(x, {"seq": hax.Axis("key", 5)})
    with pytest.raises(DuplicateAxisError, match="rename: the result would have axis 'embed' twice"):
        hax.rename(x, {"seq": "embed"})


def test_flatten_axes_places_new_axis_at_first_old_axis():
    x = _x()
    y = hax.flatten_axes(x, ("batch", "seq"), "tokens")
    assert y.axes == (hax.Axis("tokens", 6), E)
    np.testing.assert_array_equal(y.array, np.arange(24.0).reshape(6, 4))
    # Non-adjacent axes are moved together, in the order given.
    z = x.flatten_axes(("embed", "batch"), "eb")
    assert z.axes == (hax.Axis("eb", 8), S)
    ref = np.arange(24.0).reshape(2, 3, 4).transpose(2, 0, 1).reshape(8, 3)
    np.testing.assert_array_equal(z.array, ref)


def test_flatten_axes_on_specs():
    assert hax.flatten_axes((B, S, E), ("seq", "embed"), "f") == (B, hax.Axis("f", 12))
    assert hax.flatten_axes({"batch": 2, "seq": 3, "embed": 4}, ("batch", "embed"), "f") == {"f": 8, "seq": 3}
    with pytest.raises(
        AxisSizeError,
        match="flatten_axes: the new axis f\\(7\\) has size 7 but the merged axes have 6 elements",
    ):
        hax.flatten_axes(_x(), ("batch", "seq"), hax.Axis("f", 7))


def test_unflatten_inverts_flatten():
    x = _x()
    y = hax.flatten_axes(x, ("seq", "embed"), "f")
    z = hax.unflatten_axis(y, "f", (S, E))
    assert z.axes == x.axes
    np.testing.assert_array_equal(z.array, x.array)
    with pytest.raises(
        AxisSizeError,
        match="unflatten_axis: the new axes \\{seq: 3, embed: 3\\} have 9 elements but axis 'f' has 12",
    ):
        hax.unflatten_axis(y, "f", (S, E.resize(3)))


def test_ravel_and_flatten():
    x = _x((E, B, S))
    y = hax.ravel(x, "flat")
    assert y.axes == (hax.Axis("flat", 24),)
    np.testing.assert_array_equal(y.array, np.arange(24.0))
    assert hax.flatten(x, "flat").axes == x.flatten("flat").axes == y.axes


def test_flatten_all_axes_but_and_restore():
    x = _x()
    flat, restore = flatten_all_axes_but(x, "rows", ("seq",))
    assert flat.axes == (hax.Axis("rows", 8), S)
    back = restore(flat * 2)
    assert back.axes == x.axes
    np.testing.assert_array_equal(back.array, x.array * 2)
    front, restore2 = flatten_all_axes_but(x, "rows", "batch", reorder_to_front=True)
    assert front.axes == (hax.Axis("rows", 12), B)
    np.testing.assert_array_equal(restore2(front).array, x.array)


def test_split_pieces_sum():
    x = _x()
    a, b = hax.split(x, "embed", [hax.Axis("e1", 1), hax.Axis("e2", 3)])
    assert a.axes == (B, S, hax.Axis("e1", 1))
    np.testing.assert_array_equal(b.array, np.arange(24.0).reshape(2, 3, 4)[:, :, 1:])
    with pytest.raises(
        AxisSizeError, match="split: the new axes \\{e1: 1, e2: 2\\} sum to 3 but axis 'embed' has size 4"
    ):
        x.split("embed", [hax.Axis("e1", 1), hax.Axis("e2", 2)])


def test_unbind():
    parts = _x().unbind("seq")
    assert len(parts) == 3
    assert parts[1].axes == (B, E)
    np.testing.assert_array_equal(parts[1].array, np.arange(24.0).reshape(2, 3, 4)[:, 1])


def test_roll_int_tuple_and_named_shift():
    x = _x()
    ref = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(hax.roll(x, 1, "embed").array, np.roll(ref, 1, axis=2))
    np.testing.assert_array_equal(x.roll((1, 2), ("seq", "embed")).array, np.roll(ref, (1, 2), axis=(1, 2)))
    shift = hax.named(jnp.int32(2), ())
    np.testing.assert_array_equal(
        jax.jit(lambda x, s: hax.roll(x, s, "seq"))(x, shift).array, np.roll(ref, 2, axis=1)
    )


def test_concatenate_keeps_first_order():
    a = _x()
    b = hax.named(jnp.ones((4, 2, 1)), (E, B, S.resize(1)))
    c = hax.concatenate("seq", [a, b])
    assert c.axes == (B, S.resize(4), E)
    ref = np.concatenate([np.arange(24.0).reshape(2, 3, 4), np.ones((2, 1, 4))], axis=1)
    np.testing.assert_array_equal(c.array, ref)
    assert hax.concatenate(S.resize(4), [a, b]).axes == c.axes
    with pytest.raises(
        AxisSizeError, match="concatenate: axis seq\\(5\\) was given but the arrays' 'seq' axes sum to size 4"
    ):
        hax.concatenate(S.resize(5), [a, b])
    with pytest.raises(ShapeMismatchError, match="concatenate: arrays must have the same axes"):
        hax.concatenate("seq", [a, hax.ones((B, S))])
    with pytest.raises(
        AxisSizeError, match="concatenate: axis 'embed' has size 4 in one place and 3 in another"
    ):
        hax.concatenate("seq", [a, hax.ones((B, S, E.resize(3)))])


def test_stack_adds_leading_axis_in_first_order():
    a = _x()
    b = hax.named(jnp.zeros((4, 2, 3)), (E, B, S))
    s = hax.stack("layer", [a, b])
    assert s.axes == (hax.Axis("layer", 2), B, S, E)
    np.testing.assert_array_equal(s.array[1], np.zeros((2, 3, 4)))
    np.testing.assert_array_equal(s.array[0], a.array)
    with pytest.raises(AxisSizeError, match="stack: axis layer\\(3\\) was given but 2 arrays were passed"):
        hax.stack(hax.Axis("layer", 3), [a, b])


def test_pad_modes_match_jnp():
    x = _x((S, B))
    ref = np.arange(6.0).reshape(3, 2)
    y = hax.pad(x, {"batch": (1, 2)}, constant_values=-1.0)
    assert y.axes == (S, B.resize(5))
    np.testing.assert_array_equal(y.array, np.pad(ref, ((0, 0), (1, 2)), constant_values=-1.0))
    r = hax.pad(x, {"seq": 1, "batch": (0, 1)}, mode="reflect")
    np.testing.assert_array_equal(r.array, np.pad(ref, ((1, 1), (0, 1)), mode="reflect"))
    assert "gather" not in str(jax.make_jaxpr(lambda x: hax.pad(x, {"seq": (1, 1)}))(x))


def test_pad_left_grows_to_new_axis():
    x = hax.arange(hax.Axis("pos", 3))
    y = hax.pad_left(x, "pos", hax.Axis("padded", 5), value=-1)
    assert y.axes == (hax.Axis("padded", 5),)
    assert y.array.tolist() == [-1, -1, 0, 1, 2]
    with pytest.raises(AxisSizeError, match="pad_left: new axis pos\\(2\\) is smaller than axis pos\\(3\\)"):
        hax.pad_left(x, "pos", hax.Axis("pos", 2))


def test_tile_existing_and_new_axes():
    x = _x((S, B))
    y = hax.tile(x, {"batch": 2, "copy": 3})
    assert y.axes == (hax.Axis("copy", 3), S, B.resize(4))
    np.testing.assert_array_equal(y.array, np.tile(np.arange(6.0).reshape(3, 2), (3, 1, 2)))


def test_repeat_keeps_name():
    x = _x((S, B))
    y = hax.repeat(x, 2, "seq")
    assert y.axes == (S.resize(6), B)
    np.testing.assert_array_equal(y.array, np.repeat(np.arange(6.0).reshape(3, 2), 2, axis=0))


def test_check_shape():
    assert check_shape((2, 3), ("batch", S)) == (B, S)
    with pytest.raises(
        ShapeMismatchError, match="check_shape: axis 'seq' has size 3 but the shape \\(2, 4\\) has 4 there"
    ):
        check_shape((2, 4), ("batch", S))
    with pytest.raises(
        ShapeMismatchError, match="check_shape: shape \\(2,\\) has 1 dimensions but 2 axes were given"
    ):
        check_shape((2,), (B, S))


def test_shape_ops_cost_no_extra_ops_under_jit():
    x = _x()
    text = str(jax.make_jaxpr(lambda x: hax.flatten_axes(x, ("batch", "seq"), "t"))(x))
    assert "transpose" not in text and "reshape" in text


def test_rename_to_a_size_is_an_error():
    x = hax.zeros(hax.make_axes(batch=2, embed=3))
    with pytest.raises(TypeError) as err:
        x.rename({"batch": 3})  # type: ignore[dict-item]  # wrong type on purpose: pins the runtime error
    assert str(err.value) == (
        "rename: the new name for 'batch' must be a string or an Axis, got int 3; "
        "pass the new name, or an Axis of the same size (renaming cannot change a size)"
    )
