"""Scaled dot-product attention over named axes, and the masks and biases it takes.

Masks are boolean NamedArrays that are True where a query may attend to a key; biases are
added to the scores. Both broadcast by name, so a ``(QPos, KPos)`` causal mask serves every
batch element and head.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp

from haliax import NamedArray
from haliax.axis import Axis, AxisSelection, AxisSelector, AxisSpec
from haliax.errors import DuplicateAxisError, NamedTypeError
from haliax.extend import axis_not_found, format_shape, named_unchecked, reported_as, selector_name

from .contract import contract, haliax_order, names_of
from .normalization import softmax
from .sampling import as_axes

_MASKED = -1e9


def _check(op: str, x: Any, what: str, needs: tuple[str, ...]) -> None:
    if not isinstance(x, NamedArray):
        raise NamedTypeError(f"{op}: {what} must be a NamedArray, got {type(x).__name__}")
    have = {ax.name for ax in x.axes}
    missing = [n for n in needs if n not in have]
    if missing:
        raise axis_not_found(f"{op} ({what})", missing, x.axes)


def _apply_mask_and_bias(
    op: str, scores: NamedArray, mask: NamedArray | None, bias: NamedArray | None
) -> NamedArray:
    if bias is not None:
        extra = [ax.name for ax in bias.axes if ax.name not in {a.name for a in scores.axes}]
        if extra:
            raise axis_not_found(f"{op} (bias)", extra, scores.axes)
        with reported_as(f"{op} (bias)"):
            scores = scores + bias
    if mask is not None:
        extra = [ax.name for ax in mask.axes if ax.name not in {a.name for a in scores.axes}]
        if extra:
            raise axis_not_found(f"{op} (mask)", extra, scores.axes)
        with reported_as(f"{op} (mask)"):
            raw_mask = mask.broadcast_to(scores.axes).array
        scores = named_unchecked(
            jnp.where(raw_mask, scores.array, jnp.asarray(_MASKED, scores.dtype)), scores.axes
        )
    return scores


def dot_product_attention_weights(
    Key: AxisSelector,
    KPos: AxisSelection,
    query: NamedArray,
    key: NamedArray,
    mask: NamedArray | None = None,
    bias: NamedArray | None = None,
    attention_dtype: Any = None,
    precision: Any = None,
    scaling_factor: float | None = None,
) -> NamedArray:
    """Attention weights ``softmax(query · key * scale + bias, masked)`` over ``KPos``.

    ``Key`` is the contracted head dimension; ``scaling_factor`` defaults to ``1/sqrt(Key.size)``.
    Masked-out entries get -1e9 before the softmax. The weights have the query's axes, then the
    key's other axes (``Key`` left out), as ``hax.dot`` orders them, in the dtype of ``query``.
    """
    op = "dot_product_attention_weights"
    weights = _weights(op, Key, KPos, query, key, mask, bias, attention_dtype, precision, scaling_factor)
    order = haliax_order(query.axes, key.axes, (selector_name(Key),))
    return weights.rearrange(order) if tuple(ax.name for ax in weights.axes) != order else weights


def _weights(
    op: str,
    Key: AxisSelector,
    KPos: AxisSelection,
    query: NamedArray,
    key: NamedArray,
    mask: NamedArray | None,
    bias: NamedArray | None,
    attention_dtype: Any,
    precision: Any,
    scaling_factor: float | None,
) -> NamedArray:
    """`dot_product_attention_weights` in ``dot_general``'s layout (no transpose), errors worded for ``op``."""
    key_name = selector_name(Key)
    _check(op, query, "query", (key_name,))
    _check(op, key, "key", (key_name, *names_of(KPos)))
    orig_dtype = query.dtype
    if scaling_factor is None:
        scaling_factor = 1.0 / math.sqrt(query.resolve_axis(key_name).size)
    # a Python float: keeps a floating query's dtype, and lifts integer queries to float (as Haliax)
    sf = float(scaling_factor) if isinstance(scaling_factor, (int, float)) else scaling_factor
    q = named_unchecked(query.array * sf, query.axes)
    k = key
    if attention_dtype is not None:
        q, k = q.astype(attention_dtype), k.astype(attention_dtype)
    scores = contract(op, q, k, (key_name,), precision=precision, order=())
    scores = _apply_mask_and_bias(op, scores, mask, bias)
    with reported_as(op):
        weights = softmax(scores, KPos).astype(orig_dtype)
    return weights


