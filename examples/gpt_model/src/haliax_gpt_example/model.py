"""A GPT-2-style decoder written with haliax.nn: every axis has a name, no positional indices."""

from __future__ import annotations

import dataclasses

import equinox as eqx
import jax

import haliax as hax
import haliax.nn as hnn


@dataclasses.dataclass(frozen=True)
class GPTConfig:
    """Sizes of the model; axes are derived from them."""

    vocab: int = 256
    seq_len: int = 128
    embed: int = 128
    heads: int = 4
    mlp_ratio: int = 4
    layers: int = 4
    gradient_checkpointing: bool | str = False
    scan_unroll: int | bool = 1

    @property
    def Vocab(self) -> hax.Axis:
        return hax.Axis("vocab", self.vocab)

    @property
    def Pos(self) -> hax.Axis:
        return hax.Axis("position", self.seq_len)

    @property
    def KPos(self) -> hax.Axis:
        return self.Pos.alias("key_position")

    @property
    def Embed(self) -> hax.Axis:
        return hax.Axis("embed", self.embed)

    @property
    def Heads(self) -> hax.Axis:
        return hax.Axis("heads", self.heads)

    @property
    def HeadSize(self) -> hax.Axis:
        return hax.Axis("head_size", self.embed // self.heads)

    @property
    def Mlp(self) -> hax.Axis:
        return hax.Axis("mlp", self.embed * self.mlp_ratio)

    @property
    def Layers(self) -> hax.Axis:
        return hax.Axis("layers", self.layers)

    def n_params(self) -> int:
        """Parameter count without embeddings' position table (for the 6N FLOPs rule)."""
        per_layer = 4 * self.embed * self.embed + 2 * self.embed * self.embed * self.mlp_ratio
        return self.layers * per_layer + self.vocab * self.embed


class Attention(eqx.Module):
    qkv: hnn.Linear  # embed -> (qkv, heads, head_size)
    out: hnn.Linear  # (heads, head_size) -> embed
    config: GPTConfig = eqx.field(static=True)

    @staticmethod
    def init(config: GPTConfig, *, key: jax.Array) -> Attention:
        k1, k2 = jax.random.split(key)
        Qkv = hax.Axis("qkv", 3)
        qkv = hnn.Linear.init(In=config.Embed, Out=(Qkv, config.Heads, config.HeadSize), key=k1)
        out = hnn.Linear.init(In=(config.Heads, config.HeadSize), Out=config.Embed, key=k2)
        return Attention(qkv, out, config)

    def __call__(self, x: hax.NamedArray) -> hax.NamedArray:
        c = self.config
        qkv = self.qkv(x)
        q = qkv["qkv", 0]
        k = qkv["qkv", 1].rename({"position": "key_position"})
        v = qkv["qkv", 2].rename({"position": "key_position"})
        attn = hnn.attention.fused_attention(c.Pos, c.KPos, c.HeadSize, q, k, v, is_causal=True)
        return self.out(attn)


class Block(eqx.Module):
    ln_1: hnn.LayerNorm
    attn: Attention
    ln_2: hnn.LayerNorm
    mlp_in: hnn.Linear
    mlp_out: hnn.Linear

    @staticmethod
    def init(config: GPTConfig, *, key: jax.Array) -> Block:
        k1, k2, k3 = jax.random.split(key, 3)
        return Block(
            ln_1=hnn.LayerNorm.init(config.Embed),
            attn=Attention.init(config, key=k1),
            ln_2=hnn.LayerNorm.init(config.Embed),
            mlp_in=hnn.Linear.init(In=config.Embed, Out=config.Mlp, key=k2),
            mlp_out=hnn.Linear.init(In=config.Mlp, Out=config.Embed, key=k3),
        )

    def __call__(self, x: hax.NamedArray) -> hax.NamedArray:
        x = x + self.attn(self.ln_1(x))
        h = hnn.gelu(self.mlp_in(self.ln_2(x)))
        return x + self.mlp_out(h)


class GPT(eqx.Module):
    token_embeddings: hnn.Embedding
    position_embeddings: hnn.Embedding
    blocks: hnn.Stacked
    ln_f: hnn.LayerNorm
    config: GPTConfig = eqx.field(static=True)

    @staticmethod
    def init(config: GPTConfig, *, key: jax.Array) -> GPT:
        k_tok, k_pos, k_blocks = jax.random.split(key, 3)
        blocks = hnn.Stacked.init(
            config.Layers,
            Block,
            gradient_checkpointing=config.gradient_checkpointing,
            unroll=config.scan_unroll,
        )(config, key=jax.random.split(k_blocks, config.layers))
        return GPT(
            token_embeddings=hnn.Embedding.init(config.Vocab, config.Embed, key=k_tok, init_scale=0.02),
            position_embeddings=hnn.Embedding.init(config.Pos, config.Embed, key=k_pos, init_scale=0.01),
            blocks=blocks,
            ln_f=hnn.LayerNorm.init(config.Embed),
            config=config,
        )

    def __call__(self, tokens: hax.NamedArray) -> hax.NamedArray:
        """Logits over ``vocab`` for each position of ``tokens`` (an int array with a ``position`` axis)."""
        # The position table is (position, embed): exactly the embeddings of positions 0..seq_len-1.
        x = self.token_embeddings(tokens) + self.position_embeddings.weight
        x = self.blocks.fold(x)
        x = self.ln_f(x)
        return self.token_embeddings.unembed(x)


def loss_fn(model: GPT, window: hax.NamedArray) -> jax.Array:
    """Mean next-token cross-entropy; ``window`` holds ``seq_len + 1`` tokens along ``window``."""
    c = model.config
    inputs = window["window", 0 : c.seq_len].rename({"window": "position"})
    targets = window["window", 1 : c.seq_len + 1].rename({"window": "position"})
    logits = model(inputs)
    # Integer targets take the memory-lean path: no one-hot {batch, position, vocab} array, and
    # float32 only inside the reductions (see haliax.nn.loss.cross_entropy_loss).
    loss = hnn.cross_entropy_loss(logits, c.Vocab, targets)
    return loss.scalar()
