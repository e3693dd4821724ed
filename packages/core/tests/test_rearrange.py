import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import haliax as hax
from haliax._src.errors import (
    AxisNotFoundError,
    AxisSizeError,
    DuplicateAxisError,
    NamedTypeError,
    PatternError,
)


def _arr(names, sizes):
    return hax.named(jnp.arange(int(np.prod(sizes)), dtype=jnp.float32).reshape(sizes), names)


X = _arr(("batch", "height", "width", "channel"), (2, 4, 6, 3))
RAW = np.asarray(X.array)


def _names(x):
    return [ax.name for ax in x.axes]


def _prims(f, *args):
    return [eqn.primitive.name for eqn in jax.make_jaxpr(f)(*args).jaxpr.eqns]


def test_rearrange_sequence_transposes():
    out = hax.rearrange(X, ("channel", "batch", "height", "width"))
    assert _names(out) == ["channel", "batch", "height", "width"]
    np.testing.assert_array_equal(out.array, RAW.transpose(3, 0, 1, 2))


def test_rearrange_sequence_with_ellipsis_and_axis_objects():
    out = X.rearrange((hax.Axis("channel", 3), ..., "batch"))
    assert _names(out) == ["channel", "height", "width", "batch"]
    np.testing.assert_array_equal(out.array, RAW.transpose(3, 1, 2, 0))


def test_rearrange_sequence_already_ordered_costs_nothing():
    assert _prims(lambda x: hax.rearrange(x, ("batch", ...)).array, X) == []
    assert _prims(lambda x: hax.rearrange(x, "batch ... -> batch ...").array, X) == []
    assert _prims(lambda x: hax.rearrange(x, ("width", ...)).array, X) == ["transpose"]


def test_rearrange_ordered_pattern_matches_numpy():
    out = hax.rearrange(X, "batch height width channel -> batch channel height width")
    np.testing.assert_array_equal(out.array, RAW.transpose(0, 3, 1, 2))


def test_rearrange_unordered_pattern_is_independent_of_input_order():
    for order in itertools.permutations(("batch", "height", "width", "channel")):
        x = hax.rearrange(X, order)
        out = hax.rearrange(x, "{height width channel batch} -> batch channel height width")
        np.testing.assert_array_equal(out.array, RAW.transpose(0, 3, 1, 2))
        out = hax.rearrange(x, "{channel ...} -> ... channel")
        assert _names(out)[-1] == "channel"


def test_rearrange_bindings_alias_short_names():
    out = hax.rearrange(X, "b h w c -> b c h w", b="batch", h="height", w="width", c="channel")
    assert _names(out) == ["batch", "channel", "height", "width"]
    np.testing.assert_array_equal(out.array, RAW.transpose(0, 3, 1, 2))


def test_rearrange_named_split_then_merge():
    out = hax.rearrange(X, "batch (height: hb hs) width channel -> batch hb width hs channel", hb=2)
    assert out.shape == {"batch": 2, "hb": 2, "width": 6, "hs": 2, "channel": 3}
    np.testing.assert_array_equal(out.array, RAW.reshape(2, 2, 2, 6, 3).transpose(0, 1, 3, 2, 4))
    out = hax.rearrange(X, "{(width: wb ws) ...} -> ... (width: ws wb)", ws=3)
    assert _names(out) == ["batch", "height", "channel", "width"]
    np.testing.assert_array_equal(
        out.array, RAW.reshape(2, 4, 2, 3, 3).transpose(0, 1, 4, 3, 2).reshape(2, 4, 3, 6)
    )


def test_rearrange_anonymous_split_in_ordered_pattern_and_merge_back():
    out = hax.rearrange(X, "batch (hb hs) ... -> batch hs ... hb", hs=2)
    assert _names(out) == ["batch", "hs", "width", "channel", "hb"]
    np.testing.assert_array_equal(out.array, RAW.reshape(2, 2, 2, 6, 3).transpose(0, 2, 3, 4, 1))
    # an unnamed merge of the parts of a split takes the split axis's name back
    out = hax.rearrange(X, "batch (hb hs) ... -> batch ... (hb hs)", hs=2)
    assert out.shape == {"batch": 2, "width": 6, "channel": 3, "height": 4}


def test_rearrange_merge_with_binding_name_and_axis():
    out = hax.rearrange(X, "batch height width channel -> batch (hw: height width) channel")
    assert out.shape == {"batch": 2, "hw": 24, "channel": 3}
    np.testing.assert_array_equal(out.array, RAW.reshape(2, 24, 3))
    assert _prims(
        lambda x: hax.rearrange(x, "... height width channel -> ... (hw: height width) channel").array, X
    ) == ["reshape"]
    out = hax.rearrange(X, "{...} -> (pix: batch height width) channel", pix=hax.Axis("pixels", 48))
    assert out.shape == {"pixels": 48, "channel": 3}


def test_rearrange_split_sizes_from_axis_binding():
    out = hax.rearrange(X, "... (width: a b) channel -> ... b a channel", a=hax.Axis("wa", 3), b="wb")
    assert out.shape == {"batch": 2, "height": 4, "wb": 2, "wa": 3, "channel": 3}


def test_rearrange_unknown_axis_error():
    with pytest.raises(AxisNotFoundError) as e:
        hax.rearrange(X, "{hieght ...} -> ... hieght")
    assert str(e.value) == (
        "rearrange: in '{hieght ...} -> ... hieght' at column 2: axis 'hieght' is not in "
        "{batch: 2, height: 4, width: 6, channel: 3}; did you mean 'height'?"
    )
    with pytest.raises(AxisNotFoundError) as e:
        hax.rearrange(X, ("batch", "chanel", ...))
    assert str(e.value) == (
        "rearrange: axis 'chanel' is not in {batch: 2, height: 4, width: 6, channel: 3}; did you mean 'channel'?"
    )


