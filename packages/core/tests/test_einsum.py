import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import haliax as hax
from haliax._src.errors import AxisNotFoundError, AxisSizeError, PatternError


def _arr(names, sizes, seed=0):
    rng = np.random.default_rng(seed)
    return hax.named(jnp.asarray(rng.standard_normal(sizes), dtype=jnp.float32), names)


def _names(x):
    return [ax.name for ax in x.axes]


Q = _arr(("b", "q", "h", "d"), (2, 3, 4, 5))
K = _arr(("b", "k", "h", "d"), (2, 6, 4, 5), seed=1)
EXPECTED = np.einsum("bqhd,bkhd->bhqk", Q.array, K.array)


def test_einsum_ordered_form_matches_jnp():
    out = hax.einsum("b q h d, b k h d -> b h q k", Q, K)
    assert _names(out) == ["b", "h", "q", "k"]
    np.testing.assert_allclose(out.array, EXPECTED, rtol=1e-5)


def test_einsum_unordered_form_is_independent_of_operand_order():
    for order in itertools.permutations(("b", "q", "h", "d")):
        q = hax.rearrange(Q, order)
        out = hax.einsum("{d h q k b} -> b h q k", q, K)
        assert _names(out) == ["b", "h", "q", "k"]
        np.testing.assert_allclose(out.array, EXPECTED, rtol=1e-5)


def test_einsum_output_only_form_contracts_everything_else():
    out = hax.einsum("-> b h q k", Q, K)
    np.testing.assert_allclose(out.array, EXPECTED, rtol=1e-5)
    out = hax.einsum("-> b", Q, K)
    np.testing.assert_allclose(out.array, np.einsum("bqhd,bkhd->b", Q.array, K.array), rtol=1e-4)


def test_einsum_ellipsis_in_output_keeps_unnamed_axes():
    out = hax.einsum("{d ...} -> ...", Q, K)
    assert _names(out) == ["b", "q", "h", "k"]
    np.testing.assert_allclose(out.array, np.einsum("bqhd,bkhd->bqhk", Q.array, K.array), rtol=1e-5)
    out = hax.einsum("-> k ...", Q, K)
    assert _names(out) == ["k", "b", "q", "h", "d"]
    np.testing.assert_allclose(out.array, np.einsum("bqhd,bkhd->kbqhd", Q.array, K.array), rtol=1e-5)


def test_einsum_ordered_ellipsis_stands_for_the_rest_of_an_operand():
    out = hax.einsum("b ... d, b k h d -> b h ... k", Q, K)
    assert _names(out) == ["b", "h", "q", "k"]
    np.testing.assert_allclose(out.array, EXPECTED, rtol=1e-5)


def test_einsum_aliases_map_equation_names_to_axes():
    x = _arr(("batch", "embed"), (2, 3))
    w = _arr(("embed", "mlp"), (3, 4), seed=1)
    out = hax.einsum("B E, E M -> B M", x, w, B="batch", E=hax.Axis("embed", 3), M="mlp")
    assert _names(out) == ["batch", "mlp"]
    np.testing.assert_allclose(out.array, np.asarray(x.array) @ np.asarray(w.array), rtol=1e-5)


def test_einsum_single_operand_sums_and_transposes():
    x = _arr(("a", "b", "c"), (2, 3, 4))
    out = hax.einsum("a b c -> c a", x)
    np.testing.assert_allclose(out.array, np.einsum("abc->ca", x.array), rtol=1e-5)


def test_einsum_three_operands():
    x = _arr(("a", "b"), (2, 3))
    y = _arr(("b", "c"), (3, 4), seed=1)
    z = _arr(("c", "d"), (4, 5), seed=2)
    out = hax.einsum("a b, b c, c d -> a d", x, y, z)
    np.testing.assert_allclose(out.array, np.einsum("ab,bc,cd->ad", x.array, y.array, z.array), rtol=1e-4)


def test_einsum_lowers_to_one_dot_general():
    jaxpr = jax.make_jaxpr(lambda q, k: hax.einsum("{b q k h d} -> b h q k", q, k).array)(Q, K)
    prims = [eqn.primitive.name for eqn in jaxpr.jaxpr.eqns]
    assert prims == ["dot_general"]


def test_einsum_unknown_axis_error():
    with pytest.raises(AxisNotFoundError) as e:
        hax.einsum("{b q k h dd} -> b h q k", Q, K)
    assert str(e.value) == (
        "einsum: in '{b q k h dd} -> b h q k' at column 10: axis 'dd' is not in any operand: "
        "{b: 2, q: 3, h: 4, d: 5}, {b: 2, k: 6, h: 4, d: 5}; did you mean 'd'?"
    )


def test_einsum_unknown_alias_error():
    with pytest.raises(AxisNotFoundError) as e:
        hax.einsum("-> x", Q, x="batch")
    assert str(e.value) == (
        "einsum: in '-> x' at column 4: axis 'batch' (alias of 'x') is not in any operand: {b: 2, q: 3, h: 4, d: 5}"
    )


def test_einsum_ordered_name_mismatch_error_suggests_alias():
    with pytest.raises(PatternError) as e:
        hax.einsum("b q h d, b kk h d -> b h q", Q, K)
    assert str(e.value) == (
        "einsum: in 'b q h d, b kk h d -> b h q' at column 12: operand 1 {b: 2, k: 6, h: 4, d: 5} has axis 'k' "
        "at position 1 but the equation says 'kk'; write 'k' or pass kk='k'"
    )


def test_einsum_unordered_group_must_cover_every_axis():
    with pytest.raises(PatternError) as e:
        hax.einsum("{b q h} -> b", Q)
    assert str(e.value) == (
        "einsum: in '{b q h} -> b' at column 1: operand 0 {b: 2, q: 3, h: 4, d: 5} has axis 'd', "
        "which the group does not list; list it or add '...'"
    )


def test_einsum_pattern_errors():
    with pytest.raises(PatternError, match=r"^einsum: the pattern 'b q' has no '->'"):
        hax.einsum("b q", Q)
    with pytest.raises(PatternError) as e:
        hax.einsum("b (q) h d -> b", Q)
    assert str(e.value) == "einsum: in 'b (q) h d -> b' at column 3: unexpected '('"
    with pytest.raises(PatternError) as e:
        hax.einsum("b q h d -> b", Q, K)
    assert str(e.value) == (
        "einsum: in 'b q h d -> b' at column 1: 1 operand specs for 2 arrays (one spec an array, comma separated)"
    )
    with pytest.raises(PatternError) as e:
        hax.einsum("b q h d -> b b", Q)
    assert str(e.value) == "einsum: in 'b q h d -> b b' at column 12: the output names axis 'b' twice"


def test_einsum_size_mismatch_error():
    k = _arr(("b", "k", "h", "d"), (2, 6, 4, 7))
    with pytest.raises(AxisSizeError, match=r"^einsum: axis 'd' has size 5 in one place and 7 in another"):
        hax.einsum("-> b", Q, k)
