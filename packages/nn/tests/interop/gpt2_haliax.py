"""A GPT-2 built from haliax.nn whose torch-compatible state dict is Hugging Face's ``GPT2LMHeadModel``'s.

Field names are the checkpoint's key parts (``transformer.h.0.attn.c_attn.weight``), `Stacked`
writes its layers as ``h.0.``, ``h.1.``, ..., and the output projection is tied to the token
embedding (so, as in Hugging Face checkpoints, there is no ``lm_head.weight`` key).

Hugging Face's GPT-2 stores its projections as ``Conv1D`` modules, whose weight is ``(in, out)``:
the transpose of ``torch.nn.Linear``'s. `Conv1DLinear` wraps an `haliax.nn.Linear` and only
changes its export layout, through the state-dict export hooks; the computation is the Linear's.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import equinox as eqx
import jax

import haliax as hax
import haliax.nn as hnn
from haliax import NamedArray
from haliax.axis import Axis, AxisSpec
from haliax.extend import named_unchecked
from haliax.state_dict import ModuleWithStateDictSerialization


@dataclasses.dataclass(frozen=True)
class Gpt2Config:
    """The sizes of Hugging Face's ``GPT2Config`` that the model uses."""

    vocab_size: int = 128
    n_positions: int = 32
    n_embd: int = 64
    n_layer: int = 2
    n_head: int = 4
    layer_norm_epsilon: float = 1e-5

    @property
    def Vocab(self) -> Axis:
        return Axis("vocab", self.vocab_size)

    @property
    def MaxPos(self) -> Axis:
        return Axis("max_position", self.n_positions)

    @property
    def Embed(self) -> Axis:
        return Axis("embed", self.n_embd)

    @property
    def Heads(self) -> Axis:
        return Axis("heads", self.n_head)

    @property
    def HeadSize(self) -> Axis:
        return Axis("head_size", self.n_embd // self.n_head)

    @property
    def Qkv(self) -> Axis:
        return Axis("qkv", 3)

    @property
    def Mlp(self) -> Axis:
        return Axis("mlp", 4 * self.n_embd)

    @property
    def Layers(self) -> Axis:
        return Axis("layers", self.n_layer)


def _swap_last_two(x: NamedArray) -> NamedArray:
    axes = (*x.axes[:-2], x.axes[-1], x.axes[-2])
    return named_unchecked(x.array.swapaxes(-1, -2), axes)


class Conv1DLinear(ModuleWithStateDictSerialization):
    """An `haliax.nn.Linear` exported in Hugging Face ``Conv1D`` layout: a 2-D ``(in, out)`` weight.

    Its keys are the Linear's (``weight``, ``bias``) directly under the module's prefix.
    """

    linear: hnn.Linear

    @staticmethod
    def init(In: AxisSpec, Out: AxisSpec, *, key: Any) -> Conv1DLinear:
        return Conv1DLinear(hnn.Linear.init(In, Out, key=key, init_scale=0.02))

    def __call__(self, x: NamedArray) -> NamedArray:
        return self.linear(x)

    def _state_dict_key_map(self) -> dict[str, str | None]:
        return {"linear": None}

    def flatten_for_export(self) -> Conv1DLinear:
        # Export runs outermost first (as in Haliax): flatten the Linear to its 2-D (out, in)
        # weight here, then store the transpose, as Conv1D does. The Linear's own hook, run next,
        # sees single In/Out axes and leaves it as it is.
        linear = self.linear.flatten_for_export()
        return Conv1DLinear(dataclasses.replace(linear, weight=_swap_last_two(linear.weight)))

    def unflatten_from_export(self, template: Conv1DLinear) -> Conv1DLinear:
        # Import runs outermost first too: undo the transpose, then let the Linear restore its axes.
        linear = dataclasses.replace(self.linear, weight=_swap_last_two(self.linear.weight))
        return Conv1DLinear(linear.unflatten_from_export(template.linear))


class Gpt2Attention(eqx.Module):
    """Causal multi-head self-attention with one fused ``(qkv, heads, head_size)`` projection."""

    c_attn: Conv1DLinear
    c_proj: Conv1DLinear
    HeadSize: Axis = eqx.field(static=True)

    @staticmethod
    def init(config: Gpt2Config, *, key: Any) -> Gpt2Attention:
        k_attn, k_proj = jax.random.split(key)
        c_attn = Conv1DLinear.init(config.Embed, (config.Qkv, config.Heads, config.HeadSize), key=k_attn)
        c_proj = Conv1DLinear.init((config.Heads, config.HeadSize), config.Embed, key=k_proj)
        return Gpt2Attention(c_attn, c_proj, config.HeadSize)

    def __call__(self, x: NamedArray, mask: NamedArray) -> NamedArray:
        q, k, v = self.c_attn(x).unbind("qkv")
        k = k.rename({"position": "key_position"})
        v = v.rename({"position": "key_position"})
        attn = hnn.attention.dot_product_attention("key_position", self.HeadSize, q, k, v, mask=mask)
        return self.c_proj(attn)


class Gpt2Mlp(eqx.Module):
    """``c_proj(gelu_new(c_fc(x)))``: gelu_new is the tanh approximation of GELU."""

    c_fc: Conv1DLinear
    c_proj: Conv1DLinear

    @staticmethod
    def init(config: Gpt2Config, *, key: Any) -> Gpt2Mlp:
        k_fc, k_proj = jax.random.split(key)
        return Gpt2Mlp(
            Conv1DLinear.init(config.Embed, config.Mlp, key=k_fc),
            Conv1DLinear.init(config.Mlp, config.Embed, key=k_proj),
        )

    def __call__(self, x: NamedArray) -> NamedArray:
        return self.c_proj(hnn.gelu(self.c_fc(x), approximate=True))


class Gpt2Block(eqx.Module):
    """A pre-norm transformer block: ``x + attn(ln_1(x))``, then ``x + mlp(ln_2(x))``."""

    ln_1: hnn.LayerNorm
    attn: Gpt2Attention
    ln_2: hnn.LayerNorm
    mlp: Gpt2Mlp

    @staticmethod
    def init(config: Gpt2Config, *, key: Any) -> Gpt2Block:
        k_attn, k_mlp = jax.random.split(key)
        eps = config.layer_norm_epsilon
        return Gpt2Block(
            hnn.LayerNorm.init(config.Embed, eps=eps),
            Gpt2Attention.init(config, key=k_attn),
            hnn.LayerNorm.init(config.Embed, eps=eps),
            Gpt2Mlp.init(config, key=k_mlp),
        )

    def __call__(self, x: NamedArray, mask: NamedArray) -> NamedArray:
        x = x + self.attn(self.ln_1(x), mask)
        return x + self.mlp(self.ln_2(x))


class Gpt2Transformer(eqx.Module):
    """Token and position embeddings, the stacked blocks, and the final LayerNorm."""

    wte: hnn.Embedding
    wpe: hnn.Embedding
    h: hnn.Stacked[Gpt2Block]
    ln_f: hnn.LayerNorm

    @staticmethod
    def init(config: Gpt2Config, *, key: Any) -> Gpt2Transformer:
        k_wte, k_wpe, k_h = jax.random.split(key, 3)
        layer_keys = jax.random.split(k_h, config.n_layer)
        return Gpt2Transformer(
            hnn.Embedding.init(config.Vocab, config.Embed, key=k_wte, init_scale=0.02),
            hnn.Embedding.init(config.MaxPos, config.Embed, key=k_wpe, init_scale=0.01),
            hnn.Stacked.init(config.Layers, Gpt2Block)(config, key=layer_keys),
            hnn.LayerNorm.init(config.Embed, eps=config.layer_norm_epsilon),
        )

    def __call__(self, input_ids: NamedArray) -> NamedArray:
        Pos = input_ids.resolve_axis("position")
        x = self.wte.embed(input_ids) + self.wpe.embed(hax.arange(Pos))
        mask = hnn.attention.causal_mask(Pos, Pos.alias("key_position"))
        x = self.h.fold(x, mask)
        return self.ln_f(x)


class Gpt2LMHeadModel(eqx.Module):
    """GPT-2 with its output projection tied to the token embedding: logits over ``vocab``."""

    transformer: Gpt2Transformer

    @staticmethod
    def init(config: Gpt2Config, *, key: Any) -> Gpt2LMHeadModel:
        return Gpt2LMHeadModel(Gpt2Transformer.init(config, key=key))

    def __call__(self, input_ids: NamedArray) -> NamedArray:
        """Logits with the ids' axes (one of them ``position``) followed by ``vocab``."""
        return self.transformer.wte.unembed(self.transformer(input_ids))
