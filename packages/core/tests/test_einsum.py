import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import haliax as hax
from haliax._src.base.errors import AxisNotFoundError, AxisSizeError, PatternError


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


def test_einsum_unordered_group_keeps_the_axes_it_does_not_list():
    # only 'd' is listed: it is contracted, the rest are kept in order of first appearance
    out = hax.einsum("{d} -> ", Q, K)
    assert _names(out) == ["b", "q", "h", "k"]
    np.testing.assert_allclose(out.array, np.einsum("bqhd,bkhd->bqhk", Q.array, K.array), rtol=1e-5)
    # an empty group contracts nothing; the output's names go last
    out = hax.einsum("{} -> q", Q, K)
    assert _names(out) == ["b", "h", "d", "k", "q"]
    # with '...' in the group, everything the output does not name is contracted
    out = hax.einsum("{...} -> h", Q, K)
    np.testing.assert_allclose(out.array, np.einsum("bqhd,bkhd->h", Q.array, K.array), rtol=1e-4)


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


def test_einsum_output_may_hold_several_ellipses():
    out = hax.einsum("{} -> ... k ... q", Q, K)
    assert _names(out) == ["b", "h", "d", "k", "q"]
    out = hax.einsum("-> d ... q ...", Q, K)
    assert _names(out) == ["d", "b", "q", "h", "k"]


def test_einsum_ordered_labels_are_bound_by_position():
    # the labels need not be the axis names: each stands for the axis at its place
    out = hax.einsum("i j k l, i m k l -> i k j m", Q, K)
    assert _names(out) == ["b", "h", "q", "k"]
    np.testing.assert_allclose(out.array, EXPECTED, rtol=1e-5)
    out = hax.einsum("x ... y, x ... y -> ... x", Q, K)
    assert _names(out) == ["q", "h", "k", "b"]
    np.testing.assert_allclose(out.array, np.einsum("bqhd,bkhd->qhkb", Q.array, K.array), rtol=1e-5)


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
        "einsum: in '{b q k h dd} -> b h q k' at column 10: Axis dd not present: 'dd' is not found in any of the "
        "input arrays {b: 2, q: 3, h: 4, d: 5}, {b: 2, k: 6, h: 4, d: 5}; did you mean 'd'?"
    )


def test_einsum_unknown_alias_error():
    with pytest.raises(AxisNotFoundError) as e:
        hax.einsum("-> x", Q, x="batch")
    assert str(e.value) == (
        "einsum: in '-> x' at column 4: Axis batch not present: 'batch' (alias x='batch') is not found in any of "
        "the input arrays {b: 2, q: 3, h: 4, d: 5}"
    )


def test_einsum_alias_size_is_checked():
    with pytest.raises(AxisSizeError, match=r"^einsum: in '-> x' at column 4: Size mismatch for axis 'b': "):
        hax.einsum("-> x", Q, x=hax.Axis("b", 7))


def test_einsum_unused_alias_error():
    with pytest.raises(PatternError, match=r"Unused aliases from kwargs: x$"):
        hax.einsum("-> b q", Q, x="b")
    with pytest.raises(PatternError, match=r"Axis alias z not used"):
        hax.einsum("{b q} -> b", Q, z="q")


def test_einsum_label_bound_to_two_axes_error():
    with pytest.raises(PatternError) as e:
        hax.einsum("a b c d, a b c d -> a", Q, K)
    assert str(e.value) == (
        "einsum: in 'a b c d, a b c d -> a' at column 12: Alias b is assigned to more than one axis: 'q' and 'k'; "
        "labels are bound by position, so each label must stand for the same axis in every operand"
    )
    with pytest.raises(PatternError, match=r"the keyword says 'batch', but the operand has axis \{b: 2\}"):
        hax.einsum("i j k l, i x k l -> ", Q, K, i="batch")


def test_einsum_two_labels_for_one_axis_error():
    # jnp.einsum would sum each label separately; by name they are one axis
    with pytest.raises(PatternError) as e:
        hax.einsum("a b c d, a e c f -> a c b e", Q, K)
    assert str(e.value) == (
        "einsum: in 'a b c d, a e c f -> a c b e': labels 'd' and 'f' both stand for axis 'd'; "
        "use one label for one axis"
    )


def test_einsum_output_label_must_be_an_input_label():
    with pytest.raises(
        AxisNotFoundError, match=r"at column 14: Axis name 'z' does not occur on the left hand side"
    ):
        hax.einsum("b q h d -> b z", Q)


def test_einsum_pattern_errors():
    with pytest.raises(
        PatternError, match=r"^einsum: in 'b q' at column 4: Unexpected end of string: expected '->'"
    ):
        hax.einsum("b q", Q)
    with pytest.raises(PatternError) as e:
        hax.einsum("b (q) h d -> b", Q)
    assert str(e.value) == (
        "einsum: in 'b (q) h d -> b' at column 3: Parenthesized axes are not supported in the input of an einsum; "
        "name each axis on its own"
    )
    with pytest.raises(PatternError) as e:
        hax.einsum("b q h d -> b", Q, K)
    assert str(e.value) == (
        "einsum: in 'b q h d -> b': the number of input specs (1) does not match number of arrays (2); "
        "write one comma-separated spec an array"
    )
    with pytest.raises(PatternError) as e:
        hax.einsum("b q h d -> b b", Q)
    assert (
        str(e.value)
        == "einsum: in 'b q h d -> b b' at column 14: axis 'b' occurs multiple times in the output"
    )
    with pytest.raises(PatternError) as e:
        hax.einsum("i j, k l -> i", Q, K)
    assert str(e.value) == (
        "einsum: in 'i j, k l -> i' at column 1: Mismatched number of axes: operand 0 {b: 2, q: 3, h: 4, d: 5} "
        "has 4 axes but its spec names 2; add '...' to stand for the rest"
    )
    with pytest.raises(PatternError, match=r"an unordered '\{ \}' group must be the only input spec"):
        hax.einsum("b q h d, {b} -> b", Q, K)


def test_einsum_size_mismatch_error():
    k = _arr(("b", "k", "h", "d"), (2, 6, 4, 7))
    with pytest.raises(AxisSizeError, match=r"^einsum: axis 'd' has size 5 in one place and 7 in another"):
        hax.einsum("-> b", Q, k)


def test_einsum_custom_dot_general_is_used():
    calls = []

    def dg(*args, **kwargs):
        calls.append(1)
        return jax.lax.dot_general(*args, **kwargs)

    hax.einsum("{d} -> b h q k", Q, K, _dot_general=dg)
    assert calls
