"""Attention over a sequence split across devices (context parallelism), chosen by the axis mapping.

When the active axis mapping (``haliax.partitioning.axis_mapping``) sends the query position axis
to mesh axes of total size ``n > 1``, `fused_attention` hands the call to
`attention_across_shards`, which runs one ``jax.shard_map`` over the mesh with the query, keys and
values split along their position axes over those mesh axes, and computes exact attention there
by one of two strategies:

- ``"ring"``: each device keeps its block of queries and passes its block of keys and values
  around the ring (``jax.lax.ppermute``), ``n`` steps; the softmax is accumulated online (running
  max and log-sum-exp), and with ``is_causal`` the blocks that lie wholly above the diagonal are
  skipped. Its gradient is a second ring (a ``jax.custom_vjp``) that recomputes each block's
  scores from the saved log-sum-exp and sends the key/value gradients around with their blocks.
  No device ever holds more than one ``(T/n) x (T/n)`` block of scores, nor more than its own
  ``T/n`` positions of queries, keys and values (plus the block in flight).
- ``"all_gather"``: each device gathers the keys and values of the whole sequence and attends
  its block of queries to them through the requested kernel: one collective instead of ``n - 1``,
  per-device scores of ``(T/n) x T``. It takes any ``mask`` and ``bias``.

``"auto"`` picks ``"all_gather"`` when a ``mask`` or ``bias`` is given (the ring takes
``is_causal`` and ``segment_ids`` only), when the key/value axes do not fit the ring's layout, or
when the per-device scores against every key are small (at most `GATHER_MAX_SCORE_BYTES`: short
sequences, where one collective beats ``n - 1`` latency-bound steps); ``"ring"`` otherwise.

haliax-nn does not depend on haliax-partitioning: the mapping can only be active when
``haliax.partitioning`` has been imported, so this module looks it up in ``sys.modules`` and,
when it is absent, attention runs unchanged.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from collections.abc import Callable
from typing import Any, Literal

import jax
import jax.numpy as jnp
from jax.sharding import PartitionSpec

from haliax import NamedArray
from haliax.axis import Axis
from haliax.errors import ConflictingOptionsError, NamedTypeError, PartitioningError, ValueRangeError
from haliax.extend import axis_not_found, did_you_mean, named_unchecked, reported_as

from .attention import _MASKED, causal_mask
from .kernel_layout import KernelLayout

ContextParallel = Literal["auto", "ring", "all_gather", "off"]
"""How `fused_attention` splits attention over a sharded sequence (see the module docstring)."""

STRATEGIES: tuple[str, ...] = ("auto", "ring", "all_gather", "off")

GATHER_MAX_SCORE_BYTES = 16 * 2**20
"""``"auto"`` gathers keys/values when one device's float32 scores against every key fit in this."""

SegmentIds = NamedArray | tuple[NamedArray, NamedArray]


@dataclasses.dataclass(frozen=True)
class SequenceSplit:
    """Where the query positions live: the mesh, its axes that split them, their product, the mapping."""

    mesh: Any
    mesh_axes: tuple[str, ...]
    ways: int
    mapping: dict[str, Any]

    @property
    def axis_name(self) -> str | tuple[str, ...]:
        return self.mesh_axes[0] if len(self.mesh_axes) == 1 else self.mesh_axes


def check_strategy(op: str, strategy: object) -> None:
    """Raise unless ``strategy`` is one of `STRATEGIES`."""
    if strategy not in STRATEGIES:
        hint = did_you_mean(strategy, STRATEGIES) if isinstance(strategy, str) else ""
        raise ValueRangeError(
            f"{op}: context_parallel={strategy!r} is not a strategy{hint or ';'} "
            f"use one of {', '.join(repr(s) for s in STRATEGIES)}"
        )


