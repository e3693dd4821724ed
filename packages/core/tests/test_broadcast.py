import jax.numpy as jnp
import numpy as np
import pytest

import haliax as hax

A, B, C = hax.Axis("a", 2), hax.Axis("b", 3), hax.Axis("c", 4)


def _x(axes):
    shape = tuple(ax.size for ax in axes)
    return hax.named(jnp.arange(np.prod(shape), dtype=jnp.float32).reshape(shape), axes)


def test_broadcast_to_keeps_the_arrays_order_when_the_target_already_appears_in_order():
    x = _x((C, A, B))
    out = hax.broadcast_to(x, (A, B), enforce_no_extra_axes=False)
    assert out.axes == (C, A, B)
    # the target's axes out of order: the target first, then the extra axes
    out = hax.broadcast_to(x, (B, A), enforce_no_extra_axes=False)
    assert out.axes == (B, A, C)
    np.testing.assert_array_equal(out.array, jnp.transpose(x.array, (2, 1, 0)))


def test_broadcast_to_puts_new_axes_in_front():
    out = hax.broadcast_to(_x((B,)), (A, B, C))
    assert out.axes == (A, B, C)
    assert hax.broadcast_to(_x((B,)), (C, A), ensure_order=False, enforce_no_extra_axes=False).axes == (
        C,
        A,
        B,
    )


def test_broadcast_to_takes_names_of_axes_the_array_has():
    assert hax.broadcast_to(_x((B,)), (A, "b")).axes == (A, B)
    with pytest.raises(ValueError, match=r"^broadcast_to: axis 'c' needs a size"):
        hax.broadcast_to(_x((B,)), (A, "c"))


def test_broadcast_axis_puts_existing_axes_in_the_given_order():
    assert _x((B,)).broadcast_axis(A).axes == (A, B)
    assert _x((B, A)).broadcast_axis((A, B)).axes == (A, B)


def test_broadcast_axis_rejects_an_existing_name_with_another_size():
    with pytest.raises(ValueError) as err:
        _x((A,)).broadcast_axis(hax.Axis("a", 5))
    assert str(err.value).startswith("broadcast_axis: axis 'a' has size 2 in one place and 5 in another")


def test_zero_d_named_array_with_an_unnamed_array_gives_an_unnamed_result():
    s = hax.named(jnp.float32(2.0), ())
    out = s * jnp.arange(3.0)
    assert not isinstance(out, hax.NamedArray)
    np.testing.assert_array_equal(out, jnp.arange(3.0) * 2.0)
    np.testing.assert_array_equal(jnp.arange(3.0) + s, jnp.arange(3.0) + 2.0)
    with pytest.raises(ValueError, match=r"^add: cannot combine a NamedArray \{a: 2\} with an unnamed array"):
        _ = _x((A,)) + jnp.arange(3.0)