def test_rearrange_ordered_name_mismatch_error():
    with pytest.raises(PatternError) as e:
        hax.rearrange(X, "b h w c -> b c h w")
    assert str(e.value) == (
        "rearrange: in 'b h w c -> b c h w' at column 1: the array has axis 'batch' at position 0 but the pattern "
        "says 'b'; write 'batch' or bind it with b='batch'"
    )


def test_rearrange_pattern_syntax_errors_point_at_columns():
    with pytest.raises(PatternError) as e:
        hax.rearrange(X, "batch height) -> batch")
    assert str(e.value) == "rearrange: in 'batch height) -> batch' at column 13: unexpected ')'"
    with pytest.raises(PatternError) as e:
        hax.rearrange(X, "batch (height ... -> batch")
    assert str(e.value) == "rearrange: in 'batch (height ... -> batch' at column 7: '(' is never closed"
    with pytest.raises(PatternError) as e:
        hax.rearrange(X, "... batch ... -> batch")
    assert str(e.value) == "rearrange: in '... batch ... -> batch' at column 11: a second '...' on one side"
    with pytest.raises(PatternError) as e:
        hax.rearrange(X, "batch ... -> {batch ...}")
    assert str(e.value) == (
        "rearrange: in 'batch ... -> {batch ...}' at column 14: braces '{ }' are only allowed on the left side"
    )
    with pytest.raises(PatternError) as e:
        hax.rearrange(X, "batch ... $ -> batch")
    assert str(e.value) == "rearrange: in 'batch ... $ -> batch' at column 11: unexpected character '$'"
    with pytest.raises(PatternError, match=r"^rearrange: the pattern 'batch' has no '->'"):
        hax.rearrange(X, "batch")


def test_rearrange_left_side_count_and_coverage_errors():
    with pytest.raises(PatternError) as e:
        hax.rearrange(X, "batch height -> height batch")
    assert str(e.value) == (
        "rearrange: the left side of 'batch height -> height batch' names 2 axes but the array has 4: "
        "{batch: 2, height: 4, width: 6, channel: 3}; add '...' to stand for the rest"
    )
    with pytest.raises(PatternError) as e:
        hax.rearrange(X, "{batch height} -> height batch")
    assert str(e.value) == (
        "rearrange: the left side of '{batch height} -> height batch' does not mention axes 'width', 'channel' of "
        "{batch: 2, height: 4, width: 6, channel: 3}; list them or add '...'"
    )
    with pytest.raises(PatternError) as e:
        hax.rearrange(X, "batch ... -> batch height")
    assert str(e.value) == (
        "rearrange: the right side of 'batch ... -> batch height' leaves out axes 'width', 'channel'; "
        "name them or add '...'"
    )


def test_rearrange_split_size_errors():
    with pytest.raises(AxisSizeError) as e:
        hax.rearrange(X, "... (width: a b) channel -> ... a b channel", a=4)
    assert str(e.value) == (
        "rearrange: cannot split axis 'width' of size 6 into 'a', 'b': the known sizes multiply to 4, "
        "which does not divide 6"
    )
    with pytest.raises(AxisSizeError) as e:
        hax.rearrange(X, "... (width: a b) channel -> ... a b channel", a=4, b=2)
    assert str(e.value) == (
        "rearrange: cannot split axis 'width' of size 6 into 'a', 'b' of sizes [4, 2]: they multiply to 8"
    )
    with pytest.raises(PatternError) as e:
        hax.rearrange(X, "... (width: a b) channel -> ... a b channel")
    assert str(e.value) == (
        "rearrange: in '... (width: a b) channel -> ... a b channel' at column 5: splitting 'width' (size 6) into "
        "'a', 'b' needs the sizes of all but one part; pass e.g. a=<size>"
    )


def test_rearrange_merge_and_duplicate_errors():
    with pytest.raises(PatternError) as e:
        hax.rearrange(X, "... width channel -> ... (width channel)")
    assert str(e.value) == (
        "rearrange: in '... width channel -> ... (width channel)' at column 26: the merged axis needs a name: "
        "write '(name: width channel)'"
    )
    with pytest.raises(DuplicateAxisError) as e:
        hax.rearrange(X, "... (width: batch b) channel -> ... batch b channel", b=2)
    assert str(e.value) == (
        "rearrange: splitting in '... (width: batch b) channel -> ... batch b channel' makes axis 'batch' twice; "
        "give the new axis another name"
    )
    with pytest.raises(DuplicateAxisError) as e:
        hax.rearrange(X, "... width channel -> ... (batch: width channel)")
    assert str(e.value) == (
        "rearrange: the result of '... width channel -> ... (batch: width channel)' would have axis 'batch' twice"
    )


def test_rearrange_sequence_rejects_bindings_and_non_named_input():
    with pytest.raises(NamedTypeError) as e:
        hax.rearrange(X, ("batch", ...), b="batch")
    assert str(e.value) == (
        "rearrange: keyword bindings ['b'] only apply to a pattern string, not a sequence of axes"
    )
    with pytest.raises(NamedTypeError, match=r"^rearrange: expected a NamedArray, got ArrayImpl"):
        hax.rearrange(jnp.ones(3), ("a",))  # type: ignore[arg-type]  # the error under test
