import jax
import jax.numpy as jnp
import numpy as np
import pytest

import haliax as hax
from haliax.poly import DEFAULT_POLY_AXIS_NAME

D = hax.Axis("coef", 3)
P = hax.named(jnp.array([2.0, -3.0, 1.0]), D)
Q = hax.named(jnp.array([1.0, 4.0]), "coef")


def _close(a, b):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-4)


def test_arithmetic_keeps_the_coefficient_axis_name():
    for op, fn in [(hax.polyadd, jnp.polyadd), (hax.polysub, jnp.polysub), (hax.polymul, jnp.polymul)]:
        out = op(P, Q)
        ref = fn(P.array, Q.array)
        assert out.axes == (hax.Axis("coef", ref.shape[0]),)
        _close(out.array, ref)
    q, r = hax.polydiv(P, Q)
    rq, rr = jnp.polydiv(P.array, Q.array)
    _close(q.array, rq)
    _close(r.array, rr)
    assert q.axes[0].name == r.axes[0].name == "coef"


def test_calculus():
    assert hax.polyder(P, 2).axes == (hax.Axis("coef", 1),)
    _close(hax.polyder(P).array, jnp.polyder(P.array))
    _close(hax.polyint(P, 2, k=jnp.array([1.0, 2.0])).array, jnp.polyint(P.array, 2, k=jnp.array([1.0, 2.0])))


def test_raw_coefficients_get_the_default_axis_name():
    out = hax.polyadd(jnp.array([1.0, 2.0]), [3.0])
    assert out.axes == (hax.Axis(DEFAULT_POLY_AXIS_NAME, 2),)
    assert DEFAULT_POLY_AXIS_NAME == "degree"


def test_polyval_broadcasts_by_name():
    x = hax.named(jnp.array([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]), ("batch", "x"))
    out = hax.polyval(P, x)
    assert out.axes == x.axes
    _close(out.array, jnp.polyval(P.array, x.array))
    # a batch of polynomials along "batch": coefficient axis given explicitly, axes in any order
    ps = hax.named(jnp.array([[1.0, 1.0], [0.0, 2.0], [3.0, 0.0]]), (D, "batch"))
    out = hax.polyval(ps, x, axis="coef")
    assert out.axes == x.axes
    for i in range(2):
        _close(out.array[i], jnp.polyval(ps.array[:, i], x.array[i]))
    assert float(hax.polyval(P, 2.0)) == pytest.approx(3.0)


def test_polyval_under_jit():
    x = hax.named(jnp.linspace(0.0, 1.0, 4), "x")
    _close(jax.jit(hax.polyval)(P, x).array, jnp.polyval(P.array, x.array))


def test_poly_roots_and_trim_zeros():
    roots = hax.named(jnp.array([1.0, 2.0]), "root")
    coeffs = hax.poly(roots)
    assert coeffs.axes == (hax.Axis("root", 3),)  # the roots' axis name, resized (as in Haliax)
    assert hax.poly(roots.array).axes == (hax.Axis("degree", 3),)
    _close(coeffs.array, jnp.poly(roots.array))
    found = hax.roots(coeffs, new_axis="root")
    assert found.axes == (hax.Axis("root", 2),)
    _close(jnp.sort(found.array.real), roots.array)
    assert hax.roots(P).axes == (hax.Axis("coef", 2),)
    trimmed = hax.trim_zeros(hax.named(jnp.array([0.0, 1.0, 0.0, 2.0, 0.0]), "coef"), "f")
    assert trimmed.axes == (hax.Axis("coef", 4),) and trimmed.array.tolist() == [1.0, 0.0, 2.0, 0.0]


def test_polyfit_single_and_batched():
    x = hax.named(jnp.linspace(-1.0, 1.0, 6), "sample")
    y = 3 * x * x - 1
    coef = hax.polyfit(x, y, 2)
    assert coef.axes == (hax.Axis("sample", 3),)  # x's axis name, resized (as in Haliax)
    assert hax.polyfit(x.array, y.array, 2).axes == (hax.Axis("degree", 3),)
    _close(coef.array, jnp.array([3.0, 0.0, -1.0]))
    ys = hax.named(jnp.stack([y.array, 2 * y.array]), ("series", "sample"))
    batch = hax.polyfit(x, ys, 2, new_axis="c")
    assert batch.axes == (hax.Axis("c", 3), hax.Axis("series", 2))
    _close(batch.array, jnp.polyfit(x.array, ys.array.T, 2))
    _, cov = hax.polyfit(x, y + 0.01 * hax.sin(10 * x), 1, cov=True)
    assert cov.axes == (hax.Axis("sample", 2), hax.Axis("sample_cov", 2))
    full = hax.polyfit(x, y, 2, full=True)
    assert len(full) == 5 and full[0].axes == coef.axes


def test_vander_matches_jnp():
    x = hax.named(jnp.array([1.0, 2.0, 3.0]), "x")
    v = hax.vander(x, 4, increasing=True)
    assert v.axes == (hax.Axis("x", 3), hax.Axis("degree", 4))
    _close(v.array, jnp.vander(x.array, 4, increasing=True))
    grid = hax.named(jnp.arange(6.0).reshape(2, 3), ("a", "b"))
    vg = hax.vander(grid, 3, new_axis="pow")
    assert vg.axes == (*grid.axes, hax.Axis("pow", 3))
    _close(vg.array[1], jnp.vander(grid.array[1], 3))


def test_arithmetic_takes_the_name_of_the_first_named_input():
    out = hax.polyadd(jnp.array([1.0, 2.0]), Q)
    assert out.axes == (hax.Axis("coef", 2),)
    q, r = hax.polydiv(jnp.array([1.0, 3.0, 2.0]), Q)
    assert q.axes[0].name == r.axes[0].name == "coef"


def test_vander_takes_the_degree_axis_or_its_name():
    x = hax.named(jnp.array([1.0, 2.0, 3.0]), "x")
    v = hax.vander(x, hax.Axis("power", 4))
    assert v.axes == (hax.Axis("x", 3), hax.Axis("power", 4))
    _close(v.array, jnp.vander(x.array, 4))
    assert hax.vander(x, "power").axes == (hax.Axis("x", 3), hax.Axis("power", 3))


def test_poly_errors():
    two = hax.named(jnp.ones((2, 3)), ("batch", "coef"))
    with pytest.raises(ValueError) as err:
        hax.polyder(two)
    assert str(err.value) == (
        "polyder: expected a coefficient array with one axis, got {batch: 2, coef: 3}; "
        "select a single polynomial first (e.g. with hax.vmap over the other axes)"
    )
    with pytest.raises(
        TypeError,
        match=r"^vander: pass the number of powers \(or a sized Axis\) when x has more than one axis, "
        r"got \{batch: 2, coef: 3\}$",
    ):
        hax.vander(two)
    x = hax.named(jnp.ones(3), "sample")
    with pytest.raises(ValueError, match=r"^polyfit: axis 'sample' not found in \{batch: 2, coef: 3\}"):
        hax.polyfit(x, two, 1)
