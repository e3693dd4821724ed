"""Context parallelism: `fused_attention` over a sequence split across 8 simulated CPU devices.

Every sharded result is compared with unsharded attention: outputs and gradients, causal and not,
with and without segment ids, for 2, 4 and 8 sequence shards and a mixed data x seq mesh; and the
compiled per-device memory of an attention step falls with the number of shards.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import haliax as hax
import haliax.nn as hnn
import haliax.partitioning as hp
from haliax.errors import ConflictingOptionsError, NamedTypeError, PartitioningError, ValueRangeError
from haliax.nn._src import context_parallel as cp_mod

Batch, Pos, Heads, Key = hax.make_axes(batch=2, position=32, heads=2, head=8)
KPos = Pos.alias("key_position")
AUTO = jax.sharding.AxisType.Auto


def _x(seed, *axes):
    # numpy draws: no jax.random program to compile for each shape
    raw = np.random.default_rng(seed).standard_normal(tuple(a.size for a in axes), dtype=np.float32)
    return hax.named(jnp.asarray(raw), axes)


q = _x(0, Batch, Pos, Heads, Key)
k = _x(1, Batch, KPos, Heads, Key)
v = _x(2, Batch, KPos, Heads, Key)
target = _x(3, Batch, Pos, Heads, Key)
# Two rows of packed documents: [10, 15, 7] positions, and [24, 8].
segments = hax.named(jnp.asarray([[0] * 10 + [1] * 15 + [2] * 7, [5] * 24 + [6] * 8]), (Batch, Pos))
mask = hax.named(jnp.asarray(np.random.default_rng(4).random((Pos.size, KPos.size)) < 0.8), (Pos, KPos))
bias = hnn.attention.alibi_attention_bias(Heads, KPos)


def _mesh(axis_type=AUTO, **shape):
    n = int(np.prod(list(shape.values())))
    return jax.make_mesh(
        tuple(shape.values()), tuple(shape), axis_types=(axis_type,) * len(shape), devices=jax.devices()[:n]
    )


def _step(strategy, causal, seg, with_mask=False):
    """jit(value_and_grad) of a loss on fused_attention's output; the output rides along as aux."""

    def loss(q, k, v):
        out = hnn.attention.fused_attention(
            Pos,
            KPos,
            Key,
            q,
            k,
            v,
            is_causal=causal,
            segment_ids=segments if seg else None,
            mask=mask if with_mask else None,
            bias=bias if with_mask else None,
            implementation="xla",
            context_parallel=strategy,
        )
        return hax.sum(out * target).scalar(), out

    return jax.jit(jax.value_and_grad(loss, argnums=(0, 1, 2), has_aux=True))


@functools.cache
def _reference(causal, seg, with_mask=False):
    (_, out), grads = _step("off", causal, seg, with_mask)(q, k, v)
    return out, grads


def _assert_matches(result, causal, seg, with_mask=False):
    (_, out), grads = result
    ref_out, ref_grads = _reference(causal, seg, with_mask)
    np.testing.assert_allclose(out.rearrange(ref_out.axes).array, ref_out.array, atol=2e-5, rtol=1e-5)
    for g, rg in zip(grads, ref_grads, strict=True):
        np.testing.assert_allclose(g.rearrange(rg.axes).array, rg.array, atol=2e-5, rtol=1e-5)


@pytest.mark.parametrize("n, causal, seg", [(2, True, False), (4, True, True), (8, False, True)])
def test_ring_attention_matches_unsharded_outputs_and_gradients(n, causal, seg):
    step = _step("ring", causal, seg)
    with hp.set_mesh(_mesh(seq=n)), hp.axis_mapping({"position": "seq"}):
        hlo = step.lower(q, k, v).as_text()
        result = step(q, k, v)
    assert "collective_permute" in hlo and "all_gather" not in hlo
    _assert_matches(result, causal, seg)


@pytest.mark.parametrize("n, causal, seg, with_mask", [(4, True, True, True)])
def test_all_gather_attention_matches_unsharded_outputs_and_gradients(n, causal, seg, with_mask):
    with hp.set_mesh(_mesh(seq=n)), hp.axis_mapping({"position": "seq"}):
        result = _step("all_gather", causal, seg, with_mask)(q, k, v)
    _assert_matches(result, causal, seg, with_mask)


def test_a_data_by_seq_mesh_splits_batch_and_sequence(monkeypatch):
    monkeypatch.setattr(cp_mod, "GATHER_MAX_SCORE_BYTES", 0)  # "auto" then takes the ring
    step = _step("auto", True, True)
    # Explicit mesh axes (jax.make_mesh's default): the inputs are resharded before the shard_map
    with (
        hp.set_mesh(_mesh(jax.sharding.AxisType.Explicit, data=2, seq=4)),
        hp.axis_mapping({"batch": "data", "position": "seq"}),
    ):
        hlo = step.lower(q, k, v).as_text()
        result = step(q, k, v)
    assert "collective_permute" in hlo
    (_, out), _ = result
    assert out.array.sharding.spec[:2] == ("data", "seq")  # the result stays split the same way
    _assert_matches(result, True, True)


def _jaxpr(strategy="auto", **kw):
    f = functools.partial(hnn.attention.fused_attention, Pos, KPos, Key, implementation="xla", **kw)
    return str(jax.make_jaxpr(lambda q, k, v: f(q, k, v, context_parallel=strategy).array)(q, k, v))


