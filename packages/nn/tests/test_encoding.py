import jax.numpy as jnp
import numpy as np
import pytest

import haliax as hax
import haliax.nn as hnn

C = hax.Axis("c", 3)


def test_one_hot_of_a_0d_integer_array():
    out = hnn.one_hot(jnp.array(1, dtype=jnp.int32), C)
    assert out.axes == (C,)
    np.testing.assert_array_equal(out.array, [0.0, 1.0, 0.0])


def test_one_hot_of_a_negative_scalar_counts_from_the_end():
    np.testing.assert_array_equal(hnn.one_hot(jnp.array(-1), C).array, [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(hnn.one_hot(-3, C).array, [1.0, 0.0, 0.0])


def test_one_hot_of_a_named_array_zeroes_out_of_range_rows():
    ids = hax.named(jnp.array([-1, 3, 2]), "i")
    np.testing.assert_array_equal(hnn.one_hot(ids, C).array, [[0, 0, 0], [0, 0, 0], [0, 0, 1]])


def test_one_hot_scalar_errors():
    with pytest.raises(IndexError, match=r"one_hot: class 3 is out of range for axis 'c' of size 3"):
        hnn.one_hot(3, C)
    with pytest.raises(TypeError, match=r"one_hot: expected an integer scalar, got dtype float32"):
        hnn.one_hot(jnp.array(1.0), C)
