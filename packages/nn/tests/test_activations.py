import jax
import jax.numpy as jnp
import numpy as np
import pytest

import haliax as hax
import haliax.nn as hnn

Batch, Embed = hax.make_axes(batch=2, embed=4)
X = hax.named(jnp.linspace(-3.0, 3.0, 8).reshape(2, 4), (Batch, Embed))

REFERENCES = {
    "celu": jax.nn.celu,
    "elu": jax.nn.elu,
    "gelu": jax.nn.gelu,
    "hard_sigmoid": jax.nn.hard_sigmoid,
    "hard_silu": jax.nn.hard_silu,
    "hard_swish": jax.nn.hard_swish,
    "hard_tanh": jax.nn.hard_tanh,
    "leaky_relu": jax.nn.leaky_relu,
    "log_sigmoid": jax.nn.log_sigmoid,
    "quick_gelu": lambda x: x * jax.nn.sigmoid(1.702 * x),
    "relu": jax.nn.relu,
    "relu6": jax.nn.relu6,
    "relu_squared": lambda x: jnp.square(jax.nn.relu(x)),
    "selu": jax.nn.selu,
    "sigmoid": jax.nn.sigmoid,
    "silu": jax.nn.silu,
    "soft_sign": jax.nn.soft_sign,
    "softplus": jax.nn.softplus,
    "swish": jax.nn.swish,
}


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_activation_matches_jax_nn_and_keeps_axes(name):
    fn = getattr(hnn.activations, name)
    assert getattr(hnn, name) is fn
    out = fn(X)
    assert out.axes == X.axes
    np.testing.assert_allclose(out.array, REFERENCES[name](X.array), rtol=1e-6)
    assert fn.__name__ == name and fn.__module__ == "haliax.nn.activations" and fn.__doc__


def test_activations_pass_raw_arrays_through():
    np.testing.assert_allclose(hnn.relu(jnp.array([-1.0, 2.0])), [0.0, 2.0])


def test_glu_halves_the_axis():
    out = hnn.glu(X, Embed)
    assert out.axes == (Batch, Embed.resize(2))
    np.testing.assert_allclose(out.array, jax.nn.glu(X.array, axis=1), rtol=1e-6)


def test_glu_odd_axis_raises():
    with pytest.raises(ValueError, match=r"glu: axis 'embed' has odd size 3"):
        hnn.glu(hax.named(jnp.ones(3), "embed"), "embed")
