"""`Embedding`: a ``(Vocab, Embed)`` lookup table that can also unembed (tied output projection)."""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp

from haliax._src.axis import Axis
from haliax._src.errors import BroadcastError, NamedTypeError, format_shape
from haliax._src.named_array import NamedArray

from .contract import contract
from .mup import AbstractEmbeddingReparam, EmbeddingStandardParam, ReparamEnabled
from .sampling import truncated_normal


class Embedding(eqx.Module, ReparamEnabled):
    """A lookup table with weight axes ``(Vocab, Embed)``.

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
    Embed: Axis = eqx.field(static=True)
    reparam_cls: type[AbstractEmbeddingReparam] = eqx.field(static=True, default=EmbeddingStandardParam)

    @staticmethod
    def init(
        Vocab: Axis,
        Embed: Axis,
        *,
        key: Any,
        init_scale: float = 1.0,
        initializer_range: float | None = None,
        reparam_cls: type[AbstractEmbeddingReparam] = EmbeddingStandardParam,
    ) -> Embedding:
        """Truncated-normal weights scaled by ``init_scale * reparam_cls.init_scale(Vocab, Embed)``.

        ``initializer_range``, when given, replaces ``init_scale`` (the older spelling).
        """
        scale = initializer_range if initializer_range is not None else init_scale
        weight = truncated_normal(key, (Vocab, Embed), scale * reparam_cls.init_scale(Vocab, Embed))
        return Embedding(weight, Vocab, Embed, reparam_cls)

    @property
    def reparam(self) -> AbstractEmbeddingReparam:
        """The parameterisation instance for this table's axes."""
        return self.reparam_cls(self.Embed, self.Vocab)

    def __call__(self, input_ids: NamedArray, *, key: Any = None) -> NamedArray:
        """Same as `embed`; ``key`` is accepted for a uniform module interface and unused."""
        return self.embed(input_ids)

    def embed(self, input_ids: NamedArray) -> NamedArray:
        """Look up integer ids: the result has the ids' axes followed by ``Embed``."""
        if not isinstance(input_ids, NamedArray):
            raise NamedTypeError(
                f"Embedding: expected a NamedArray of token ids, got {type(input_ids).__name__}; "
                f"name its axes with hax.named(ids, axes)"
            )
        if not jnp.issubdtype(input_ids.dtype, jnp.integer):
            raise NamedTypeError(f"Embedding: token ids must be integers, got dtype {input_ids.dtype}")
        if any(ax.name in (self.Embed.name, self.Vocab.name) for ax in input_ids.axes):
            raise BroadcastError(
                f"Embedding: the ids {format_shape(input_ids.axes)} already have an axis named "
                f"{self.Embed.name!r} or {self.Vocab.name!r}; rename it first"
            )
        raw = jnp.take(self.weight.array, input_ids.array, axis=0)
        scale = self.reparam.active_scale
        if scale != 1.0:
            raw = raw * jnp.asarray(scale, raw.dtype)
        return NamedArray._new(raw, (*input_ids.axes, self.Embed))

    def unembed(self, input_embeds: NamedArray) -> NamedArray:
        """Logits over ``Vocab``: contract ``Embed`` with the weight (a tied output projection)."""
        out = contract("Embedding.unembed", input_embeds, self.weight, (self.Embed.name,))
        scale = self.reparam.unembed_active_scale
        if scale != 1.0:
            out = NamedArray._new(out.array * jnp.asarray(scale, out.dtype), out.axes)
        return out

    def resize_embeddings(self, new_size: int, key: Any = None) -> Embedding:
        """A table with ``new_size`` rows: truncated, or grown with rows drawn to match the old ones.

        New rows are normal samples with the existing rows' per-dimension mean and standard
        deviation when ``key`` is given, or that mean when it is not.
        """
        old = self.weight.broadcast_to((self.Vocab, self.Embed)).array
        NewVocab = self.Vocab.resize(new_size)
        if new_size <= self.Vocab.size:
            raw = old[:new_size]
        else:
            extra = new_size - self.Vocab.size
            mean = jnp.mean(old, axis=0)
            if key is None:
                rows = jnp.broadcast_to(mean, (extra, self.Embed.size))
            else:
                std = jnp.std(old, axis=0)
                rows = mean[None, :] + std[None, :] * jax.random.normal(
                    key, (extra, self.Embed.size), dtype=old.dtype
                )
            raw = jnp.concatenate([old, rows.astype(old.dtype)], axis=0)
        return Embedding(NamedArray._new(raw, (NewVocab, self.Embed)), NewVocab, self.Embed, self.reparam_cls)