def dot_product_attention(
    KPos: AxisSelection,
    Key: AxisSelector,
    query: NamedArray,
    key: NamedArray,
    value: NamedArray,
    mask: NamedArray | None = None,
    bias: NamedArray | None = None,
    attention_dtype: Any = None,
    precision: Any = None,
    scaling_factor: float | None = None,
) -> NamedArray:
    """Scaled dot-product attention: `dot_product_attention_weights` contracted with ``value`` over ``KPos``.

    The result has the query's axes other than ``Key`` (batch, positions, heads, in the query's
    order), then ``value``'s remaining axes (its head dimension). ``KPos`` must not be a query axis.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax, haliax.nn as hnn
        >>> Pos, KPos, Key = hax.Axis("pos", 3), hax.Axis("kpos", 3), hax.Axis("key", 2)
        >>> q = hax.ones((Pos, Key)); k = v = hax.ones((KPos, Key))
        >>> hnn.attention.dot_product_attention(KPos, Key, q, k, v).shape
        {'pos': 3, 'key': 2}
    """
    op = "dot_product_attention"
    _check(op, query, "query", ())
    _check(op, key, "key", names_of(KPos))
    _check(op, value, "value", names_of(KPos))
    overlap = [n for n in names_of(KPos) if query.has_axis(n)]
    if overlap:
        raise DuplicateAxisError(
            f"{op}: attended-to axis {overlap[0]!r} (KPos) is also a query axis {format_shape(query.axes)}; "
            f"KPos and the query's axes must be distinct: rename the key/value position axis, "
            f"e.g. key.rename({{{overlap[0]!r}: 'key_{overlap[0]}'}})"
        )
    weights = _weights(op, Key, KPos, query, key, mask, bias, attention_dtype, precision, scaling_factor)
    # The result is ordered as hax.dot(weights, value) with the weights in hax.dot's order; the
    # weights themselves stay in dot_general's layout, so only the result may need a transpose.
    w_order = haliax_order(query.axes, key.axes, (selector_name(Key),))
    w_axes = tuple(weights.resolve_axis(n) for n in w_order)
    order = haliax_order(w_axes, value.axes, names_of(KPos))
    return contract(op, weights, value, names_of(KPos), precision=precision, order=order)


def mask_to_bias(mask: NamedArray, mask_value: float = _MASKED) -> NamedArray:
    """``mask * mask_value``, as in Haliax: ``mask_value`` where the mask is True, 0 elsewhere.

    The True entries are the ones penalised, so pass the mask of positions to *exclude* (e.g.
    ``~causal_mask(...)``); to mask attention by the positions to keep, pass the mask itself as
    ``mask=`` to the attention functions instead.

    Examples:
        >>> import haliax as hax, haliax.nn as hnn
        >>> m = hnn.attention.causal_mask(hax.Axis("pos", 2), hax.Axis("kpos", 2))
        >>> hnn.attention.mask_to_bias(~m).array.tolist()
        [[0.0, -1000000000.0], [0.0, 0.0]]
    """
    return mask * mask_value


def _positions(op: str, ax: Axis, start: Any) -> Any:
    if not isinstance(ax, Axis):
        shown = f"the name {ax!r}; pass hax.Axis({ax!r}, size)" if isinstance(ax, str) else type(ax).__name__
        raise NamedTypeError(f"{op}: expected an Axis with a size, got {shown}")
    return jnp.arange(ax.size) + start


def causal_mask(QPos: Axis, KPos: Axis, q_start: Any = 0, k_start: Any = 0) -> NamedArray:
    """Boolean ``(QPos, KPos)`` mask, True where ``q + q_start >= k + k_start``.

    Examples:
        >>> import haliax as hax, haliax.nn as hnn
        >>> Q, K = hax.Axis("pos", 2), hax.Axis("kpos", 2)
        >>> hnn.attention.causal_mask(Q, K).array.tolist()
        [[True, False], [True, True]]
    """
    q = _positions("causal_mask", QPos, q_start)[:, None]
    k = _positions("causal_mask", KPos, k_start)[None, :]
    return named_unchecked(q >= k, (QPos, KPos))