def sequence_split(QPos: Axis) -> SequenceSplit | None:
    """The split of ``QPos`` under the active axis mapping and mesh, or None when it is not split."""
    part = sys.modules.get("haliax.partitioning")
    if part is None:
        return None
    mapping = part.current_thread_local_mapping()
    if not mapping or mapping.get(QPos.name) is None:
        return None
    mesh = part.current_mesh()
    if mesh is None:
        return None
    physical = mapping[QPos.name]
    mesh_axes = (physical,) if isinstance(physical, str) else tuple(physical)
    shape = dict(mesh.shape)
    missing = [m for m in mesh_axes if m not in shape]
    if missing:
        raise PartitioningError(
            f"fused_attention: axis {QPos.name!r} maps to mesh axis {missing[0]!r}, which the mesh "
            f"{_format_mesh(shape)} does not have{did_you_mean(missing[0], shape) or ';'} fix the axis mapping"
        )
    ways = math.prod(shape[m] for m in mesh_axes)
    if ways == 1:
        return None
    if set(mesh_axes) & set(jax.sharding.get_abstract_mesh().manual_axes):
        return None  # already inside a shard_map over these axes: the caller holds one block
    return SequenceSplit(mesh, mesh_axes, ways, dict(mapping))


def _format_mesh(shape: dict[str, int]) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in shape.items()) + "}"


def segment_mask(
    op: str, QPos: Axis, KPos: Axis, segment_ids: SegmentIds
) -> tuple[NamedArray, NamedArray, NamedArray]:
    """Query and key segment ids, and the mask ``q_seg == k_seg`` over their axes plus ``QPos, KPos``."""
    q_seg, k_seg = _segments(op, QPos, KPos, segment_ids)
    batch = tuple(ax for ax in q_seg.axes if ax.name != QPos.name)
    batch += tuple(ax for ax in k_seg.axes if ax.name != KPos.name and ax.name not in {b.name for b in batch})
    qa = q_seg.broadcast_to((*batch, QPos)).array[..., :, None]
    ka = k_seg.broadcast_to((*batch, KPos)).array[..., None, :]
    return q_seg, k_seg, named_unchecked(qa == ka, (*batch, QPos, KPos))


def _segments(op: str, QPos: Axis, KPos: Axis, segment_ids: SegmentIds) -> tuple[NamedArray, NamedArray]:
    if isinstance(segment_ids, tuple):
        if len(segment_ids) != 2:
            raise NamedTypeError(
                f"{op}: segment_ids must be one NamedArray or a (query_ids, key_ids) pair, "
                f"got a tuple of {len(segment_ids)}"
            )
        q_seg, k_seg = segment_ids
    else:
        q_seg, k_seg = segment_ids, None
    if not isinstance(q_seg, NamedArray) or not (k_seg is None or isinstance(k_seg, NamedArray)):
        raise NamedTypeError(f"{op}: segment_ids must be NamedArrays of integer ids")
    if not q_seg.has_axis(QPos.name):
        raise axis_not_found(f"{op} (segment_ids)", [QPos.name], q_seg.axes)
    if k_seg is None:
        if QPos.size != KPos.size:
            raise NamedTypeError(
                f"{op}: one segment_ids array serves queries and keys only when {QPos.name!r} "
                f"({QPos.size}) and {KPos.name!r} ({KPos.size}) have the same size; pass a "
                f"(query_ids, key_ids) pair"
            )
        k_seg = q_seg.rename({QPos.name: KPos.name})
    elif not k_seg.has_axis(KPos.name):
        raise axis_not_found(f"{op} (segment_ids)", [KPos.name], k_seg.axes)
    return q_seg, k_seg


# ----- layout ---------------------------------------------------------------------------------


