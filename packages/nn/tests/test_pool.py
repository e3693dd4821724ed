import jax
import jax.numpy as jnp
import numpy as np
import pytest

import haliax as hax
import haliax.nn as hnn

Batch, H, W = hax.make_axes(batch=2, height=6, width=5)
x = hax.named(jax.random.normal(jax.random.PRNGKey(0), (2, 6, 5)), (Batch, H, W))


def test_max_min_mean_pool_match_reduce_window():
    win = (H.resize(2), W.resize(2))
    out = hnn.max_pool(win, x, stride=2)
    assert out.axes == (Batch, H.resize(3), W.resize(2))
    ref = jax.lax.reduce_window(x.array, -jnp.inf, jax.lax.max, (1, 2, 2), (1, 2, 2), "VALID")
    np.testing.assert_allclose(out.array, ref)
    ref_min = jax.lax.reduce_window(x.array, jnp.inf, jax.lax.min, (1, 2, 2), (1, 1, 1), "VALID")
    np.testing.assert_allclose(hnn.min_pool(win, x).array, ref_min)
    ref_mean = jax.lax.reduce_window(x.array, 0.0, jax.lax.add, (1, 2, 2), (1, 2, 2), "VALID") / 4
    np.testing.assert_allclose(hnn.mean_pool(win, x, stride=2).array, ref_mean, rtol=1e-6)


def test_pool_is_axis_order_independent():
    win = (W.resize(3),)
    a = hnn.max_pool(win, x, padding="SAME")
    b = hnn.max_pool(win, x.rearrange((W, Batch, H)))
    assert a.axes == x.axes
    np.testing.assert_allclose(hnn.max_pool(win, x).array, b.broadcast_to((Batch, H, W.resize(3))).array)


def test_mean_pool_padding_counts():
    X = hax.Axis("x", 4)
    v = hax.named(jnp.array([1.0, 2.0, 3.0, 4.0]), X)
    excl = hnn.mean_pool((X.resize(2),), v, stride=2, padding=1)
    incl = hnn.mean_pool((X.resize(2),), v, stride=2, padding=1, count_include_pad=True)
    np.testing.assert_allclose(excl.array, [1.0, 2.5, 4.0])
    np.testing.assert_allclose(incl.array, [0.5, 2.5, 2.0])


def test_use_ceil_keeps_the_partial_window():
    X = hax.Axis("x", 5)
    v = hax.named(jnp.arange(5.0), X)
    assert hnn.max_pool((X.resize(2),), v, stride=2).array.tolist() == [1.0, 3.0]
    assert hnn.max_pool((X.resize(2),), v, stride=2, use_ceil=True).array.tolist() == [1.0, 3.0, 4.0]


def test_pool_generic_and_missing_axis():
    out = hnn.pool.pool((H.resize(3),), x, 0.0, jax.lax.add, stride=3)
    np.testing.assert_allclose(out.array, x.array.reshape(2, 2, 3, 5).sum(2), rtol=1e-6)
    with pytest.raises(ValueError, match=r"max_pool|pool: axis 'depth' not found"):
        hnn.max_pool((hax.Axis("depth", 2),), x)


def test_mean_pool_counting_padding_divides_exactly_by_the_window_size():
    D = hax.Axis("d", 14)
    out = hnn.mean_pool(D.resize(3), hax.arange(D), stride=(3,), padding="SAME", count_include_pad=True)
    np.testing.assert_array_equal(out.array, np.array([1, 4, 7, 10, (12 + 13) / 3.0], np.float32))


def test_mean_pool_use_ceil_and_count_include_pad_are_keyword_only():
    D = hax.Axis("d", 6)
    with pytest.raises(TypeError):
        hnn.mean_pool(D.resize(2), hax.arange(D), 2, "VALID", True)  # type: ignore[misc]


@pytest.mark.parametrize("pool_fn", [hnn.max_pool, hnn.min_pool, hnn.mean_pool])
def test_a_pool_is_differentiable_under_jit(pool_fn):
    X, Y = hax.Axis("x", 6), hax.Axis("y", 4)
    x = hax.random.normal(jax.random.PRNGKey(0), (X, Y))

    def loss(v):
        return hax.sum(pool_fn((X.resize(2), Y.resize(2)), v, stride=2) ** 2).scalar()

    grad = jax.jit(jax.grad(loss))(x)
    assert grad.axes == x.axes
    eager = jax.grad(loss)(x)
    assert jnp.allclose(grad.array, eager.array)