def prefix_lm_mask(
    QSeqLen: Axis, KSeqLen: Axis, prefix_len: Any, q_start: Any = 0, k_start: Any = 0
) -> NamedArray:
    """Causal mask that also lets every query see the first ``prefix_len`` key positions."""
    with reported_as("prefix_lm_mask"):
        causal = causal_mask(QSeqLen, KSeqLen, q_start, k_start)
    prefix = (_positions("prefix_lm_mask", KSeqLen, k_start) < prefix_len)[None, :]
    return named_unchecked(causal.array | prefix, causal.axes)


def forgetful_causal_mask(KPos: Axis, mask_prob: float, sample_prob: bool = True, *, key: Any) -> NamedArray:
    """Random ``(KPos,)`` mask dropping key positions with probability ``mask_prob`` (position 0 always kept).

    With ``sample_prob`` the drop probability itself is drawn uniformly from ``[0, mask_prob]``.
    Combine it with `causal_mask` via `combine_masks_and`.
    """
    pkey, mkey = jax.random.split(key)
    p = jax.random.uniform(pkey, (), maxval=mask_prob) if sample_prob else mask_prob
    keep = jax.random.bernoulli(mkey, 1.0 - p, (KPos.size,))
    keep = keep.at[0].set(True)
    return named_unchecked(keep, (KPos,))


def dropout_mask(axes: AxisSpec, dropout_rate: float, *, key: Any) -> NamedArray:
    """Boolean keep-mask over ``axes``: True with probability ``1 - dropout_rate``."""
    ax = as_axes(axes)
    return named_unchecked(jax.random.bernoulli(key, 1.0 - dropout_rate, tuple(a.size for a in ax)), ax)


def _alibi_slopes(n: int) -> list[float]:
    def power_of_two(m: int) -> list[float]:
        start = 2.0 ** (-(2.0 ** -(math.log2(m) - 3)))
        return [start * start**i for i in range(m)]

    if math.log2(n).is_integer():
        return power_of_two(n)
    closest = 2 ** math.floor(math.log2(n))
    return power_of_two(closest) + power_of_two(2 * closest)[0::2][: n - closest]


def alibi_attention_bias(
    Heads: Axis, KPos: Axis, bias_max: float = 8, dtype: Any = jnp.float32
) -> NamedArray:
    """ALiBi bias ``(Heads, KPos)``: head ``h``'s slope times the key position.

    Slopes follow the ALiBi paper (geometric, ``2^(-bias_max * (h+1) / heads)`` for a
    power-of-two head count, interleaved otherwise).
    """
    if bias_max == 8:
        slopes = jnp.asarray(_alibi_slopes(Heads.size), dtype)
    else:
        slopes = jnp.asarray([2.0 ** (-bias_max * (h + 1) / Heads.size) for h in range(Heads.size)], dtype)
    raw = slopes[:, None] * jnp.arange(KPos.size, dtype=dtype)[None, :]
    return named_unchecked(raw, (Heads, KPos))


def _union(m1: NamedArray, m2: NamedArray) -> tuple[Any, Any, tuple[Axis, ...]]:
    """Both masks as raw arrays over the union of their axes (masks on disjoint axes combine to an outer product)."""
    have = {ax.name for ax in m1.axes}
    axes = m1.axes + tuple(ax for ax in m2.axes if ax.name not in have)
    return m1.broadcast_to(axes).array, m2.broadcast_to(axes).array, axes


def combine_masks_and(mask1: NamedArray | None, mask2: NamedArray | None) -> NamedArray | None:
    """Logical AND of two masks broadcast by name; ``None`` means "no mask"."""
    if mask1 is None:
        return mask2
    if mask2 is None:
        return mask1
    a, b, axes = _union(mask1, mask2)
    return named_unchecked(a & b, axes)


def combine_masks_or(mask1: NamedArray | None, mask2: NamedArray | None) -> NamedArray | None:
    """Logical OR of two masks broadcast by name; ``None`` means "no mask"."""
    if mask1 is None:
        return mask2
    if mask2 is None:
        return mask1
    a, b, axes = _union(mask1, mask2)
    return named_unchecked(a | b, axes)
