import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import haliax as hax
from haliax._src.base.errors import (
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


def test_rearrange_bindings_name_the_labels():
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


def test_rearrange_ordered_labels_are_bound_by_position():
    out = hax.rearrange(X, "b h w c -> b c h w")
    assert _names(out) == ["batch", "channel", "height", "width"]
    np.testing.assert_array_equal(out.array, RAW.transpose(0, 3, 1, 2))
    out = hax.rearrange(X, "b ... c -> c ... b")
    assert _names(out) == ["channel", "height", "width", "batch"]
    np.testing.assert_array_equal(out.array, RAW.transpose(3, 1, 2, 0))


def test_rearrange_anonymous_split_in_ordered_pattern():
    out = hax.rearrange(X, "batch (hb hs) ... -> batch hs ... hb", hs=2)
    assert _names(out) == ["batch", "hs", "width", "channel", "hb"]
    np.testing.assert_array_equal(out.array, RAW.reshape(2, 2, 2, 6, 3).transpose(0, 2, 3, 4, 1))


def test_rearrange_unordered_group_leaves_unlisted_axes_alone():
    out = hax.rearrange(X, "{channel batch} -> channel ... batch")
    assert _names(out) == ["channel", "height", "width", "batch"]
    out = hax.rearrange(X, "{(width: wb ws)} -> ... ws wb", ws=3)
    assert _names(out) == ["batch", "height", "channel", "ws", "wb"]
    np.testing.assert_array_equal(out.array, RAW.reshape(2, 4, 2, 3, 3).transpose(0, 1, 4, 3, 2))


def test_rearrange_merge_with_binding_name_and_axis():
    out = hax.rearrange(X, "batch height width channel -> batch (hw: height width) channel")
    assert out.shape == {"batch": 2, "hw": 24, "channel": 3}
    np.testing.assert_array_equal(out.array, RAW.reshape(2, 24, 3))
    assert _prims(
        lambda x: hax.rearrange(x, "... height width channel -> ... (hw: height width) channel").array, X
    ) == ["reshape"]
    out = hax.rearrange(
        X, "{batch height width} -> (pix: batch height width) ...", pix=hax.Axis("pixels", 48)
    )
    assert out.shape == {"pixels": 48, "channel": 3}
    out = hax.rearrange(X, "b ... c -> (bb: b) ... c")
    assert _names(out) == ["bb", "height", "width", "channel"]


def test_rearrange_split_sizes_from_axis_binding():
    out = hax.rearrange(X, "... (a b) channel -> ... b a channel", a=hax.Axis("wa", 3), b="wb")
    assert out.shape == {"batch": 2, "height": 4, "wb": 2, "wa": 3, "channel": 3}


def test_rearrange_several_ellipses_on_the_right():
    out = hax.rearrange(X, "b h w c -> h ... c ... b")
    assert _names(out) == ["height", "width", "channel", "batch"]
    out = hax.rearrange(X, "{height width} -> ... (hw: height width) ...")
    assert _names(out) == ["batch", "hw", "channel"]


def test_rearrange_sequence_with_several_ellipses():
    out = hax.rearrange(X, ("channel", ..., "height", ...))
    assert _names(out) == ["channel", "batch", "height", "width"]
    np.testing.assert_array_equal(out.array, RAW.transpose(3, 0, 1, 2))
    assert _names(hax.rearrange(X, (..., "channel", ..., "width"))) == ["batch", "height", "channel", "width"]


def test_rearrange_keyword_forms():
    assert _names(hax.rearrange(X, expression="b h w c -> c b h w")) == [
        "channel",
        "batch",
        "height",
        "width",
    ]
    assert _names(X.rearrange(axes=("width", ...))) == ["width", "batch", "height", "channel"]


def test_rearrange_unknown_axis_error():
    with pytest.raises(AxisNotFoundError) as e:
        hax.rearrange(X, "{hieght ...} -> ... hieght")
    assert str(e.value) == (
        "rearrange: in '{hieght ...} -> ... hieght' at column 2: Could not resolve axis 'hieght': it is not in "
        "{batch: 2, height: 4, width: 6, channel: 3}; did you mean 'height'?"
    )
    with pytest.raises(AxisNotFoundError) as e:
        hax.rearrange(X, ("batch", "chanel", ...))
    assert str(e.value) == (
        "rearrange: axis 'chanel' is not in {batch: 2, height: 4, width: 6, channel: 3}; did you mean 'channel'?"
    )
    with pytest.raises(AxisNotFoundError) as e:
        hax.rearrange(X, "batch ... -> batch height")
    assert str(e.value) == (
        "rearrange: in 'batch ... -> batch height' at column 20: Axis height is not bound on the lhs; the right side "
        "may only use labels of the left side; 'height' is an axis of the array, so name it on the left side too"
    )


def test_rearrange_label_bound_to_two_axes_error():
    with pytest.raises(PatternError) as e:
        hax.rearrange(X, "b h w c -> b c h w", b="height")
    assert str(e.value) == (
        "rearrange: in 'b h w c -> b c h w' at column 1: Alias b is assigned to more than one axis: "
        "{height: 4} and {batch: 2}"
    )
    with pytest.raises(PatternError, match=r"at column 3: Capture b is assigned more than once"):
        hax.rearrange(X, "b b w c -> b w c")


def test_rearrange_pattern_syntax_errors_point_at_columns():
    with pytest.raises(PatternError) as e:
        hax.rearrange(X, "batch height) -> batch")
    assert str(e.value) == (
        "rearrange: in 'batch height) -> batch' at column 13: Identifier expected, found unexpected character ')'"
    )
    with pytest.raises(PatternError) as e:
        hax.rearrange(X, "batch (height -> batch")
    assert (
        str(e.value)
        == "rearrange: in 'batch (height -> batch' at column 15: Unexpected character '-' inside '( )'"
    )
    with pytest.raises(PatternError) as e:
        hax.rearrange(X, "... batch ... -> batch")
    assert str(e.value) == (
        "rearrange: in '... batch ... -> batch': Only one ellipsis allowed on the left side of an ordered pattern"
    )
    with pytest.raises(PatternError) as e:
        hax.rearrange(X, "{batch ... -> batch")
    assert str(e.value) == "rearrange: in '{batch ... -> batch' at column 1: Expected } to close the '{' here"
    with pytest.raises(PatternError, match=r"^rearrange: in 'batch' at column 6: Unexpected end of string"):
        hax.rearrange(X, "batch")


def test_rearrange_left_side_count_errors():
    with pytest.raises(PatternError) as e:
        hax.rearrange(X, "batch height -> height batch")
    assert str(e.value) == (
        "rearrange: in 'batch height -> height batch': Not all axes are bound: the left side names 2 axes but the "
        "array has 4, {batch: 2, height: 4, width: 6, channel: 3}; use ... to skip missing axes"
    )
    with pytest.raises(PatternError, match=r"at column 9: Too many axes in lhs: the array has 4 axes"):
        hax.rearrange(X, "a b c d e -> a")
    with pytest.raises(PatternError, match=r"at column 11: Axis 'height' is bound more than once"):
        hax.rearrange(X, "a b ... c d e f -> a")
    with pytest.raises(PatternError) as e:
        hax.rearrange(X, "b h w c -> b h w")
    assert str(e.value) == (
        "rearrange: in 'b h w c -> b h w': Not all intermediate axes are used: the right side leaves out "
        "'channel'; name them or use ... to insert unused axes"
    )


def test_rearrange_split_size_errors():
    with pytest.raises(AxisSizeError) as e:
        hax.rearrange(X, "... (a b) channel -> ... a b channel", a=4)
    assert str(e.value) == (
        "rearrange: in '... (a b) channel -> ... a b channel' at column 5: the known sizes of 'a', 'b' multiply "
        "to 4, which does not divide the size 6 of axis 'width'"
    )
    with pytest.raises(AxisSizeError) as e:
        hax.rearrange(X, "... (a b) channel -> ... a b channel", a=4, b=2)
    assert str(e.value) == (
        "rearrange: in '... (a b) channel -> ... a b channel' at column 5: the sizes of 'a', 'b' multiply to 8, "
        "which does not divide evenly into axis 'width' of size 6"
    )
    with pytest.raises(PatternError) as e:
        hax.rearrange(X, "... (a b) channel -> ... a b channel")
    assert str(e.value) == (
        "rearrange: in '... (a b) channel -> ... a b channel' at column 5: Sizes for this split axis are "
        "ambiguous: splitting 'width' (size 6) into 'a', 'b' needs the sizes of all but one part. You must "
        "provide a size as a kwarg, e.g. a=<size>"
    )


def test_rearrange_merge_and_duplicate_errors():
    with pytest.raises(PatternError) as e:
        hax.rearrange(X, "... w c -> ... (w c)")
    assert str(e.value) == (
        "rearrange: in '... w c -> ... (w c)' at column 16: All rhs axes must have a name: write (name: w c) "
        "to merge them into one axis"
    )
    with pytest.raises(DuplicateAxisError) as e:
        hax.rearrange(X, "... (batch b) c -> ... batch b c", b=2)
    assert str(e.value) == (
        "rearrange: in '... (batch b) c -> ... batch b c': splitting makes axis 'batch' twice; "
        "give the new axis another name"
    )
    with pytest.raises(DuplicateAxisError) as e:
        hax.rearrange(X, "... w c -> ... (batch: w c)")
    assert str(e.value) == (
        "rearrange: in '... w c -> ... (batch: w c)': the result would have axis 'batch' twice; "
        "give the new axis another name"
    )
    with pytest.raises(PatternError, match=r"Unordered axes must be bound by name"):
        hax.rearrange(X, "{(h w) c} -> ...")


def test_rearrange_sequence_rejects_bindings_and_non_named_input():
    with pytest.raises(NamedTypeError) as e:
        hax.rearrange(X, ("batch", ...), b="batch")
    assert str(e.value) == (
        "rearrange: keyword bindings ['b'] only apply to a pattern string, not a sequence of axes"
    )
    with pytest.raises(NamedTypeError, match=r"^rearrange: expected a NamedArray, got ArrayImpl"):
        hax.rearrange(jnp.ones(3), ("a",))  # type: ignore[arg-type]  # the error under test