def test_auto_gathers_short_sequences_and_rings_long_ones(monkeypatch):
    with hp.set_mesh(_mesh(seq=4)), hp.axis_mapping({"position": "seq"}):
        short = _jaxpr(is_causal=True)
        monkeypatch.setattr(cp_mod, "GATHER_MAX_SCORE_BYTES", 0)
        long = _jaxpr(is_causal=True)
        with_mask = _jaxpr(mask=mask)  # the ring takes no mask: gather
    assert "all_gather" in short and "ppermute" not in short
    assert "ppermute" in long and "all_gather" not in long
    assert "all_gather" in with_mask


def test_without_a_mesh_or_with_position_unmapped_attention_is_unchanged():
    plain = _jaxpr(is_causal=True)
    with hp.set_mesh(_mesh(seq=4)), hp.axis_mapping({"batch": "seq"}):
        unmapped = _jaxpr(is_causal=True)
    with hp.set_mesh(_mesh(seq=4)), hp.axis_mapping({"position": "seq"}):
        off = _jaxpr("off", is_causal=True)
    for text in (plain, unmapped, off):
        assert "shard_map" not in text


def test_inside_a_shard_map_over_the_sequence_attention_stays_local():
    mesh = _mesh(seq=4)
    Local = hax.Axis("position", Pos.size // 4)

    def block(raw):
        x = hax.named(raw, (Local, Key))
        k = x.rename({"position": "key_position"})
        return hnn.attention.fused_attention(Local, "key_position", Key, x, k, k, implementation="xla").array

    spec = jax.sharding.PartitionSpec("seq")
    with hp.set_mesh(mesh), hp.axis_mapping({"position": "seq"}):  # the mapping is still active
        f = jax.shard_map(block, mesh=mesh, in_specs=spec, out_specs=spec)
        text = str(jax.make_jaxpr(f)(jnp.ones((Pos.size, Key.size))))
    assert text.count("shard_map") == 1


def test_segment_ids_equal_the_mask_they_stand_for():
    same = segments.array[:, :, None] == segments.array[:, None, :]
    explicit = hax.named(same, (Batch, Pos, KPos))

    @jax.jit
    def both(q, k, v):
        f = functools.partial(hnn.attention.fused_attention, Pos, KPos, Key, q, k, v, implementation="xla")
        return f(segment_ids=segments), f(mask=explicit)

    a, b = both(q, k, v)
    np.testing.assert_allclose(a.array, b.rearrange(a.axes).array, atol=1e-6)


def test_errors_name_the_option_and_the_fix():
    f = functools.partial(hnn.attention.fused_attention, Pos, KPos, Key, q, k, v, implementation="xla")
    with pytest.raises(
        ValueRangeError, match=r"^fused_attention: context_parallel='rign' .*did you mean 'ring'"
    ):
        f(context_parallel="rign")  # type: ignore[arg-type]  # the wrong value under test
    with (
        hp.set_mesh(_mesh(seq=4)),
        hp.axis_mapping({"position": "seq"}),
        pytest.raises(
            ConflictingOptionsError, match=r"^fused_attention: context_parallel='ring' .*all_gather"
        ),
    ):
        f(mask=mask, context_parallel="ring")
    with (
        hp.set_mesh(_mesh(seq=4)),
        hp.axis_mapping({"position": "sq"}),
        pytest.raises(PartitioningError, match=r"^fused_attention: axis 'position' .*did you mean 'seq'"),
    ):
        f()
    with pytest.raises(NamedTypeError, match=r"^fused_attention: segment_ids must be one NamedArray or a"):
        f(segment_ids=(segments, segments, segments))  # type: ignore[arg-type]  # the wrong value under test
    with hp.set_mesh(_mesh(seq=8)), hp.axis_mapping({"position": "seq"}):
        odd = hax.Axis("position", 12)
        with pytest.raises(PartitioningError, match=r"^fused_attention: sequence axis 'position' of size 12"):
            hnn.attention.fused_attention(
                odd,
                odd.alias("key_position"),
                Key,
                hax.zeros((odd, Key)),
                hax.zeros((odd.alias("key_position"), Key)),
                hax.zeros((odd.alias("key_position"), Key)),
            )


def _temp_bytes(n, strategy, T=1024):
    P = hax.Axis("position", T)
    KP = P.alias("key_position")
    x = hax.zeros((Heads, P, Key))
    kx = hax.zeros((Heads, KP, Key))

    def loss(q, k, v):
        out = hnn.attention.fused_attention(
            P, KP, Key, q, k, v, is_causal=True, implementation="xla", context_parallel=strategy
        )
        return hax.sum(out * out).scalar()

    with hp.set_mesh(_mesh(seq=n)), hp.axis_mapping({"position": "seq"}):
        compiled = jax.jit(jax.grad(loss, argnums=(0, 1, 2))).lower(x, kx, kx).compile()
    stats = compiled.memory_analysis()
    assert stats is not None
    return stats.temp_size_in_bytes


def test_per_device_memory_falls_with_the_number_of_sequence_shards():
    one = _temp_bytes(1, "auto")  # a mesh of one device: the unsharded reference
    ring2, ring4 = _temp_bytes(2, "ring"), _temp_bytes(4, "ring")
    gather4 = _temp_bytes(4, "all_gather")
    assert ring2 < 0.5 * one and ring4 < 0.5 * ring2
    assert gather4 < 0.5 * one
