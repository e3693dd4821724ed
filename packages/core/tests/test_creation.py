"""Creating NamedArrays: filled arrays, *_like, ranges."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import haliax as hax
from haliax._src.base.errors import DuplicateAxisError, NamedTypeError

B, E = hax.make_axes(batch=2, embed=3)


def test_zeros_ones_default_float32_and_accept_dicts():
    for fn, v in ((hax.zeros, 0.0), (hax.ones, 1.0)):
        x = fn((B, E))
        assert x.axes == (B, E) and x.dtype == jnp.float32
        np.testing.assert_array_equal(x.array, np.full((2, 3), v))
        assert fn({"batch": 2, "embed": 3}).axes == (B, E)
        assert fn(B, dtype=jnp.int32).dtype == jnp.int32


def test_full_infers_dtype():
    assert hax.full(B, 3).dtype == jnp.int32
    assert hax.full(B, 3.0).dtype == jnp.float32
    assert hax.full(B, True).dtype == jnp.bool_
    assert hax.full((B, E), 2, dtype=jnp.bfloat16).dtype == jnp.bfloat16


def test_like_functions_keep_axes_and_dtype():
    x = hax.named(jnp.arange(6, dtype=jnp.int32).reshape(2, 3), (B, E))
    for y in (hax.zeros_like(x), hax.ones_like(x), hax.full_like(x, 5), hax.empty_like(x)):
        assert y.axes == x.axes and y.dtype == jnp.int32
    assert hax.ones_like(x, dtype=jnp.float32).dtype == jnp.float32
    assert hax.full_like(x, 5).array.tolist() == [[5, 5, 5], [5, 5, 5]]


def test_creation_errors():
    with pytest.raises(
        NamedTypeError, match="zeros: axis 'batch' needs a size; pass an Axis or a \\{name: size\\} dict"
    ):
        hax.zeros("batch")  # pyright: ignore[reportArgumentType]  # wrong type on purpose: pins the runtime error
    with pytest.raises(
        DuplicateAxisError, match="ones: axis 'batch' appears twice in \\{batch: 2, batch: 2\\}"
    ):
        hax.ones((B, B))
    with pytest.raises(NamedTypeError, match="zeros_like: expected a NamedArray, got ndarray"):
        hax.zeros_like(np.zeros(3))  # pyright: ignore[reportArgumentType]  # wrong type on purpose: pins the runtime error


def test_arange_start_step_and_several_axes():
    P = hax.Axis("pos", 5)
    np.testing.assert_array_equal(hax.arange(P).array, np.arange(5))
    assert hax.arange(P).dtype == jnp.int32
    np.testing.assert_array_equal(hax.arange(P, start=2, step=3).array, 2 + 3 * np.arange(5))
    np.testing.assert_array_equal(hax.arange(P, step=0.5).array, 0.5 * np.arange(5))
    assert hax.arange(P, dtype=jnp.float32).dtype == jnp.float32
    x = hax.arange((B, E))
    assert x.axes == (B, E)
    np.testing.assert_array_equal(x.array, np.arange(6).reshape(2, 3))


def test_arange_traced_start():
    P = hax.Axis("pos", 4)
    out = jax.jit(lambda s: hax.arange(P, start=s).array)(jnp.int32(10))
    assert out.tolist() == [10, 11, 12, 13]


def test_spaces_match_jnp():
    X = hax.Axis("x", 5)
    np.testing.assert_allclose(hax.linspace(X, start=0.0, stop=2.0).array, np.linspace(0, 2, 5), rtol=1e-6)
    np.testing.assert_allclose(
        hax.linspace(X, start=0.0, stop=2.0, endpoint=False).array,
        np.linspace(0, 2, 5, endpoint=False),
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        hax.logspace(X, start=0.0, stop=2.0, base=2.0).array, np.logspace(0, 2, 5, base=2.0), rtol=1e-5
    )
    np.testing.assert_allclose(
        hax.geomspace(X, start=1.0, stop=16.0).array, np.geomspace(1, 16, 5), rtol=1e-5
    )


def test_bare_name_means_50_samples():
    x = hax.linspace("x", start=0.0, stop=1.0)
    assert x.axes == (hax.Axis("x", 50),)
    assert hax.logspace("x", start=0.0, stop=1.0).shape == {"x": 50}
    assert hax.geomspace("x", start=1.0, stop=2.0).shape == {"x": 50}


@pytest.mark.parametrize("size", [-1, 2.5, True])
def test_sizes_must_be_non_negative_integers(size):
    with pytest.raises(TypeError) as err:
        hax.zeros(hax.Axis("batch", size))
    assert str(err.value) == f"zeros: axis 'batch' has size {size!r}; a size must be a non-negative integer"
    with pytest.raises(TypeError, match=r"^arange: axis 'batch'"):
        hax.arange(hax.Axis("batch", size))


def test_numpy_integer_sizes_are_accepted():
    assert hax.zeros({"batch": np.int64(2)}).array.shape == (2,)  # type: ignore[arg-type]  # a numpy integer size, which zeros accepts at runtime
