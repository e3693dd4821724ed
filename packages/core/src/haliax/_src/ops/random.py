"""Random samplers shaped by axes: ``hax.random.normal(key, (Batch, Embed))``.

Each sampler calls the `jax.random` function of the same name with the positional shape of the
requested axes, so its samples are bit-identical to jax's for the same key and shape. Parameters
(``minval``, ``p``, ``a``...) may be scalars or NamedArrays; a NamedArray parameter is broadcast by
name into the requested axes (its axes must be among them) before the call.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
from jax.typing import DTypeLike

from ..base.axis import Axis, AxisSelector, AxisSpec, sized_axes
from ..base.errors import BroadcastError, NamedTypeError, axis_not_found, format_shape
from ..base.named_array import NamedArray, require_named
from ..base.types import NamedOrNumeric
from .broadcast import align_raw, broadcast_to
from .lift import axis_positions, check_unnamed


def _axes(op: str, shape: AxisSpec) -> tuple[Axis, ...]:
    return sized_axes(op, shape, why=" to sample", fix="pass hax.Axis({ax!r}, n)")


def _param(op: str, value: Any, axes: tuple[Axis, ...]) -> Any:
    """A raw parameter for jax.random: NamedArrays broadcast into ``axes``; scalars as they are."""
    if not isinstance(value, NamedArray):
        return check_unnamed(op, axes, value)
    names = {ax.name for ax in axes}
    extra = [ax.name for ax in value.axes if ax.name not in names]
    if extra:
        raise BroadcastError(
            f"{op}: the parameter {format_shape(value.axes)} has axes {extra} that the requested shape "
            f"{format_shape(axes)} lacks; add them to the shape or reduce them away"
        )
    # Size-1 dimensions for the axes the parameter lacks: jax.random broadcasts them itself, as it
    # does for a hand-written ``b.reshape(1, -1)``, so samples match jax's bit for bit.
    return align_raw(op, value, axes)


def _shape(axes: tuple[Axis, ...]) -> tuple[int, ...]:
    return tuple(ax.size for ax in axes)


def uniform(
    key: jax.Array,
    shape: AxisSpec,
    dtype: DTypeLike = float,
    minval: NamedOrNumeric = 0.0,
    maxval: NamedOrNumeric = 1.0,
) -> NamedArray:
    """Uniform samples in ``[minval, maxval)`` with the given axes.

    Examples:
        >>> import jax, haliax as hax
        >>> x = hax.random.uniform(jax.random.PRNGKey(0), (hax.Axis("batch", 2), hax.Axis("embed", 3)))
        >>> x.shape
        {'batch': 2, 'embed': 3}
    """
    axes = _axes("uniform", shape)
    lo, hi = _param("uniform", minval, axes), _param("uniform", maxval, axes)
    return NamedArray._new(jax.random.uniform(key, _shape(axes), dtype, lo, hi), axes)


def normal(key: jax.Array, shape: AxisSpec, dtype: DTypeLike = float) -> NamedArray:
    """Standard normal samples with the given axes.

    Examples:
        >>> import jax, haliax as hax
        >>> hax.random.normal(jax.random.PRNGKey(0), hax.Axis("embed", 4)).shape
        {'embed': 4}
    """
    axes = _axes("normal", shape)
    return NamedArray._new(jax.random.normal(key, _shape(axes), dtype), axes)


def bernoulli(key: jax.Array, shape: AxisSpec, p: Any) -> NamedArray:
    """Boolean samples that are True with probability ``p``."""
    axes = _axes("bernoulli", shape)
    return NamedArray._new(jax.random.bernoulli(key, _param("bernoulli", p, axes), _shape(axes)), axes)


def randint(
    key: jax.Array, shape: AxisSpec, minval: NamedOrNumeric, maxval: NamedOrNumeric, dtype: DTypeLike = int
) -> NamedArray:
    """Integer samples in ``[minval, maxval)``."""
    axes = _axes("randint", shape)
    lo, hi = _param("randint", minval, axes), _param("randint", maxval, axes)
    return NamedArray._new(jax.random.randint(key, _shape(axes), lo, hi, dtype), axes)


def poisson(key: jax.Array, shape: AxisSpec, lam: Any, dtype: DTypeLike = int) -> NamedArray:
    """Poisson samples with rate ``lam``."""
    axes = _axes("poisson", shape)
    return NamedArray._new(jax.random.poisson(key, _param("poisson", lam, axes), _shape(axes), dtype), axes)


def exponential(key: jax.Array, shape: AxisSpec, dtype: DTypeLike = float) -> NamedArray:
    """Exponential samples with rate 1."""
    axes = _axes("exponential", shape)
    return NamedArray._new(jax.random.exponential(key, _shape(axes), dtype), axes)


def gamma(key: jax.Array, shape: AxisSpec, a: Any, dtype: DTypeLike = float) -> NamedArray:
    """Gamma samples with shape parameter ``a``."""
    axes = _axes("gamma", shape)
    return NamedArray._new(jax.random.gamma(key, _param("gamma", a, axes), _shape(axes), dtype), axes)


def loggamma(key: jax.Array, shape: AxisSpec, a: Any, dtype: DTypeLike = float) -> NamedArray:
    """Logarithms of gamma samples with shape parameter ``a`` (accurate for small ``a``)."""
    axes = _axes("loggamma", shape)
    return NamedArray._new(jax.random.loggamma(key, _param("loggamma", a, axes), _shape(axes), dtype), axes)


def beta(key: jax.Array, shape: AxisSpec, a: Any, b: Any, dtype: DTypeLike = float) -> NamedArray:
    """Beta(``a``, ``b``) samples."""
    axes = _axes("beta", shape)
    pa, pb = _param("beta", a, axes), _param("beta", b, axes)
    return NamedArray._new(jax.random.beta(key, pa, pb, _shape(axes), dtype), axes)


def laplace(key: jax.Array, shape: AxisSpec, dtype: DTypeLike = float) -> NamedArray:
    """Laplace samples (location 0, scale 1)."""
    axes = _axes("laplace", shape)
    return NamedArray._new(jax.random.laplace(key, _shape(axes), dtype), axes)


def cauchy(key: jax.Array, shape: AxisSpec, dtype: DTypeLike = float) -> NamedArray:
    """Standard Cauchy samples."""
    axes = _axes("cauchy", shape)
    return NamedArray._new(jax.random.cauchy(key, _shape(axes), dtype), axes)


def logistic(key: jax.Array, shape: AxisSpec, dtype: DTypeLike = float) -> NamedArray:
    """Standard logistic samples."""
    axes = _axes("logistic", shape)
    return NamedArray._new(jax.random.logistic(key, _shape(axes), dtype), axes)


def gumbel(key: jax.Array, shape: AxisSpec, dtype: DTypeLike = float) -> NamedArray:
    """Standard Gumbel samples."""
    axes = _axes("gumbel", shape)
    return NamedArray._new(jax.random.gumbel(key, _shape(axes), dtype), axes)


def rademacher(key: jax.Array, shape: AxisSpec, dtype: DTypeLike = float) -> NamedArray:
    """Random +1/-1 samples (floats by default, as in Haliax)."""
    axes = _axes("rademacher", shape)
    return NamedArray._new(jax.random.rademacher(key, _shape(axes), dtype), axes)


def truncated_normal(
    key: jax.Array, shape: AxisSpec, lower: Any, upper: Any, dtype: DTypeLike = float
) -> NamedArray:
    """Standard normal samples truncated to ``[lower, upper]``."""
    axes = _axes("truncated_normal", shape)
    lo, hi = _param("truncated_normal", lower, axes), _param("truncated_normal", upper, axes)
    return NamedArray._new(jax.random.truncated_normal(key, lo, hi, _shape(axes), dtype), axes)


def t(key: jax.Array, shape: AxisSpec, df: Any, dtype: DTypeLike = float) -> NamedArray:
    """Student-t samples with ``df`` degrees of freedom."""
    axes = _axes("t", shape)
    return NamedArray._new(jax.random.t(key, _param("t", df, axes), _shape(axes), dtype), axes)


def pareto(key: jax.Array, shape: AxisSpec, b: Any, dtype: DTypeLike = float) -> NamedArray:
    """Pareto samples with shape parameter ``b``."""
    axes = _axes("pareto", shape)
    return NamedArray._new(jax.random.pareto(key, _param("pareto", b, axes), _shape(axes), dtype), axes)


def weibull_min(
    key: jax.Array, shape: AxisSpec, scale: Any, concentration: Any, dtype: DTypeLike = float
) -> NamedArray:
    """Weibull samples with the given ``scale`` and ``concentration``."""
    axes = _axes("weibull_min", shape)
    sc, co = _param("weibull_min", scale, axes), _param("weibull_min", concentration, axes)
    return NamedArray._new(jax.random.weibull_min(key, sc, co, _shape(axes), dtype), axes)


def ball(key: jax.Array, shape: AxisSpec, D: Axis, p: float = 2.0, dtype: DTypeLike = float) -> NamedArray:
    """Points drawn uniformly from the unit ``p``-norm ball; ``D`` is the vector axis, added last.

    Examples:
        >>> import jax, haliax as hax
        >>> hax.random.ball(jax.random.PRNGKey(0), hax.Axis("batch", 2), hax.Axis("dim", 3)).shape
        {'batch': 2, 'dim': 3}
    """
    axes = _axes("ball", shape)
    return NamedArray._new(jax.random.ball(key, D.size, p, _shape(axes), dtype), (*axes, D))


def choice(
    key: jax.Array, shape: AxisSpec, a: NamedArray, axis: AxisSelector, replace: bool = True, p: Any = None
) -> NamedArray:
    """Pick elements of ``a`` along ``axis``; the axis is replaced by ``shape`` in the result.

    ``p`` (optional) gives the probability of each position of ``axis``: a NamedArray with only
    that axis, or a 1-d array.

    Examples:
        >>> import jax, jax.numpy as jnp, haliax as hax
        >>> a = hax.named(jnp.arange(10), "vocab")
        >>> hax.random.choice(jax.random.PRNGKey(0), hax.Axis("sample", 4), a, "vocab").shape
        {'sample': 4}
    """
    axes = _axes("choice", shape)
    if not isinstance(a, NamedArray):
        raise NamedTypeError(f"choice: expected a NamedArray to choose from, got {type(a).__name__}")
    (pos,) = axis_positions("choice", a, axis)
    if isinstance(p, NamedArray):
        if len(p.axes) != 1 or p.axes[0] != a.axes[pos]:
            raise BroadcastError(
                f"choice: p must have exactly the axis {format_shape([a.axes[pos]])}, got {format_shape(p.axes)}"
            )
        p = p.array
    out = jax.random.choice(key, a.array, _shape(axes), replace=replace, p=p, axis=pos)
    return NamedArray._new(out, a.axes[:pos] + axes + a.axes[pos + 1 :])


def categorical(
    key: jax.Array, logits: NamedArray, axis: AxisSelector, shape: AxisSpec | None = None
) -> NamedArray:
    """Sample indices along ``axis`` from unnormalized log-probabilities; other axes are batched.

    Without ``shape`` the result has ``logits``'s axes less ``axis``. With ``shape``, ``logits``'s
    other axes must be among ``shape``'s and are broadcast to it.

    Examples:
        >>> import jax, jax.numpy as jnp, haliax as hax
        >>> logits = hax.named(jnp.zeros((2, 5)), ("batch", "vocab"))
        >>> hax.random.categorical(jax.random.PRNGKey(0), logits, "vocab").shape
        {'batch': 2}
    """
    if not isinstance(logits, NamedArray):
        raise NamedTypeError(f"categorical: expected NamedArray logits, got {type(logits).__name__}")
    (pos,) = axis_positions("categorical", logits, axis)
    if shape is None:
        out_axes = logits.axes[:pos] + logits.axes[pos + 1 :]
        return NamedArray._new(jax.random.categorical(key, logits.array, axis=pos), out_axes)
    axes = _axes("categorical", shape)
    cat = logits.axes[pos]
    if any(ax.name == cat.name for ax in axes):
        raise NamedTypeError(
            f"categorical: the sample shape {format_shape(axes)} contains the category axis {cat.name!r}"
        )
    batch = logits.axes[:pos] + logits.axes[pos + 1 :]
    names = {ax.name for ax in axes}
    missing = [ax.name for ax in batch if ax.name not in names]
    if missing:
        raise axis_not_found("categorical", missing, axes)
    # Lay the logits out as Haliax does, so the samples are the same: missing sample axes in front
    # of the logits' own, the category axis where it falls; or, when the other axes are not in
    # ``shape``'s order (jax pairs them with ``shape`` by position), ``shape`` then the category.
    have = {ax.name for ax in logits.axes}
    layout = [ax for ax in axes if ax.name not in have] + list(logits.axes)
    cat_pos = next(i for i, ax in enumerate(layout) if ax.name == cat.name)
    if tuple(ax for ax in layout if ax.name != cat.name) != axes:
        cat_pos = len(axes)
    layout = list(axes)
    layout.insert(cat_pos, cat)
    raw = broadcast_to(logits, tuple(layout)).array
    return NamedArray._new(jax.random.categorical(key, raw, axis=cat_pos, shape=_shape(axes)), axes)


def permutation(key: jax.Array, x: NamedArray, axis: AxisSelector, independent: bool = False) -> NamedArray:
    """Shuffle ``x`` along ``axis``; ``independent`` shuffles each slice along it separately.

    Examples:
        >>> import jax, jax.numpy as jnp, haliax as hax
        >>> x = hax.named(jnp.arange(5), "pos")
        >>> sorted(hax.random.permutation(jax.random.PRNGKey(0), x, "pos").tolist())
        [0, 1, 2, 3, 4]
    """
    require_named("permutation", x)
    (pos,) = axis_positions("permutation", x, axis)
    return NamedArray._new(jax.random.permutation(key, x.array, axis=pos, independent=independent), x.axes)


def maybe_rng_split(key: jax.Array | None, num: int = 2) -> Any:
    """Split ``key`` into ``num`` keys; a ``None`` key gives a list of ``num`` Nones."""
    if key is None:
        return [None] * num
    return jax.random.split(key, num)


def shaped_rng_split(key: jax.Array, split_shape: int | Sequence[int] = 2) -> Any:
    """Split a PRNG key into an array of keys of shape ``split_shape`` (plus the key's own shape).

    Examples:
        >>> import jax
        >>> from haliax.jax_utils import shaped_rng_split
        >>> shaped_rng_split(jax.random.PRNGKey(0), (2, 3)).shape
        (2, 3, 2)
    """
    shape = (split_shape,) if isinstance(split_shape, int) else tuple(split_shape)
    return jax.random.split(key, shape)