def _ring_layout(
    QPos: Axis, KPos: Axis, Key: Axis, query: NamedArray, key: NamedArray, value: NamedArray
) -> str | None:
    """Why the ring cannot take these arrays, or None when it can (same rule as the fused kernels)."""
    q_names = {ax.name for ax in query.axes}
    if QPos.name not in q_names or Key.name not in q_names:
        return "the query lacks its position or head axis"
    others = {ax.name: ax.size for ax in query.axes if ax.name not in (QPos.name, Key.name)}
    want = {**others, KPos.name: KPos.size, Key.name: Key.size}
    for x in (key, value):
        if {ax.name: ax.size for ax in x.axes} != want:
            return "the keys and values must have exactly the query's batch and head axes"
    return None


def _local(axes: tuple[Axis, ...], spec: PartitionSpec, shape: dict[str, int]) -> tuple[Axis, ...]:
    """Each device's block of ``axes`` under ``spec`` (already checked to divide them)."""
    out = []
    entries = tuple(spec) + (None,) * (len(axes) - len(spec))
    for ax, entry in zip(axes, entries, strict=True):
        names = () if entry is None else (entry,) if isinstance(entry, str) else tuple(entry)
        out.append(Axis(ax.name, ax.size // math.prod(shape[n] for n in names)))
    return tuple(out)


# ----- the ring ---------------------------------------------------------------------------------


def _block_allowed(q_off: Any, k_off: Any, Tq: int, Tk: int, causal: bool, q_seg: Any, k_seg: Any) -> Any:
    """Boolean ``[B|1, 1, Tq, Tk]`` of the pairs a block may attend, or None when all may."""
    allowed = None
    if causal:
        qp = q_off + jnp.arange(Tq)
        kp = k_off + jnp.arange(Tk)
        allowed = (qp[:, None] >= kp[None, :])[None, None]
    if q_seg is not None:
        same = (q_seg[:, :, None] == k_seg[:, None, :])[:, None]
        allowed = same if allowed is None else allowed & same
    return allowed


def _scores(qs: Any, k: Any, allowed: Any) -> Any:
    s = jnp.einsum("bnqh,bnkh->bnqk", qs, k, preferred_element_type=jnp.float32)
    return s if allowed is None else jnp.where(allowed, s, jnp.float32(_MASKED))


def _make_ring(axis: str | tuple[str, ...], n: int, causal: bool) -> Callable[..., Any]:
    """Ring attention on one device's blocks ``[B, N, T, H]`` (queries already scaled), with its VJP."""
    perm = [(i, (i + 1) % n) for i in range(n)]

    def send(x: Any) -> Any:
        return None if x is None else jax.lax.ppermute(x, axis, perm)

    def skip(i: Any, src: Any, Tq: int, Tk: int) -> Any:
        # The block of keys from shard `src` lies wholly after every query of shard `i`.
        return src * Tk > i * Tq + (Tq - 1)

    def forward(qs: Any, k: Any, v: Any, q_seg: Any, k_seg: Any) -> tuple[Any, Any]:
        B, N, Tq, _ = qs.shape
        Tk = k.shape[2]
        i = jax.lax.axis_index(axis)
        o = jnp.zeros((B, N, Tq, v.shape[-1]), jnp.float32)
        m = jnp.full((B, N, Tq), -jnp.inf, jnp.float32)
        total = jnp.zeros((B, N, Tq), jnp.float32)

        def block(t: Any, o: Any, m: Any, total: Any, k: Any, v: Any, k_seg: Any) -> tuple[Any, Any, Any]:
            src = (i - t) % n

            def compute(o: Any, m: Any, total: Any) -> tuple[Any, Any, Any]:
                s = _scores(qs, k, _block_allowed(i * Tq, src * Tk, Tq, Tk, causal, q_seg, k_seg))
                m_new = jnp.maximum(m, s.max(-1))
                alpha = jnp.exp(m - m_new)
                p = jnp.exp(s - m_new[..., None])
                pv = jnp.einsum("bnqk,bnkh->bnqh", p.astype(v.dtype), v, preferred_element_type=jnp.float32)
                return o * alpha[..., None] + pv, m_new, total * alpha + p.sum(-1)

            if not causal:
                return compute(o, m, total)
            return jax.lax.cond(skip(i, src, Tq, Tk), lambda o, m, total: (o, m, total), compute, o, m, total)

        def step(carry: Any, t: Any) -> tuple[Any, None]:
            o, m, total, k, v, k_seg = carry
            o, m, total = block(t, o, m, total, k, v, k_seg)
            return (o, m, total, send(k), send(v), send(k_seg)), None

        if n > 1:
            (o, m, total, k, v, k_seg), _ = jax.lax.scan(step, (o, m, total, k, v, k_seg), jnp.arange(n - 1))
        o, m, total = block(n - 1, o, m, total, k, v, k_seg)
        out = (o / total[..., None]).astype(qs.dtype)
        return out, m + jnp.log(total)

    def backward(res: Any, dout: Any) -> tuple[Any, ...]:
        qs, k, v, q_seg, k_seg, out, lse = res
        Tq, Tk = qs.shape[2], k.shape[2]
        i = jax.lax.axis_index(axis)
        do = dout.astype(jnp.float32)
        delta = jnp.sum(do * out.astype(jnp.float32), axis=-1)
        dq = jnp.zeros(qs.shape, jnp.float32)
        dk = jnp.zeros(k.shape, jnp.float32)
        dv = jnp.zeros(v.shape, jnp.float32)

        def block(t: Any, dq: Any, dk: Any, dv: Any, k: Any, v: Any, k_seg: Any) -> tuple[Any, Any, Any]:
            src = (i - t) % n

            def compute(dq: Any, dk: Any, dv: Any) -> tuple[Any, Any, Any]:
                s = _scores(qs, k, _block_allowed(i * Tq, src * Tk, Tq, Tk, causal, q_seg, k_seg))
                p = jnp.exp(s - lse[..., None])
                dv = dv + jnp.einsum("bnqk,bnqh->bnkh", p, do)
                dp = jnp.einsum("bnqh,bnkh->bnqk", do, v, preferred_element_type=jnp.float32)
                ds = p * (dp - delta[..., None])
                dq = dq + jnp.einsum("bnqk,bnkh->bnqh", ds, k, preferred_element_type=jnp.float32)
                dk = dk + jnp.einsum("bnqk,bnqh->bnkh", ds, qs, preferred_element_type=jnp.float32)
                return dq, dk, dv

            if not causal:
                return compute(dq, dk, dv)
            return jax.lax.cond(skip(i, src, Tq, Tk), lambda *a: a, compute, dq, dk, dv)

        def step(carry: Any, t: Any) -> tuple[Any, None]:
            dq, dk, dv, k, v, k_seg = carry
            dq, dk, dv = block(t, dq, dk, dv, k, v, k_seg)
            # The key/value gradients travel with their blocks; after n hops they are home.
            return (dq, send(dk), send(dv), send(k), send(v), send(k_seg)), None

        if n > 1:
            carry, _ = jax.lax.scan(step, (dq, dk, dv, k, v, k_seg), jnp.arange(n - 1))
            dq, dk, dv, k, v, k_seg = carry
        dq, dk, dv = block(n - 1, dq, dk, dv, k, v, k_seg)
        dk, dv = send(dk), send(dv)
        return dq.astype(qs.dtype), dk.astype(k.dtype), dv.astype(v.dtype), None, None

    @jax.custom_vjp
    def ring(qs: Any, k: Any, v: Any, q_seg: Any, k_seg: Any) -> Any:
        return forward(qs, k, v, q_seg, k_seg)[0]

    def ring_fwd(qs: Any, k: Any, v: Any, q_seg: Any, k_seg: Any) -> tuple[Any, Any]:
        out, lse = forward(qs, k, v, q_seg, k_seg)
        return out, (qs, k, v, q_seg, k_seg, out, lse)

    ring.defvjp(ring_fwd, backward)
    return ring


# ----- the entry point ----------------------------------------------------------------------------


def attention_across_shards(
    split: SequenceSplit,
    QPos: Axis,
    KPos: Axis,
    Key: Axis,
    query: NamedArray,
    key: NamedArray,
    value: NamedArray,
    *,
    mask: NamedArray | None,
    bias: NamedArray | None,
    segment_ids: SegmentIds | None,
    scaling_factor: float | None,
    is_causal: bool,
    strategy: ContextParallel,
    kernel: Callable[..., NamedArray],
) -> NamedArray:
    """Exact attention with ``QPos`` split as ``split`` says (see the module docstring).

    ``kernel(QPos, KPos, Key, q, k, v, mask=, bias=, scaling_factor=)`` runs on each device's
    blocks for the ``"all_gather"`` strategy. The result has the query's axes, in its order.
    """
    op = "fused_attention"
    n = split.ways
    for ax in (QPos, KPos):
        if ax.size % n:
            raise PartitioningError(
                f"{op}: sequence axis {ax.name!r} of size {ax.size} is split {n} ways (mesh axes "
                f"{', '.join(repr(m) for m in split.mesh_axes)}), which does not divide it; pad the sequence "
                f"to a multiple of {n} or map {QPos.name!r} to fewer devices"
            )
    q_seg = k_seg = None
    if segment_ids is not None:
        q_seg, k_seg, _ = segment_mask(op, QPos, KPos, segment_ids)
    why_not_ring = _ring_layout(QPos, KPos, Key, query, key, value)
    if why_not_ring is None and (mask is not None or bias is not None):
        why_not_ring = "the ring takes is_causal and segment_ids, not mask= or bias="
    if strategy == "ring" and why_not_ring is not None:
        raise ConflictingOptionsError(
            f"{op}: context_parallel='ring' cannot run here: {why_not_ring}; use "
            f"context_parallel='all_gather' (or 'auto'), or express a padding/document mask as segment_ids"
        )

    shape = dict(split.mesh.shape)
    seq = split.axis_name
    dropped = {QPos.name, KPos.name, Key.name}
    base = {name: phys for name, phys in split.mapping.items() if name not in dropped}
    q_map = {**base, QPos.name: seq}
    k_map = {**base, KPos.name: seq}
    qk_map = {**base, QPos.name: seq, KPos.name: None}

    part = sys.modules["haliax.partitioning"]
    inputs: dict[str, NamedArray] = {"q": query, "k": key, "v": value}
    maps = {"q": q_map, "k": k_map, "v": k_map}
    for name, x, mp in (
        ("q_seg", q_seg, q_map),
        ("k_seg", k_seg, k_map),
        ("mask", mask, qk_map),
        ("bias", bias, qk_map),
    ):
        if x is not None:
            inputs[name], maps[name] = x, mp
    with reported_as(op):  # checks each mapping against the mesh: unknown axes, sizes, reuse
        specs = {
            name: part.sharding_for_axis(x.axes, maps[name], split.mesh).spec for name, x in inputs.items()
        }
    local = {name: _local(x.axes, specs[name], shape) for name, x in inputs.items()}

    if strategy == "auto":
        big = _score_bytes(local["q"], Key, KPos) > GATHER_MAX_SCORE_BYTES
        strategy = "ring" if why_not_ring is None and big else "all_gather"
    if scaling_factor is None:
        scaling_factor = 1.0 / math.sqrt(Key.size)
    out_axes = query.axes
    out_spec = specs["q"]
    lq = Axis(QPos.name, QPos.size // n)
    lk = Axis(KPos.name, KPos.size // n)

    def body(raw: dict[str, Any]) -> Any:
        x = {name: named_unchecked(raw[name], local[name]) for name in raw}
        with part.axis_mapping({}):  # every mesh axis is manual here: no sharding constraints
            if strategy == "ring":
                out = _ring_block(seq, n, lq, lk, Key, x, scaling_factor, is_causal)
            else:
                out = _gathered_block(seq, n, lq, lk, Key, x, scaling_factor, is_causal, kernel)
            return out.rearrange(tuple(ax.name for ax in out_axes)).array

    mapped = jax.shard_map(body, mesh=split.mesh, in_specs=(specs,), out_specs=out_spec, check_vma=False)
    # Lay each input out as its spec says first: on Explicit mesh axes shard_map takes only
    # arrays already laid out so (on Auto axes this is the constraint shard_map would add).
    with reported_as(op):
        laid = {name: part.shard(x, maps[name], split.mesh).array for name, x in inputs.items()}
    raw = mapped(laid)
    return named_unchecked(raw, out_axes)


def _score_bytes(local_q: tuple[Axis, ...], Key: Axis, KPos: Axis) -> int:
    """float32 bytes of one device's scores against every key."""
    rows = math.prod(ax.size for ax in local_q if ax.name != Key.name)
    return 4 * rows * KPos.size


def _ring_block(
    seq: str | tuple[str, ...],
    n: int,
    QPos: Axis,
    KPos: Axis,
    Key: Axis,
    x: dict[str, NamedArray],
    scaling_factor: float,
    is_causal: bool,
) -> NamedArray:
    q, k, v = x["q"], x["k"], x["v"]
    layout = KernelLayout.of_query(q, QPos, Key)

    def lay(a: NamedArray, Seq: Axis) -> Any:  # the ring's blocks are [B, N, T, H]
        return layout.to_kernel(a, Seq).transpose(0, 2, 1, 3)

    def lay_seg(name: str, Seq: Axis) -> Any:
        if name not in x:
            return None
        return x[name].broadcast_to((*layout.batch, Seq)).array.reshape(-1, Seq.size)

    qs = lay(q, QPos) * jnp.asarray(scaling_factor, q.dtype)
    out = _make_ring(seq, n, is_causal)(
        qs, lay(k, KPos), lay(v, KPos), lay_seg("q_seg", QPos), lay_seg("k_seg", KPos)
    )
    return layout.from_kernel(out.transpose(0, 2, 1, 3), QPos)


def _gathered_block(
    seq: str | tuple[str, ...],
    n: int,
    QPos: Axis,
    KPos: Axis,
    Key: Axis,
    x: dict[str, NamedArray],
    scaling_factor: float,
    is_causal: bool,
    kernel: Callable[..., NamedArray],
) -> NamedArray:
    FullK = Axis(KPos.name, KPos.size * n)

    def gather(a: NamedArray) -> NamedArray:
        dim = next(d for d, ax in enumerate(a.axes) if ax.name == KPos.name)
        full = jax.lax.all_gather(a.array, seq, axis=dim, tiled=True)
        return named_unchecked(full, tuple(FullK if ax.name == KPos.name else ax for ax in a.axes))

    k, v = gather(x["k"]), gather(x["v"])
    mask = x.get("mask")
    if is_causal:
        start = jax.lax.axis_index(seq) * QPos.size
        causal = causal_mask(QPos, FullK, q_start=start)
        mask = causal if mask is None else _and(mask, causal)
    if "q_seg" in x:
        q_seg, k_seg = x["q_seg"], gather(x["k_seg"])
        _, _, same = segment_mask("fused_attention", QPos, FullK, (q_seg, k_seg))
        mask = same if mask is None else _and(mask, same)
    return kernel(
        QPos, FullK, Key, x["q"], k, v, mask=mask, bias=x.get("bias"), scaling_factor=scaling_factor
    )


def _and(a: NamedArray, b: NamedArray) -> NamedArray:
    axes = a.axes + tuple(ax for ax in b.axes if ax.name not in {c.name for c in a.axes})
    return named_unchecked(a.broadcast_to(axes).array & b.broadcast_to(axes).array, axes)
