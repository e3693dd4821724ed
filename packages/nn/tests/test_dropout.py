import equinox as eqx
import jax
import numpy as np
import pytest

import haliax as hax
import haliax.nn as hnn

Batch, Embed = hax.make_axes(batch=4, embed=64)
x = hax.ones((Batch, Embed))


def test_dropout_function_is_the_package_attribute():
    assert callable(hnn.dropout) and hnn.dropout.__name__ == "dropout"


def test_dropout_scales_kept_values_and_drops_about_p():
    out = hnn.dropout(x, 0.25, inference=False, key=jax.random.PRNGKey(0))
    vals = np.unique(np.asarray(out.array))
    np.testing.assert_allclose(vals, [0.0, 1 / 0.75], rtol=1e-6)
    assert 0.15 < float((out.array == 0).mean()) < 0.35


def test_dropout_inference_and_zero_rate_are_identity():
    assert hnn.dropout(x, 0.5, inference=True) is x
    assert hnn.Dropout(0.0)(x, key=jax.random.PRNGKey(0)) is x
    layer = eqx.nn.inference_mode(hnn.Dropout(0.5))
    assert layer(x) is x


def test_dropout_broadcast_axes_share_the_mask():
    out = hnn.Dropout(0.5, broadcast_axes=Batch)(x, key=jax.random.PRNGKey(0))
    arr = np.asarray(out.array)
    assert (arr == arr[0:1]).all()


def test_dropout_without_key_raises():
    with pytest.raises(RuntimeError, match=r"dropout: pdrop > 0 and inference=False need a PRNG key"):
        hnn.Dropout(0.5)(x)
    with pytest.raises(ValueError, match=r"dropout: axis 'heads' not found"):
        hnn.dropout(x, 0.5, "heads", inference=False, key=jax.random.PRNGKey(0))


def test_dropout_is_active_only_when_training_with_a_positive_rate():
    assert hnn.Dropout(0.1).is_active
    assert not hnn.Dropout(0.1, inference=True).is_active
    assert not hnn.Dropout(0.0).is_active


def test_dropout_of_one_gives_zeros_without_a_key():
    out = hnn.dropout(x, 1.0, inference=False)
    assert out.axes == x.axes
    np.testing.assert_array_equal(out.array, 0.0)


@pytest.mark.parametrize("pdrop", [-0.1, 1.5])
def test_dropout_rate_outside_zero_one_is_an_error(pdrop):
    with pytest.raises(ValueError, match=rf"dropout: pdrop .* must be in \[0, 1\], got {pdrop}"):
        hnn.dropout(x, pdrop, inference=False, key=jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match=r"Dropout: pdrop .* must be in \[0, 1\]"):
        hnn.Dropout(pdrop)
