import jax
import jax.numpy as jnp
import numpy as np
import pytest

import haliax as hax
from haliax import Axis

B, E = Axis("batch", 3), Axis("embed", 4)
KEY = jax.random.PRNGKey(7)

# (haliax call, the jax.random call it must equal bit for bit)
CASES = {
    "normal": (lambda k, s: hax.random.normal(k, s), lambda k, sh: jax.random.normal(k, sh)),
    "uniform": (
        lambda k, s: hax.random.uniform(k, s, minval=-1.0, maxval=2.0),
        lambda k, sh: jax.random.uniform(k, sh, minval=-1.0, maxval=2.0),
    ),
    "bernoulli": (
        lambda k, s: hax.random.bernoulli(k, s, 0.3),
        lambda k, sh: jax.random.bernoulli(k, 0.3, sh),
    ),
    "randint": (lambda k, s: hax.random.randint(k, s, 0, 10), lambda k, sh: jax.random.randint(k, sh, 0, 10)),
    "poisson": (lambda k, s: hax.random.poisson(k, s, 2.0), lambda k, sh: jax.random.poisson(k, 2.0, sh)),
    "exponential": (lambda k, s: hax.random.exponential(k, s), lambda k, sh: jax.random.exponential(k, sh)),
    "gamma": (lambda k, s: hax.random.gamma(k, s, 2.0), lambda k, sh: jax.random.gamma(k, 2.0, sh)),
    "loggamma": (lambda k, s: hax.random.loggamma(k, s, 0.5), lambda k, sh: jax.random.loggamma(k, 0.5, sh)),
    "beta": (lambda k, s: hax.random.beta(k, s, 2.0, 3.0), lambda k, sh: jax.random.beta(k, 2.0, 3.0, sh)),
    "laplace": (lambda k, s: hax.random.laplace(k, s), lambda k, sh: jax.random.laplace(k, sh)),
    "cauchy": (lambda k, s: hax.random.cauchy(k, s), lambda k, sh: jax.random.cauchy(k, sh)),
    "logistic": (lambda k, s: hax.random.logistic(k, s), lambda k, sh: jax.random.logistic(k, sh)),
    "gumbel": (lambda k, s: hax.random.gumbel(k, s), lambda k, sh: jax.random.gumbel(k, sh)),
    "rademacher": (
        lambda k, s: hax.random.rademacher(k, s),
        lambda k, sh: jax.random.rademacher(k, sh, dtype=float),
    ),
    "truncated_normal": (
        lambda k, s: hax.random.truncated_normal(k, s, -1.0, 1.0),
        lambda k, sh: jax.random.truncated_normal(k, -1.0, 1.0, sh),
    ),
    "t": (lambda k, s: hax.random.t(k, s, 3.0), lambda k, sh: jax.random.t(k, 3.0, sh)),
    "pareto": (lambda k, s: hax.random.pareto(k, s, 2.0), lambda k, sh: jax.random.pareto(k, 2.0, sh)),
    "weibull_min": (
        lambda k, s: hax.random.weibull_min(k, s, 1.0, 2.0),
        lambda k, sh: jax.random.weibull_min(k, 1.0, 2.0, sh),
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_sampler_is_bit_identical_to_jax_random(name):
    ours, ref = CASES[name]
    # One jitted program computing both: one compile instead of two slow eager runs.
    out, expected = jax.jit(lambda k: (ours(k, (B, E)), ref(k, (3, 4))))(KEY)
    assert out.axes == (B, E)
    np.testing.assert_array_equal(out.array, expected)


def test_shape_may_be_one_axis_or_a_dict():
    assert hax.random.normal(KEY, E).axes == (E,)
    out = hax.random.normal(KEY, {"batch": 3, "embed": 4})
    assert out.axes == (B, E)
    np.testing.assert_array_equal(out.array, jax.random.normal(KEY, (3, 4)))


def test_named_parameters_broadcast_by_name():
    lo = hax.named(jnp.arange(4.0), "embed")
    out = hax.random.uniform(KEY, (B, E), minval=lo, maxval=lo + 1.0)
    ref = jax.random.uniform(
        KEY, (3, 4), minval=jnp.broadcast_to(jnp.arange(4.0), (3, 4)), maxval=jnp.arange(1.0, 5.0)[None, :]
    )
    np.testing.assert_array_equal(out.array, ref)
    p = hax.named(jnp.array([0.0, 1.0, 0.5]), "batch")
    draws = hax.random.bernoulli(KEY, (E, B), p)
    assert draws.axes == (E, B)
    assert not draws.array[:, 0].any() and draws.array[:, 1].all()


def test_parameter_with_extra_axes_is_an_error():
    p = hax.named(jnp.ones(5), "vocab")
    with pytest.raises(ValueError) as e:
        hax.random.bernoulli(KEY, (B, E), p)
    assert str(e.value) == (
        "bernoulli: the parameter {vocab: 5} has axes ['vocab'] that the requested shape "
        "{batch: 3, embed: 4} lacks; add them to the shape or reduce them away"
    )


def test_unsized_axis_is_an_error():
    with pytest.raises(TypeError) as e:
        hax.random.normal(KEY, ("batch",))  # type: ignore[arg-type]  # the error under test
    assert str(e.value) == "normal: axis 'batch' needs a size to sample; pass hax.Axis('batch', n)"


def test_ball_adds_the_vector_axis_last():
    D = Axis("dim", 5)
    out = hax.random.ball(KEY, B, D, p=1.0)
    assert out.axes == (B, D)
    np.testing.assert_array_equal(out.array, jax.random.ball(KEY, 5, 1.0, (3,)))


def test_choice_replaces_the_axis_by_the_shape():
    a = hax.named(jnp.arange(12.0).reshape(3, 4), ("batch", "vocab"))
    S = Axis("sample", 6)
    out = hax.random.choice(KEY, S, a, "vocab")
    assert out.axes == (B, S)
    np.testing.assert_array_equal(out.array, jax.random.choice(KEY, a.array, (6,), axis=1))
    p = hax.named(jnp.array([0.0, 0.0, 1.0, 0.0]), "vocab")
    picked = hax.random.choice(KEY, S, a, "vocab", p=p)
    np.testing.assert_array_equal(picked.array, jnp.broadcast_to(a.array[:, 2:3], (3, 6)))
    with pytest.raises(
        ValueError, match=r"choice: axis 'vcab' not found in \{batch: 3, vocab: 4\}; did you mean 'vocab'\?"
    ):
        hax.random.choice(KEY, S, a, "vcab")


def test_categorical_samples_along_the_axis():
    logits = hax.named(jnp.log(jnp.array([[0.1, 0.9, 1e-9], [1e-9, 1e-9, 1.0]])), ("batch", "vocab"))
    out = hax.random.categorical(KEY, logits, "vocab")
    assert out.axes == (Axis("batch", 2),)
    np.testing.assert_array_equal(out.array, jax.random.categorical(KEY, logits.array, axis=1))
    S = Axis("sample", 5)
    many = hax.random.categorical(KEY, logits, "vocab", shape=(S, Axis("batch", 2)))
    assert many.axes == (S, Axis("batch", 2))
    assert (many.array[:, 1] == 2).all()


def test_permutation_along_an_axis_and_independent():
    x = hax.named(jnp.arange(12).reshape(3, 4), ("batch", "pos"))
    out = hax.random.permutation(KEY, x, "pos")
    np.testing.assert_array_equal(out.array, jax.random.permutation(KEY, x.array, axis=1))
    ind = hax.random.permutation(KEY, x, "pos", independent=True)
    np.testing.assert_array_equal(ind.array, jax.random.permutation(KEY, x.array, axis=1, independent=True))
    np.testing.assert_array_equal(jnp.sort(ind.array, axis=1), x.array)


def test_samplers_work_under_jit():
    f = jax.jit(lambda k: hax.random.normal(k, (B, E)))
    np.testing.assert_array_equal(f(KEY).array, jax.random.normal(KEY, (3, 4)))
