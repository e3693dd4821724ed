"""Losses: softmax and sigmoid cross-entropy, and the reduction they share."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from haliax._src.axis import AxisSelection, AxisSelector
from haliax._src.errors import NamedTypeError, axis_not_found, format_shape
from haliax._src.lift import axis_positions
from haliax._src.named_array import NamedArray
from haliax._src.reductions import mean as _mean
from haliax._src.sentinels import UNSPECIFIED, Unspecified

from .normalization import logsumexp


def cross_entropy_loss_and_log_normalizers(
    pred_y: NamedArray, Label: AxisSelector, target_y: NamedArray
) -> tuple[NamedArray, NamedArray]:
    """Per-position softmax cross-entropy over ``Label`` and the log-normalizers ``logsumexp(pred_y)``.

    ``target_y`` holds probabilities (or one-hot rows) over ``Label``; integer targets without
    the ``Label`` axis are class indices. Both results have ``pred_y``'s axes minus ``Label``.
    """
    label = Label if isinstance(Label, str) else Label.name
    names = [ax.name for ax in pred_y.axes]
    if label not in names:
        raise axis_not_found("cross_entropy_loss", [label], pred_y.axes)
    log_normalizers = logsumexp(pred_y, label)
    if not target_y.has_axis(label) and jnp.issubdtype(target_y.dtype, jnp.integer):
        pos = names.index(label)
        idx = target_y.broadcast_to(log_normalizers.axes).array
        picked = jnp.take_along_axis(pred_y.array, jnp.expand_dims(idx, pos), axis=pos).squeeze(pos)
        loss = log_normalizers - NamedArray._new(picked, log_normalizers.axes)
        return loss, log_normalizers
    if not target_y.has_axis(label):
        raise axis_not_found("cross_entropy_loss", [label], target_y.axes)
    neg_log_probs = log_normalizers - pred_y
    loss = (target_y * neg_log_probs).sum(label)
    return loss, log_normalizers


def maybe_reduce_loss(
    arr: NamedArray,
    reduction: Any,
    reduction_axis: AxisSelection | None,
    where: NamedArray | None,
) -> NamedArray:
    """Reduce ``arr`` with ``reduction`` over ``reduction_axis`` (None: all), or return it when ``reduction`` is None."""
    if reduction is None:
        return arr if where is None else arr * where
    if reduction_axis is not None:
        axis_positions("reduce_loss", arr, reduction_axis)
    return reduction(arr, reduction_axis, where=where)


def reduce_loss(
    arr: NamedArray,
    reduction: Any = UNSPECIFIED,
    reduction_axis: AxisSelection | None = None,
    where: NamedArray | None = None,
) -> NamedArray:
    """Reduce a loss: the mean by default, ``reduction=None`` keeps it per element."""
    if isinstance(reduction, Unspecified):
        reduction = _mean
    return maybe_reduce_loss(arr, reduction, reduction_axis, where)


def cross_entropy_loss(
    logits: NamedArray,
    Label: AxisSelector,
    targets: NamedArray,
    reduction: Any = UNSPECIFIED,
    where: NamedArray | None = None,
    reduction_axis: AxisSelection | None = None,
) -> NamedArray:
    """Softmax cross-entropy of ``logits`` against ``targets`` over ``Label``, reduced (mean by default).

    Example:
        >>> import haliax as hax, haliax.nn as hnn
        >>> L = hax.Axis("label", 4)
        >>> round(float(hnn.cross_entropy_loss(hax.zeros(L), L, hnn.one_hot(1, L)).array), 4)
        1.3863
    """
    if not isinstance(logits, NamedArray) or not isinstance(targets, NamedArray):
        raise NamedTypeError("cross_entropy_loss: logits and targets must be NamedArrays")
    loss, _ = cross_entropy_loss_and_log_normalizers(logits, Label, targets)
    return reduce_loss(loss, reduction, reduction_axis, where)


def binary_cross_entropy_loss(
    logits: NamedArray,
    targets: NamedArray,
    reduction: Any = UNSPECIFIED,
    where: NamedArray | None = None,
    reduction_axis: AxisSelection | None = None,
) -> NamedArray:
    """Sigmoid binary cross-entropy of ``logits`` against ``targets`` (0/1 or probabilities), reduced like `cross_entropy_loss`."""
    if not isinstance(logits, NamedArray) or not isinstance(targets, NamedArray):
        raise NamedTypeError("binary_cross_entropy_loss: logits and targets must be NamedArrays")
    if not targets.has_axis(tuple(ax.name for ax in logits.axes)) or len(targets.axes) != len(logits.axes):
        raise NamedTypeError(
            f"binary_cross_entropy_loss: targets {format_shape(targets.axes)} must have the logits' axes "
            f"{format_shape(logits.axes)}"
        )
    t = targets.broadcast_to(logits.axes).array.astype(logits.dtype)
    x = logits.array
    raw = -(t * jax.nn.log_sigmoid(x) + (1 - t) * jax.nn.log_sigmoid(-x))
    return reduce_loss(NamedArray._new(raw, logits.axes), reduction, reduction_axis, where)
