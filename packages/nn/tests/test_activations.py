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


LEAN = ["celu", "elu", "gelu", "hard_silu", "hard_swish", "log_sigmoid", "quick_gelu", "relu_squared",
        "selu", "silu", "soft_sign", "softplus", "swish"]  # fmt: skip


@pytest.mark.parametrize("name", LEAN)
def test_lean_derivatives_equal_jax_nn_to_every_order(name):
    fn, ref = getattr(hnn.activations, name), REFERENCES[name]
    x = jnp.linspace(-3.1, 2.9, 16)  # no point on a kink
    grad = jax.vmap(jax.grad(lambda v: fn(v)))
    np.testing.assert_allclose(grad(x), jax.vmap(jax.grad(ref))(x), rtol=1e-5, atol=1e-6)
    second = jax.vmap(jax.grad(jax.grad(lambda v: fn(v))))
    np.testing.assert_allclose(second(x), jax.vmap(jax.grad(jax.grad(ref)))(x), rtol=1e-4, atol=1e-5)
    _, tangent = jax.jvp(lambda v: fn(v), (x,), (jnp.full_like(x, 0.5),))
    np.testing.assert_allclose(tangent, 0.5 * jax.vmap(jax.grad(ref))(x), rtol=1e-5, atol=1e-6)
    named = jax.grad(lambda a: fn(a).sum().scalar())(X)
    np.testing.assert_allclose(named.array, jax.grad(lambda a: ref(a).sum())(X.array), rtol=1e-5, atol=1e-6)


def _scan_residuals(act) -> list[tuple[int, ...]]:
    """Shapes the forward scan of a 3-layer MLP stack keeps for its backward pass."""

    def layer(h, w):
        return h + act(h @ w[0]) @ w[1], None

    def loss(ws, x):
        return jax.lax.scan(layer, x, ws)[0].sum()

    ws = (jnp.ones((3, 8, 32)), jnp.ones((3, 32, 8)))
    jaxpr = jax.make_jaxpr(jax.grad(loss))(ws, jnp.ones((4, 8)))
    forward = next(e for e in jaxpr.jaxpr.eqns if e.primitive.name == "scan")
    return [v.aval.shape for v in forward.outvars[1:]]


def test_gelu_keeps_one_tensor_for_the_backward_pass_not_six():
    wide = (3, 4, 32)  # a hidden-width tensor per layer
    assert _scan_residuals(jax.nn.gelu).count(wide) == 6
    # one for gelu (its slope), one for the next matmul (gelu's output)
    assert _scan_residuals(hnn.gelu).count(wide) == 2


def test_lean_activation_options_and_fallbacks():
    x = jnp.linspace(-2.0, 2.0, 5)
    np.testing.assert_allclose(hnn.gelu(x, approximate=False), jax.nn.gelu(x, approximate=False), rtol=1e-6)
    np.testing.assert_allclose(
        jax.grad(lambda v: hnn.elu(v, alpha=0.5).sum())(x), jax.grad(lambda v: jax.nn.elu(v, 0.5).sum())(x)
    )
    alpha = jnp.asarray(0.5)  # an array option: the plain jax.nn function
    np.testing.assert_allclose(hnn.celu(x, alpha), jax.nn.celu(x, alpha))
    ints = jnp.arange(-2, 3)
    np.testing.assert_array_equal(hnn.relu_squared(ints), jnp.square(jnp.maximum(ints, 0)))
