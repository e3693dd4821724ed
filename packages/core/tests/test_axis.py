"""Axes and axis specs: Axis, dslice, and the spec helpers of haliax.axis."""

from __future__ import annotations

import pytest

import haliax as hax
import haliax.axis as ha
from haliax._src.base.axis import sized_axes

B, E, H = hax.make_axes(batch=2, embed=3, head=4)


def test_axis_alias_and_resize_keep_the_other_field() -> None:
    assert E.alias("hidden") == hax.Axis("hidden", 3)
    assert E.resize(8) == hax.Axis("embed", 8)
    assert hax.make_axes(a=1, b=2) == (hax.Axis("a", 1), hax.Axis("b", 2))


def test_names_and_sizes_of_specs() -> None:
    assert ha.axis_name(E) == "embed" and ha.axis_name((B, "embed")) == ("batch", "embed")
    assert ha.axis_size((B, E)) == 6 and ha.axis_size({"a": 2, "b": 5}) == 10
    assert ha.to_jax_shape((B, E)) == (2, 3)
    assert ha.axis_spec_to_shape_dict((B, "embed")) == {"batch": 2, "embed": None}
    assert ha.axis_spec_to_tuple({"batch": 2, "embed": None}) == (B, "embed")


def test_concat_union_and_elimination() -> None:
    assert ha.concat_axes((B,), (E,)) == (B, E)
    assert ha.concat_axes({"batch": 2}, {"embed": 3}) == {"batch": 2, "embed": 3}
    with pytest.raises(ValueError, match="concat_axes: axis 'batch' appears in both"):
        ha.concat_axes((B, E), (B,))
    assert ha.union_axes((B, E), (E, H)) == (B, E, H)
    with pytest.raises(ValueError, match="union_axes: axis 'embed' has size 3 in one place and 5"):
        ha.union_axes((E,), (E.resize(5),))
    assert ha.eliminate_axes((B, E, H), "embed") == (B, H)
    with pytest.raises(ValueError, match=r"eliminate_axes: axis 'embd' not found in .*did you mean 'embed'"):
        ha.eliminate_axes((B, E), "embd")
    assert ha.without_axes((B, E), ("embed", "missing")) == (B,)
    assert ha.intersect_axes((B, E, H), (H, B)) == (B, H)
    assert ha.overlapping_axes((B, E), ("embed", "head")) == ("embed",)


def test_replace_select_and_resolve() -> None:
    assert ha.replace_axis((B, E), "embed", (H, E.alias("e2"))) == (B, H, E.alias("e2"))
    with pytest.raises(ValueError, match=r"replace_axis: .* would repeat axis 'batch'"):
        ha.replace_axis((B, E), "embed", B)
    assert ha.selects_axis((B, E), ("embed",)) and not ha.selects_axis((B, E), (E.resize(9),))
    assert ha.resolve_axis((B, E), "embed") == E and ha.resolve_axis((B, E), ("batch",)) == (B,)
    with pytest.raises(ValueError, match="resolve_axis: axis 'embed' has size 3 in one place and 7"):
        ha.resolve_axis((B, E), E.resize(7))
    assert ha.unsize_axes((B, E)) == ("batch", "embed")
    assert ha.unsize_axes((B, E), "embed") == (B, "embed")
    assert ha.is_axis_compatible(E, "embed") and not ha.is_axis_compatible(E, E.resize(1))


def test_partial_orders() -> None:
    assert ha.rearrange_for_partial_order(("head", ..., "batch"), (B, E, H)) == (H, E, B)
    assert ha.rearrange_for_partial_order((..., "batch"), (B, E, H)) == (E, H, B)
    with pytest.raises(
        ValueError, match=r"rearrange_for_partial_order: the order \['embed'\] leaves out axes"
    ):
        ha.rearrange_for_partial_order(("embed",), (B, E))
    assert ha.replace_missing_with_ellipsis(("batch", "x", "embed"), (B, E)) == (B, ..., E)
    # one '...' for each missing axis, as Haliax gives
    assert ha.replace_missing_with_ellipsis(("x", "y", "embed"), (B, E)) == (..., ..., E)


def test_partial_order_with_several_ellipses() -> None:
    order = ha.rearrange_for_partial_order
    # a free axis goes to the first empty '...' after the named axes that precede it
    assert order(("a", ..., "b", ...), ("b", "a", "c")) == ("a", "b", "c")
    assert order(("a", ..., "b", ..., "c", ...), ("b", "o", "c", "a", "g")) == ("a", "b", "o", "c", "g")
    assert order((..., "d", "h", ...), ("h", "w", "d")) == ("d", "h", "w")
    assert order((..., "c", ..., "w"), ("h", "w", "d", "c")) == ("h", "d", "c", "w")
    assert order((...,), ()) == ()
    with pytest.raises(
        ValueError,
        match=r"rearrange_for_partial_order: the order \['a', Ellipsis, 'a'\] names axis 'a' twice",
    ):
        order(("a", ..., "a"), ("a", "b"))
    with pytest.raises(
        ValueError, match=r"rearrange_for_partial_order: axis 'q' not found in \{a: \?, b: \?\}"
    ):
        order(("q", ...), ("a", "b"))


def test_dslice_and_dblock() -> None:
    assert hax.dslice(2, 3).to_slice() == slice(2, 5)
    assert hax.dblock(2, 4) == hax.dslice(8, 4) == hax.dslice.block(2, 4)
    assert hax.ds is hax.dslice


def test_sized_axes_requires_sizes_and_distinct_names() -> None:
    assert sized_axes("zeros", {"batch": 2, "embed": 3}) == (B, E)
    with pytest.raises(
        TypeError, match=r"zeros: axis 'batch' needs a size; pass an Axis or a \{name: size\} dict"
    ):
        sized_axes("zeros", ("batch",))
    with pytest.raises(TypeError, match=r"normal: axis 'b' needs a size to sample; pass hax.Axis\('b', n\)"):
        sized_axes("normal", ("b",), why=" to sample", fix="pass hax.Axis({ax!r}, n)")
    with pytest.raises(ValueError, match=r"ones: axis .batch. appears twice in \{batch: 2, batch: 2\}"):
        sized_axes("ones", (B, B))


def test_axis_name_must_be_a_string():
    with pytest.raises(TypeError) as err:
        hax.Axis(4, "batch")  # type: ignore[arg-type]  # the mistake under test
    assert str(err.value) == (
        "Axis: the name must be a string, got int 4; write Axis(name, size), e.g. hax.Axis('batch', 4)"
    )
