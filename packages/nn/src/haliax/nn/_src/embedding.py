"""`Embedding`: a ``(Vocab, Embed)`` lookup table that can also unembed (tied output projection)."""

from __future__ import annotations

import warnings

import equinox as eqx
import jax
import jax.numpy as jnp

from haliax import NamedArray
from haliax.axis import Axis, AxisSpec
from haliax.errors import BroadcastError, NamedTypeError
from haliax.extend import axis_not_found, format_shape, named_unchecked

from .contract import contract, names_of
from .mup import AbstractEmbeddingReparam, EmbeddingStandardParam, ReparamEnabled
from .sampling import as_axes, truncated_normal


class Embedding(eqx.Module, ReparamEnabled):
    """A lookup table with weight axes ``(Vocab, *Embed)``; ``Embed`` is one axis or several.

    Ids may carry an axis named like ``Vocab`` (position embeddings: ``Embedding(Vocab=Pos)``
    looked up with ``hax.arange(Pos)``).

    Examples:
        >>> import jax, haliax as hax, haliax.nn as hnn
        >>> Vocab, Embed = hax.Axis("vocab", 10), hax.Axis("embed", 4)
        >>> emb = hnn.Embedding.init(Vocab, Embed, key=jax.random.PRNGKey(0))
        >>> ids = hax.named(jax.numpy.array([1, 2, 3]), "position")
        >>> emb(ids).shape
        {'position': 3, 'embed': 4}
    """

    weight: NamedArray
    Vocab: Axis = eqx.field(static=True)
    Embed: AxisSpec = eqx.field(static=True)
    _reparam_cls: type[AbstractEmbeddingReparam] = eqx.field(static=True, default=EmbeddingStandardParam)

    @staticmethod
    def init(
        Vocab: Axis,
        Embed: AxisSpec,
        *,
        key: jax.Array,
        init_scale: float = 1.0,
        initializer_range: float | None = None,
        reparam_cls: type[AbstractEmbeddingReparam] = EmbeddingStandardParam,
    ) -> Embedding:
        """Truncated-normal weights scaled by ``init_scale * reparam_cls.init_scale(Vocab, Embed)``.

        With the standard parameterisation that is ``init_scale / Embed.size``.
        ``initializer_range`` (deprecated, with a warning) replaces ``init_scale``.
        """
        op = "Embedding.init"
        if initializer_range is not None:
            warnings.warn(
                f"{op}: initializer_range is deprecated; pass init_scale instead",
                DeprecationWarning,
                stacklevel=2,
            )
            init_scale = initializer_range
        vocab = as_axes(Vocab, op)
        if len(vocab) != 1:
            raise NamedTypeError(f"{op}: Vocab must be one Axis, got {format_shape(vocab)}")
        embed = as_axes(Embed, op)
        weight = truncated_normal(
            key, vocab + embed, init_scale * reparam_cls.init_scale(Vocab, Embed), op=op
        )
        return Embedding(weight, Vocab, Embed, reparam_cls)

    @property
    def reparam(self) -> AbstractEmbeddingReparam:
        """The parameterisation instance for this table's axes."""
        return self._reparam_cls(self.Embed, self.Vocab)

    def __call__(self, input_ids: NamedArray, *, key: jax.Array | None = None) -> NamedArray:
        """Same as `embed`; ``key`` is accepted for a uniform module interface and unused."""
        return self.embed(input_ids)

    def embed(self, input_ids: NamedArray) -> NamedArray:
        """Look up integer ids: the weight's ``Vocab`` axis is replaced by the ids' axes."""
        op = "Embedding"
        if not isinstance(input_ids, NamedArray):
            raise NamedTypeError(
                f"{op}: expected a NamedArray of token ids, got {type(input_ids).__name__}; "
                f"name its axes with hax.named(ids, axes)"
            )
        if not jnp.issubdtype(input_ids.dtype, jnp.integer):
            raise NamedTypeError(f"{op}: token ids must be integers, got dtype {input_ids.dtype}")
        w_names = [ax.name for ax in self.weight.axes]
        vocab = self.Vocab.name
        if vocab not in w_names:
            raise axis_not_found(op, [vocab], self.weight.axes)
        pos = w_names.index(vocab)
        rest = self.weight.axes[:pos] + self.weight.axes[pos + 1 :]
        clash = [ax.name for ax in input_ids.axes if ax.name in {a.name for a in rest}]
        if clash:
            raise BroadcastError(
                f"{op}: the ids {format_shape(input_ids.axes)} have axis {clash[0]!r}, which the table "
                f"{format_shape(self.weight.axes)} also has; rename it first (ids.rename(...))"
            )
        raw = jnp.take(self.weight.array, input_ids.array, axis=pos)
        scale = self.reparam.active_scale
        if scale != 1.0:
            raw = raw * jnp.asarray(scale, raw.dtype)
        return named_unchecked(raw, (*self.weight.axes[:pos], *input_ids.axes, *self.weight.axes[pos + 1 :]))

    def unembed(self, input_embeds: NamedArray) -> NamedArray:
        """Logits over ``Vocab``: contract ``Embed`` with the weight (a tied output projection)."""
        out = contract("Embedding.unembed", input_embeds, self.weight, names_of(self.Embed))
        scale = self.reparam.unembed_active_scale
        if scale != 1.0:
            out = named_unchecked(out.array * jnp.asarray(scale, out.dtype), out.axes)
        return out

    def resize_embeddings(self, new_size: int, key: jax.Array | None = None) -> Embedding:
        """A table with ``new_size`` rows: truncated, or grown with rows drawn to match the old ones.

        New rows are normal samples with the existing rows' per-dimension mean and standard
        deviation when ``key`` is given, or that mean when it is not.
        """
        embed = as_axes(self.Embed, "Embedding.resize_embeddings")
        old = self.weight.broadcast_to((self.Vocab, *embed)).array.reshape(self.Vocab.size, -1)
        width = old.shape[1]
        NewVocab = self.Vocab.resize(new_size)
        if new_size <= self.Vocab.size:
            raw = old[:new_size]
        else:
            extra = new_size - self.Vocab.size
            mean = jnp.mean(old, axis=0)
            if key is None:
                rows = jnp.broadcast_to(mean, (extra, width))
            else:
                std = jnp.std(old, axis=0)
                rows = mean[None, :] + std[None, :] * jax.random.normal(key, (extra, width), dtype=old.dtype)
            raw = jnp.concatenate([old, rows.astype(old.dtype)], axis=0)
        raw = raw.reshape(new_size, *(ax.size for ax in embed))
        return Embedding(named_unchecked(raw, (NewVocab, *embed)), NewVocab, self.Embed, self._reparam_cls)
