"""Named indexing: basic and advanced selectors, slice/take/updated_slice, and .at updates."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import haliax as hax
from haliax._src.base.errors import AxisNotFoundError, NamedIndexError
from haliax.core import SliceSpec

B, E, P = hax.make_axes(batch=4, embed=3, pos=5)


def _x():
    return hax.named(jnp.arange(60.0).reshape(4, 3, 5), (B, E, P))


def _np():
    return np.arange(60.0).reshape(4, 3, 5)


def test_int_drops_axis_and_matches_numpy():
    y = _x()["embed", 1]
    assert y.axes == (B, P)
    np.testing.assert_array_equal(y.array, _np()[:, 1, :])


def test_flat_tuple_and_dict_forms_agree():
    x = _x()
    a = x["batch", 1:3, "pos", -1]
    b = x[{"pos": -1, "batch": slice(1, 3)}]
    assert a.axes == b.axes == (B.resize(2), E)
    np.testing.assert_array_equal(a.array, _np()[1:3, :, -1])
    np.testing.assert_array_equal(b.array, a.array)


def test_axis_objects_as_keys():
    np.testing.assert_array_equal(_x()[B, 2, E, 0].array, _np()[2, 0, :])


def test_all_ints_give_0d_named_array():
    y = _x()["batch", 1, "embed", 2, "pos", 3]
    assert isinstance(y, hax.NamedArray)
    assert y.axes == ()
    assert y.item() == _np()[1, 2, 3]


def test_slices_with_steps_keep_names():
    x = _x()
    y = x["pos", ::2, "batch", ::-1]
    assert y.axes == (B, E, P.resize(3))
    np.testing.assert_array_equal(y.array, _np()[::-1, :, ::2])
    z = x["pos", 4:1:-2]
    np.testing.assert_array_equal(z.array, _np()[:, :, 4:1:-2])
    assert x["pos", 3:1].shape == {"batch": 4, "embed": 3, "pos": 0}


def test_static_out_of_range_int_is_an_error():
    with pytest.raises(
        NamedIndexError,
        match=r"index: index 4 is out of range for axis 'batch' of size 4 \(valid indices are -4 to 3\)",
    ):
        _x()["batch", 4]


def test_unknown_axis_suggests_a_name():
    with pytest.raises(
        AxisNotFoundError,
        match=r"index: axis 'bach' not found in \{batch: 4, embed: 3, pos: 5\}; did you mean 'batch'\?",
    ):
        _x()["bach", 0]


def test_malformed_indices_are_errors():
    x = _x()
    with pytest.raises(NamedIndexError, match="expected alternating axis names and indices"):
        x["batch", 0, "embed"]
    with pytest.raises(NamedIndexError, match="positional indexing is not supported"):
        x[0]  # pyright: ignore[reportArgumentType]  # the error under test
    with pytest.raises(NamedIndexError, match="axis 'batch' is given without an index"):
        x["batch"]  # pyright: ignore[reportArgumentType]  # the error under test
    with pytest.raises(NamedIndexError, match="axis 'batch' is indexed twice"):
        x["batch", 0, B, 1]
    with pytest.raises(NamedIndexError, match="must be integers, got dtype bool; boolean masks"):
        x["batch", jnp.array([True, False, True, True])]


def test_dslice_reads_like_a_fill_gather_static_and_traced():
    # Element k is index start + k read as numpy reads it (negative counts from the end); what is
    # still outside the axis reads 0, as jnp's gather with mode="fill", fill_value=0.
    x = _x()
    y = x["pos", hax.dslice(1, 3)]
    np.testing.assert_array_equal(y.array, _np()[:, :, 1:4])
    assert y.axes == (B, E, P.resize(3))

    f = jax.jit(lambda x, i: x["pos", hax.dslice(i, 3)])
    for start in (1, 3, 7, -2, -4, -7, -9):
        expected = jnp.asarray(_np()).at[:, :, jnp.arange(start, start + 3)].get(mode="fill", fill_value=0)
        np.testing.assert_array_equal(f(x, start).array, expected)
        np.testing.assert_array_equal(x["pos", hax.dslice(start, 3)].array, expected)


def test_dslice_size_may_be_an_axis_and_may_exceed_the_axis():
    x = hax.arange(hax.Axis("pos", 4))
    assert hax.dslice(1, hax.Axis("win", 2)).size == 2
    assert x["pos", hax.ds(1, hax.Axis("win", 2))].array.tolist() == [1, 2]
    g = jax.jit(lambda i: x["pos", hax.dslice(i, 6)].array)
    assert g(1).tolist() == [1, 2, 3, 0, 0, 0]
    assert x["pos", hax.dslice(1, 6)].array.tolist() == [1, 2, 3, 0, 0, 0]


def test_dslices_on_two_axes_place_axes_as_haliax_does():
    x = hax.arange({"h": 10, "w": 20, "d": 30})
    # Not adjacent: the windows go first; starting from the largest, each smaller one goes in front.
    y = x["h", hax.ds(0, 5), "d", hax.ds(3, 7)]
    assert y.shape == {"h": 5, "d": 7, "w": 20}
    assert [a.name for a in y.axes] == ["h", "d", "w"]
    np.testing.assert_array_equal(y.array, np.transpose(x.array[:5, :, 3:10], (0, 2, 1)))
    y = x["h", hax.ds(0, 7), "d", hax.ds(3, 5)]
    assert [a.name for a in y.axes] == ["d", "h", "w"]
    np.testing.assert_array_equal(y.array, np.transpose(x.array[:7, :, 3:8], (2, 0, 1)))
    # A window beside an int: both are advanced, so the window goes first.
    z = x["h", 2, "d", hax.ds(1, 3)]
    assert [a.name for a in z.axes] == ["d", "w"]
    # One window alone stays in place.
    assert [a.name for a in x["w", hax.ds(1, 3)].axes] == ["h", "w", "d"]


def test_dblock_selects_the_ith_block():
    x = hax.arange(hax.Axis("pos", 8))
    assert x["pos", hax.dblock(2, 2)].array.tolist() == [4, 5]
    g = jax.jit(lambda i: x["pos", hax.ds.block(i, 4)].array)
    assert g(1).tolist() == [4, 5, 6, 7]


def test_traced_scalar_index_drops_axis():
    f = jax.jit(lambda x, i: x["batch", i, "pos", hax.named(jnp.int32(-1), ())])
    y = f(_x(), 2)
    assert y.axes == (E,)
    np.testing.assert_array_equal(y.array, _np()[2, :, -1])


def test_list_index_keeps_axis_name_with_new_size():
    y = _x()["pos", [4, 0, -1], "batch", np.array([1, 1])]
    assert y.axes == (B.resize(2), E, P.resize(3))
    np.testing.assert_array_equal(y.array, _np()[[1, 1]][:, :, [4, 0, -1]])
    with pytest.raises(
        NamedIndexError, match="an index in the list for axis 'pos' is out of range for its size 5"
    ):
        _x()["pos", [5]]


def test_named_index_replaces_axis():
    Sel = hax.Axis("sel", 2)
    idx = hax.named(jnp.array([3, 1]), Sel)
    y = _x()["pos", idx]
    assert y.axes == (B, E, Sel)
    np.testing.assert_array_equal(y.array, _np()[:, :, [3, 1]])
    y = _x()["batch", idx]
    assert y.axes == (Sel, E, P)
    np.testing.assert_array_equal(y.array, _np()[[3, 1]])


def test_several_named_indices_broadcast_by_name():
    Ii, Jj = hax.make_axes(i=2, j=3)
    bi = hax.named(jnp.array([0, 3]), Ii)
    pj = hax.named(jnp.array([[0, 1, 2], [4, 3, 2]]), (Ii, Jj))
    y = _x()["batch", bi, "pos", pj]
    assert y.axes == (Ii, Jj, E)
    ref = _np()
    expected = np.stack(
        [np.stack([ref[[0, 3][a], :, [[0, 1, 2], [4, 3, 2]][a][b]] for b in range(3)]) for a in range(2)]
    )
    np.testing.assert_array_equal(y.array, expected)


def test_named_index_sharing_an_axis_gathers_per_element():
    # Pick one pos per batch element: the index's 'batch' axis pairs with the array's.
    idx = hax.named(jnp.array([4, 0, 2, 1]), B)
    y = _x()["pos", idx]
    assert y.axes == (B, E)
    np.testing.assert_array_equal(y.array, _np()[np.arange(4), :, [4, 0, 2, 1]])


def test_mixed_basic_and_advanced():
    Sel = hax.Axis("sel", 2)
    idx = hax.named(jnp.array([1, 0]), Sel)
    y = _x()["embed", 2, "pos", idx, "batch", 1:3]
    assert y.axes == (B.resize(2), Sel)
    np.testing.assert_array_equal(y.array, _np()[1:3, 2, :][:, [1, 0]])


def test_simple_static_indexing_lowers_to_slicing_not_gather():
    x = _x()
    for fn in (
        lambda x: x["batch", 1, "pos", 1:4],
        lambda x: x[{"embed": 0}],
        lambda x: x["pos", hax.dslice(1, 2)],
        lambda x: hax.slice(x, "pos", start=1, length=2),
    ):
        text = str(jax.make_jaxpr(fn)(x))
        assert "gather" not in text
        assert "slice" in text
    text = str(jax.make_jaxpr(lambda x, i: x["pos", hax.dslice(i, 2)])(x, 1))
    assert "gather" not in text and "dynamic_slice" in text


def test_slice_single_and_multi_axis():
    x = _x()
    y = hax.slice(x, "pos", start=1, length=3)
    np.testing.assert_array_equal(y.array, _np()[:, :, 1:4])
    z = x.slice("pos", hax.Axis("win", 2), start=2)
    assert z.axes == (B, E, hax.Axis("win", 2))
    np.testing.assert_array_equal(z.array, _np()[:, :, 2:4])
    w = hax.slice(x, start={"batch": 1, "pos": 2}, length={"batch": 2, "pos": 3})
    assert w.axes == (B.resize(2), E, P.resize(3))
    np.testing.assert_array_equal(w.array, _np()[1:3, :, 2:5])
    traced = jax.jit(lambda x, s: hax.slice(x, start={"pos": s}, length={"pos": 2}))(x, 3)
    np.testing.assert_array_equal(traced.array, _np()[:, :, 3:5])
    with pytest.raises(
        NamedIndexError, match="slice: start 4 with length 3 is out of range for axis 'pos' of size 5"
    ):
        hax.slice(x, "pos", start=4, length=3)


def test_take_int_and_named():
    x = _x()
    np.testing.assert_array_equal(hax.take(x, "embed", 2).array, _np()[:, 2])
    Sel = hax.Axis("sel", 3)
    y = x.take("pos", hax.named(jnp.array([0, 0, 4]), Sel))
    assert y.axes == (B, E, Sel)
    np.testing.assert_array_equal(y.array, _np()[:, :, [0, 0, 4]])


def test_updated_slice_aligns_update_by_name():
    x = hax.zeros((B, P))
    upd = hax.named(jnp.arange(6.0).reshape(3, 2), (P.resize(3), B.resize(2)))
    y = hax.updated_slice(x, {"batch": 1, "pos": 2}, upd)
    expected = np.zeros((4, 5))
    expected[1:3, 2:5] = np.arange(6.0).reshape(3, 2).T
    np.testing.assert_array_equal(y.array, expected)
    row = hax.arange(P).astype(jnp.float32)
    y = jax.jit(lambda x, i: x.updated_slice({"batch": i}, row))(x, 3)
    expected = np.zeros((4, 5))
    expected[3] = np.arange(5)
    np.testing.assert_array_equal(y.array, expected)
    with pytest.raises(
        NamedIndexError, match="updated_slice: start 4 with length 3 is out of range for axis 'pos' of size 5"
    ):
        hax.updated_slice(x, {"pos": 4}, upd)


def test_at_set_broadcasts_update_by_name():
    x = _x()
    row = hax.named(jnp.array([-1.0, -2.0, -3.0]), E)
    y = x.at["pos", 2].set(row)
    ref = _np()
    ref[:, :, 2] = np.array([-1.0, -2.0, -3.0])[None, :]
    np.testing.assert_array_equal(y.array, ref)
    assert y.axes == x.axes


def test_at_methods_match_jax():
    x = _x()
    ref = jnp.asarray(_np())
    np.testing.assert_array_equal(x.at["batch", 1:3].add(1.0).array, ref.at[1:3].add(1.0))
    np.testing.assert_array_equal(x.at["embed", 0].mul(2.0).array, ref.at[:, 0].multiply(2.0))
    np.testing.assert_array_equal(x.at["embed", 0].multiply(2.0).array, ref.at[:, 0].multiply(2.0))
    np.testing.assert_array_equal(x.at["embed", 0].divide(2.0).array, ref.at[:, 0].divide(2.0))
    np.testing.assert_array_equal(x.at["pos", 1].max(30.0).array, ref.at[:, :, 1].max(30.0))
    np.testing.assert_array_equal(x.at["pos", 1].min(30.0).array, ref.at[:, :, 1].min(30.0))
    np.testing.assert_array_equal(x.at["pos", 1].power(2.0).array, ref.at[:, :, 1].power(2.0))
    np.testing.assert_array_equal(
        x.at["pos", 1].apply(jnp.negative).array, ref.at[:, :, 1].apply(jnp.negative)
    )
    got = x.at["batch", 2, "pos", 1:3].get()
    np.testing.assert_array_equal(got.array, _np()[2, :, 1:3])
    assert got.axes == (E, P.resize(2))


def test_at_with_named_indices_scatters():
    Sel = hax.Axis("sel", 2)
    idx = hax.named(jnp.array([4, 4]), Sel)
    y = hax.zeros(P).at["pos", idx].add(1.0)
    assert y.array.tolist() == [0.0, 0.0, 0.0, 0.0, 2.0]
    vals = hax.named(jnp.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), (E, Sel))
    idx2 = hax.named(jnp.array([0, 2]), Sel)
    z = hax.zeros((E, P)).at["pos", idx2].set(vals)
    expected = np.zeros((3, 5))
    expected[:, [0, 2]] = [[1, 2], [3, 4], [5, 6]]
    np.testing.assert_array_equal(z.array, expected)


def test_at_dslice_writes_drop_and_reads_fill():
    x = hax.zeros(P)
    f = jax.jit(lambda x, i: x.at["pos", hax.dslice(i, 3)].set(1.0))
    assert f(x, 3).array.tolist() == [0.0, 0.0, 0.0, 1.0, 1.0]
    got = hax.arange(P).astype(jnp.float32).at["pos", hax.dslice(3, 3)].get()
    np.testing.assert_array_equal(got.array, [3.0, 4.0, 0.0])
    upd = hax.arange(P.resize(4))
    np.testing.assert_array_equal(hax.arange(P).at["pos", hax.ds(3, 4)].set(upd).array, [0, 1, 2, 0, 1])


def test_at_update_errors():
    x = _x()
    with pytest.raises(
        NamedIndexError, match=r"at\[\.\.\.\]\.set: an unnamed update of shape \(3,\) is ambiguous"
    ):
        x.at["pos", 0, "batch", 0].set(jnp.ones(3))
    with pytest.raises(
        NamedIndexError,
        match=r"at\[\.\.\.\]\.set: the update \{other: 2\} has axes \['other'\] that the indexed region",
    ):
        x.at["pos", 0].set(hax.ones(hax.Axis("other", 2)))


def test_indexing_under_vmap_free_grad():
    x = _x()
    g = jax.grad(lambda a: a["batch", 1:3, "pos", 0].sum().scalar())(x)
    expected = np.zeros((4, 3, 5))
    expected[1:3, :, 0] = 1
    np.testing.assert_array_equal(g.array, expected)


@pytest.mark.parametrize("order", list(itertools.permutations(("batch", "embed", "pos"))))
def test_indexing_is_independent_of_axis_order(order):
    x = _x()
    xp = hax.rearrange(x, order)
    Sel = hax.Axis("sel", 2)
    idx = hax.named(jnp.array([4, 1]), Sel)
    selections: tuple[SliceSpec, ...] = (
        {"batch": 1, "pos": slice(1, 4)},
        {"embed": hax.dslice(1, 2)},
        {"pos": idx, "batch": -1},
        {"batch": [3, 0]},
    )
    for sel in selections:
        want = x[sel]
        got = xp[sel]
        assert set(got.axes) == set(want.axes)
        np.testing.assert_array_equal(hax.rearrange(got, want.axes).array, want.array)
        upd = x.at[sel].set(-1.0)
        np.testing.assert_array_equal(hax.rearrange(xp.at[sel].set(-1.0), x.axes).array, upd.array)


def test_take_with_shared_axes_keeps_the_array_order():
    Batch, Block, Embed = hax.make_axes(batch=3, block=4, embed=5)
    logits = hax.arange((Batch, Embed, Block))
    labels = hax.named(jnp.arange(12).reshape(4, 3) % 5, (Block, Batch))
    out = hax.take(logits, Embed, labels)
    assert out.axes == (Batch, Block)
    expected = np.take_along_axis(np.asarray(logits.array), np.asarray(labels.array).T[:, None, :], axis=1)[
        :, 0
    ]
    np.testing.assert_array_equal(out.array, expected)
    # Index axes the array lacks go in front; one named like the taken axis too.
    Pick = hax.Axis("pick", 2)
    idx = hax.named(jnp.zeros((2, 3), jnp.int32), (Pick, Batch))
    assert hax.take(logits, Embed, idx).axes == (Pick, Batch, Block)
    idx2 = hax.named(jnp.zeros((3, 2), jnp.int32), (Batch, Embed.resize(2)))
    assert hax.take(logits, Embed, idx2).axes == (Embed.resize(2), Batch, Block)


def test_index_arrays_broadcast_and_place_axes_as_numpy_does():
    H, W, D, C = hax.make_axes(h=2, w=5, d=6, c=3)
    x = hax.arange((H, W, D, C))
    I1, I2, I3 = hax.make_axes(i1=2, i2=3, i3=4)
    ind_1 = hax.named(jnp.arange(12).reshape(3, 4) % 5, (I2, I3))
    ind_2 = hax.named(jnp.arange(8).reshape(2, 4) % 6, (I1, I3))
    raw = np.asarray(x.array)
    # Adjacent: in place; the smaller index's new axes go in front of the larger's.
    y = x["w", ind_1, "d", ind_2]
    assert y.axes == (H, I1, I2, I3, C)
    np.testing.assert_array_equal(
        y.array, raw[:, np.asarray(ind_1.array)[None], np.asarray(ind_2.array)[:, None], :]
    )
    # Not adjacent: in front.
    z = x["w", ind_1, "c", ind_2.rename({"i3": "i3"}) % 3]
    assert z.axes == (I1, I2, I3, H, D)
    # An int counts as an advanced index: H, then the gathered axes, then the rest.
    sel = hax.named(jnp.array([1, 0, 4]), "s")
    assert x["w", sel, "d", 0].axes == (H, hax.Axis("s", 3), C)
    assert x["w", sel, "c", 0].axes == (hax.Axis("s", 3), H, D)


def test_unnamed_jax_array_takes_a_matching_axis_name():
    B, V = hax.make_axes(batch=3, vocab=5)
    x = hax.arange((B, V))
    idx = jnp.array([0, 2, 4])
    out = x["vocab", idx]
    assert out.axes == (B,)
    np.testing.assert_array_equal(out.array, np.asarray(x.array)[np.arange(3), [0, 2, 4]])
    # No other axis of its length: it keeps the indexed axis' name.
    assert x["vocab", jnp.array([1, 1])].axes == (B, V.resize(2))


def test_dslice_then_index_array_over_batch_axes():
    B, S, V = hax.make_axes(batch=2, seq=5, vocab=10)
    x = hax.arange((B, S, V))
    shard = x["vocab", hax.dslice(0, V.resize(4))]
    idx = (hax.arange((B, S), dtype=jnp.int32) + 2) % 4
    out = shard["vocab", idx]
    assert out.axes == (B, S)
    raw = np.asarray(x.array)[:, :, :4]
    np.testing.assert_array_equal(
        out.array, raw[np.arange(2)[:, None], np.arange(5)[None], np.asarray(idx.array)]
    )


def test_updated_slice_with_per_element_starts():
    Batch, Seq = hax.Axis("batch", 2), hax.Axis("seq", 5)
    cache = hax.zeros((Batch, Seq), dtype=int)
    starts = hax.named(jnp.array([1, 3]), Batch)
    kv = hax.named(jnp.array([[1, 2], [3, 4]]), (Batch, Seq.resize(2)))
    out = hax.updated_slice(cache, {"seq": starts}, kv)
    assert out.axes == (Batch, Seq)
    np.testing.assert_array_equal(out.array, [[0, 1, 2, 0, 0], [0, 0, 0, 3, 4]])
    one = hax.updated_slice(cache, {"seq": starts}, hax.named(jnp.array([7, 8]), Batch))
    np.testing.assert_array_equal(one.array, [[0, 7, 0, 0, 0], [0, 0, 0, 8, 0]])


def test_updated_slice_errors_are_value_errors():
    Seq = hax.Axis("seq", 4)
    with pytest.raises(
        ValueError, match="updated_slice: start 2 with length 3 is out of range for axis 'seq'"
    ):
        hax.updated_slice(hax.zeros(Seq), {"seq": 2}, hax.zeros(Seq.resize(3)))
    cache = hax.zeros({"batch": 2, "seq": 5})
    kv = hax.zeros({"batch": 2, "new": 2})
    with pytest.raises(
        ValueError,
        match=r"updated_slice: the update \{batch: 2, new: 2\} has axes \['new'\] that are not in the original "
        r"array with shape \{batch: 2, seq: 5\}",
    ):
        hax.updated_slice(cache, {"seq": hax.named(jnp.array([1, 3]), "batch")}, kv)


def test_at_update_errors_name_the_at_method():
    x = _x()
    with pytest.raises(ValueError, match=r"^at\[\.\.\.\]\.add: "):
        x.at["pos", 0].add(hax.ones(B.resize(3)))
