"""Hugging Face GPT-2 checkpoints in haliax.nn, without torch: load, generate, save.

A checkpoint directory is what ``transformers``' ``save_pretrained`` writes: ``config.json``
plus ``model.safetensors`` (or shards listed in ``model.safetensors.index.json``). Only
``json`` and ``safetensors`` read and write it; torch and transformers are not needed.

The model's field names are the checkpoint's key parts (``transformer.h.0.attn.c_attn.weight``),
`haliax.nn.Stacked` writes its layers as ``h.0.``, ``h.1.``, ..., and the output projection is
tied to the token embedding, so, as in Hugging Face's files, there is no ``lm_head.weight``.
Hugging Face's GPT-2 stores its projections as ``Conv1D`` modules, whose weight is ``(in, out)``,
the transpose of ``torch.nn.Linear``'s: `Conv1DLinear` is an `haliax.nn.Linear` that only changes
that export layout, through the state-dict export hooks.

`generate` samples with a key/value cache, and the whole of it, the prompt's forward pass and
every new token, is one compiled program: positions are traced values, never Python ints.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

import haliax as hax
import haliax.nn as hnn
from haliax import NamedArray
from haliax.axis import Axis, AxisSpec
from haliax.errors import MissingFileError, StateDictError, ValueRangeError
from haliax.extend import named_unchecked
from haliax.state_dict import (
    ModuleWithStateDictSerialization,
    from_torch_compatible_state_dict,
    load_state_dict,
    save_state_dict,
    to_torch_compatible_state_dict,
)

_ACTIVATIONS = {
    "gelu_new": lambda x: hnn.gelu(x, approximate=True),
    "gelu_pytorch_tanh": lambda x: hnn.gelu(x, approximate=True),
    "gelu": lambda x: hnn.gelu(x, approximate=False),
    "relu": hnn.relu,
    "silu": hnn.silu,
}


@dataclasses.dataclass(frozen=True)
class Gpt2Config:
    """The fields of Hugging Face's ``GPT2Config`` that shape the model (defaults: GPT-2 small, 124M)."""

    vocab_size: int = 50257
    n_positions: int = 1024
    n_embd: int = 768
    n_layer: int = 12
    n_head: int = 12
    n_inner: int | None = None
    activation_function: str = "gelu_new"
    layer_norm_epsilon: float = 1e-5
    scale_attn_weights: bool = True
    bos_token_id: int = 50256
    eos_token_id: int = 50256

    def __post_init__(self):
        if self.n_embd % self.n_head:
            raise StateDictError(
                f"Gpt2Config: n_embd={self.n_embd} is not a multiple of n_head={self.n_head}; "
                f"choose sizes where n_head divides n_embd"
            )
        if self.activation_function not in _ACTIVATIONS:
            raise StateDictError(
                f"Gpt2Config: activation_function {self.activation_function!r} is not supported; "
                f"use one of {sorted(_ACTIVATIONS)}"
            )

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
        return Axis("mlp", self.n_inner or 4 * self.n_embd)

    @property
    def Layers(self) -> Axis:
        return Axis("layers", self.n_layer)

    @staticmethod
    def from_hf_dict(config: dict[str, Any], *, source: str = "config.json") -> Gpt2Config:
        """The model's sizes from a Hugging Face ``config.json`` dict; options we cannot honour raise."""
        model_type = config.get("model_type", "gpt2")
        if model_type != "gpt2":
            raise StateDictError(
                f"Gpt2Config.from_hf_dict: {source} describes a {model_type!r} model; only 'gpt2' checkpoints load here"
            )
        for flag, fine in (
            ("scale_attn_by_inverse_layer_idx", False),
            ("tie_word_embeddings", True),
            ("add_cross_attention", False),
        ):
            if config.get(flag, fine) != fine:
                raise StateDictError(
                    f"Gpt2Config.from_hf_dict: {source} sets {flag}={config[flag]!r}, which this GPT-2 does "
                    f"not implement; only {flag}={fine!r} checkpoints load here"
                )
        names = {f.name for f in dataclasses.fields(Gpt2Config)}
        return Gpt2Config(**{k: v for k, v in config.items() if k in names})

    def to_hf_dict(self) -> dict[str, Any]:
        """A ``config.json`` dict that ``transformers.GPT2LMHeadModel.from_pretrained`` reads."""
        return {
            "model_type": "gpt2",
            "architectures": ["GPT2LMHeadModel"],
            **dataclasses.asdict(self),
            "tie_word_embeddings": True,
        }


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
        # Export runs outermost first: flatten the Linear to its 2-D (out, in) weight here, then
        # store the transpose, as Conv1D does. The Linear's own hook, run next, sees single In/Out
        # axes and leaves it as it is.
        linear = self.linear.flatten_for_export()
        return Conv1DLinear(dataclasses.replace(linear, weight=_swap_last_two(linear.weight)))

    def unflatten_from_export(self, template: ModuleWithStateDictSerialization) -> Conv1DLinear:
        assert isinstance(template, Conv1DLinear)
        # Import runs outermost first too: undo the transpose, then let the Linear restore its axes.
        linear = dataclasses.replace(self.linear, weight=_swap_last_two(self.linear.weight))
        return Conv1DLinear(linear.unflatten_from_export(template.linear))


class KvCache(eqx.Module):
    """Keys and values of every layer at every position so far: ``{layers, ..., key_position, heads, head_size}``."""

    k: NamedArray
    v: NamedArray

    @staticmethod
    def zeros(
        config: Gpt2Config, Batch: Axis | Sequence[Axis], length: int, dtype: Any = jnp.float32
    ) -> KvCache:
        """An empty cache for ``length`` positions (``Batch``: the ids' other axes, possibly ``()``)."""
        extra = (Batch,) if isinstance(Batch, Axis) else tuple(Batch)
        axes = (config.Layers, *extra, Axis("key_position", length), config.Heads, config.HeadSize)
        z = hax.zeros(axes, dtype=dtype)
        return KvCache(z, z)


class Gpt2Attention(eqx.Module):
    """Causal multi-head self-attention with one fused ``(qkv, heads, head_size)`` projection."""

    c_attn: Conv1DLinear
    c_proj: Conv1DLinear
    HeadSize: Axis = eqx.field(static=True)
    scale: float = eqx.field(static=True, default=None)  # type: ignore[assignment]  # None: 1/sqrt(head_size)

    @staticmethod
    def init(config: Gpt2Config, *, key: Any) -> Gpt2Attention:
        k_attn, k_proj = jax.random.split(key)
        c_attn = Conv1DLinear.init(config.Embed, (config.Qkv, config.Heads, config.HeadSize), key=k_attn)
        c_proj = Conv1DLinear.init((config.Heads, config.HeadSize), config.Embed, key=k_proj)
        return Gpt2Attention(c_attn, c_proj, config.HeadSize, None if config.scale_attn_weights else 1.0)  # type: ignore[arg-type]  # None is the default

    def __call__(self, x: NamedArray, mask: NamedArray) -> NamedArray:
        q, k, v = self.c_attn(x).unbind("qkv")
        k = k.rename({"position": "key_position"})
        v = v.rename({"position": "key_position"})
        return self._attend(q, k, v, mask)

    def decode(
        self, x: NamedArray, k_cache: NamedArray, v_cache: NamedArray, start: Any, mask: NamedArray
    ) -> tuple[NamedArray, tuple[NamedArray, NamedArray]]:
        """Attention for positions ``start, start+1, ...`` of ``x``, writing their keys and values into the cache."""
        q, k, v = self.c_attn(x).unbind("qkv")
        k_cache = hax.updated_slice(k_cache, {"key_position": start}, k.rename({"position": "key_position"}))
        v_cache = hax.updated_slice(v_cache, {"key_position": start}, v.rename({"position": "key_position"}))
        return self._attend(q, k_cache, v_cache, mask), (k_cache, v_cache)

    def _attend(self, q: NamedArray, k: NamedArray, v: NamedArray, mask: NamedArray) -> NamedArray:
        attn = hnn.attention.dot_product_attention(
            "key_position", self.HeadSize, q, k, v, mask=mask, scaling_factor=self.scale
        )
        return self.c_proj(attn)


class Gpt2Mlp(eqx.Module):
    """``c_proj(act(c_fc(x)))``; GPT-2's ``gelu_new`` is the tanh approximation of GELU."""

    c_fc: Conv1DLinear
    c_proj: Conv1DLinear
    activation: str = eqx.field(static=True, default="gelu_new")

    @staticmethod
    def init(config: Gpt2Config, *, key: Any) -> Gpt2Mlp:
        k_fc, k_proj = jax.random.split(key)
        return Gpt2Mlp(
            Conv1DLinear.init(config.Embed, config.Mlp, key=k_fc),
            Conv1DLinear.init(config.Mlp, config.Embed, key=k_proj),
            config.activation_function,
        )

    def __call__(self, x: NamedArray) -> NamedArray:
        return self.c_proj(_ACTIVATIONS[self.activation](self.c_fc(x)))


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

    def decode(
        self, x: NamedArray, kv: tuple[NamedArray, NamedArray], start: Any, mask: NamedArray
    ) -> tuple[NamedArray, tuple[NamedArray, NamedArray]]:
        attn, kv = self.attn.decode(self.ln_1(x), *kv, start, mask)
        x = x + attn
        return x + self.mlp(self.ln_2(x)), kv


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

    def decode(self, input_ids: NamedArray, cache: KvCache, start: Any) -> tuple[NamedArray, KvCache]:
        Pos = input_ids.resolve_axis("position")
        KeyPos = cache.k.resolve_axis("key_position")
        positions = hax.arange(Pos) + start
        x = self.wte.embed(input_ids) + self.wpe.embed(positions)
        # {position, key_position}: causal, offset by start
        mask = hax.arange(KeyPos).broadcast_axis(Pos) <= positions
        x, (k, v) = self.h.scan_via(lambda layer, x, k, v: layer.decode(x, (k, v), start, mask))(
            x, cache.k, cache.v
        )
        return self.ln_f(x), KvCache(k, v)


class Gpt2LMHeadModel(eqx.Module):
    """GPT-2 with its output projection tied to the token embedding: logits over ``vocab``."""

    transformer: Gpt2Transformer
    config: Gpt2Config = eqx.field(static=True)

    @staticmethod
    def init(config: Gpt2Config, *, key: Any) -> Gpt2LMHeadModel:
        """Random weights (GPT-2's initial scales), built by one compiled program."""
        return _init(config, key)

    def __call__(self, input_ids: NamedArray) -> NamedArray:
        """Logits with the ids' axes (one of them ``position``) followed by ``vocab``."""
        return self.transformer.wte.unembed(self.transformer(input_ids))

    def decode(self, input_ids: NamedArray, cache: KvCache, start: Any) -> tuple[NamedArray, KvCache]:
        """Logits for ids at positions ``start, start+1, ...``, attending to the cache; returns the updated cache.

        ``start`` may be a traced integer, so one compiled program serves every position.
        """
        h, cache = self.transformer.decode(input_ids, cache, start)
        return self.transformer.wte.unembed(h), cache


@eqx.filter_jit
def _init(config: Gpt2Config, key: Any) -> Gpt2LMHeadModel:
    # compiled: built op by op, even a tiny model's init dispatches hundreds of small programs
    return Gpt2LMHeadModel(Gpt2Transformer.init(config, key=key), config)


# ----- files -----
_IGNORED_SUFFIXES = (".attn.bias", ".attn.masked_bias")  # causal-mask buffers in older checkpoints


def _read_weights(model_dir: Path) -> dict[str, np.ndarray]:
    single = model_dir / "model.safetensors"
    index = model_dir / "model.safetensors.index.json"
    if single.exists():
        return dict(load_state_dict(single))
    if index.exists():
        weight_map = json.loads(index.read_text())["weight_map"]
        weights: dict[str, np.ndarray] = {}
        for shard in sorted(set(weight_map.values())):
            weights.update(load_state_dict(model_dir / shard))
        return weights
    found = sorted(p.name for p in model_dir.iterdir()) if model_dir.is_dir() else []
    hint = (
        "; it has a pytorch_model.bin: re-save it with save_pretrained(..., safe_serialization=True)"
        if "pytorch_model.bin" in found
        else ""
    )
    raise MissingFileError(
        f"load_pretrained: no model.safetensors (or model.safetensors.index.json) in {str(model_dir)!r}{hint}"
    )


def _hf_keys_to_ours(weights: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Hub files name keys ``h.0...`` or ``transformer.h.0...``; ours are the latter. Drops mask buffers and lm_head."""
    out = {}
    for key, value in weights.items():
        if key.endswith(_IGNORED_SUFFIXES) or key == "lm_head.weight":
            continue
        out[key if key.startswith("transformer.") else f"transformer.{key}"] = value
    return out


def load_config(model_dir: str | os.PathLike[str]) -> Gpt2Config:
    """The `Gpt2Config` of a Hugging Face checkpoint directory (its ``config.json``)."""
    path = Path(model_dir) / "config.json"
    if not path.exists():
        raise MissingFileError(
            f"load_config: no config.json in {str(model_dir)!r}; pass the directory that save_pretrained wrote"
        )
    return Gpt2Config.from_hf_dict(json.loads(path.read_text()), source=str(path))


def load_pretrained(model_dir: str | os.PathLike[str], *, dtype: Any = None) -> Gpt2LMHeadModel:
    """A GPT-2 from a Hugging Face checkpoint directory (safetensors; nothing is unpickled).

    ``dtype`` casts the floating-point weights (``jnp.bfloat16`` halves the memory); by default
    they keep the checkpoint's dtype.

    Raises:
        MissingFileError: the directory lacks ``config.json`` or the safetensors weights.
        StateDictError: a weight is missing or has the wrong shape, or the config asks for
            something this model does not implement.
    """
    model_dir = Path(model_dir)
    config = load_config(model_dir)
    template = eqx.filter_eval_shape(Gpt2LMHeadModel.init, config, key=jax.random.PRNGKey(0))
    weights = _hf_keys_to_ours(_read_weights(model_dir))
    model = from_torch_compatible_state_dict(template, weights)
    if dtype is not None:
        model = jax.tree_util.tree_map(
            lambda x: x.astype(dtype) if jnp.issubdtype(x.dtype, jnp.floating) else x,
            model,
            is_leaf=lambda x: isinstance(x, jax.Array),
        )
    return model


def save_pretrained(model: Gpt2LMHeadModel, model_dir: str | os.PathLike[str]) -> None:
    """Write ``config.json`` and ``model.safetensors`` so that ``GPT2LMHeadModel.from_pretrained`` loads them.

    The weights keep their dtype (a model loaded with ``dtype=jnp.bfloat16`` is saved in bfloat16).
    """
    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / "config.json").write_text(json.dumps(model.config.to_hf_dict(), indent=2) + "\n")
    save_state_dict(to_torch_compatible_state_dict(model), model_dir / "model.safetensors")


# ----- sampling -----
def _bucket(n: int, limit: int) -> int:
    """Round a buffer length up to a multiple of 64 (at most ``limit``) so nearby lengths share a program."""
    return min(limit, -(-n // 64) * 64)


def _pick(logits: NamedArray, key: jax.Array, temperature: jax.Array, top_k: jax.Array) -> NamedArray:
    """The next token: argmax when ``temperature`` is 0, else a draw among the ``top_k`` most likely."""
    logits = logits.astype(jnp.float32)
    greedy = hax.argmax(logits, "vocab")
    ordered = logits.rearrange((..., "vocab"))
    # the k-th largest logit, k traced: a sort rather than lax.top_k, whose k must be static
    kth = jnp.take(jnp.sort(ordered.array, axis=-1), ordered.array.shape[-1] - top_k, axis=-1)
    kth = named_unchecked(kth, ordered.axes[:-1])
    kept = hax.where(logits < kth, -jnp.inf, logits) / jnp.maximum(temperature, 1e-6)
    sampled = hax.random.categorical(key, kept, "vocab")
    return hax.where(temperature == 0, greedy, sampled).astype(jnp.int32)


@functools.partial(jax.jit, static_argnames=("length",))
def _generate(
    model: Gpt2LMHeadModel,
    buffer: NamedArray,
    prompt_len: jax.Array,
    max_new_tokens: jax.Array,
    key: jax.Array,
    temperature: jax.Array,
    top_k: jax.Array,
    *,
    length: int,
) -> NamedArray:
    cache = KvCache.zeros(
        model.config, buffer.resolve_axis("batch"), length, model.transformer.wte.weight.dtype
    )
    # The prompt's pass fills the cache for the whole buffer: positions past the prompt hold padding
    # whose keys are overwritten before any query may see them (a query at p attends to <= p).
    logits, cache = model.decode(buffer, cache, 0)
    One = Axis("position", 1)

    def step(i, state):
        buffer, cache, last = state
        token = _pick(last, jax.random.fold_in(key, i), temperature, top_k).broadcast_axis(One)
        pos = prompt_len + i
        buffer = hax.updated_slice(buffer, {"position": pos}, token)
        logits, cache = model.decode(token, cache, pos)
        return buffer, cache, logits["position", 0]

    state = (buffer, cache, logits["position", prompt_len - 1])
    return jax.lax.fori_loop(0, max_new_tokens, step, state)[0]


def generate(
    model: Gpt2LMHeadModel,
    prompt_ids: Sequence[int],
    max_new_tokens: int,
    *,
    key: jax.Array,
    temperature: float = 1.0,
    top_k: int | None = None,
    num_samples: int = 1,
) -> np.ndarray:
    """``num_samples`` continuations of ``prompt_ids``: an int array ``(num_samples, max_new_tokens)``.

    ``temperature=0`` picks the most likely token at every step (greedy); otherwise tokens are
    drawn from ``softmax(logits / temperature)``, restricted to the ``top_k`` most likely when
    given. The same ``key`` gives the same tokens. The prompt's forward pass and the whole
    sampling loop are one compiled program, and prompt length, ``max_new_tokens``,
    ``temperature`` and ``top_k`` are traced values: calls share it as long as ``num_samples``
    and the buffer length (prompt plus new tokens, rounded up to a multiple of 64) stay the same.

    Raises:
        ValueRangeError: the prompt is empty or has ids outside the vocabulary, the prompt plus
            ``max_new_tokens`` exceeds the model's ``n_positions``, or ``temperature``/``top_k``
            are out of range.
    """
    n_positions, vocab = model.config.n_positions, model.config.vocab_size
    prompt = np.asarray(prompt_ids, dtype=np.int32).reshape(-1)
    if prompt.size == 0:
        raise ValueRangeError("generate: the prompt is empty; give at least one token id")
    if max_new_tokens < 1 or prompt.size + max_new_tokens > n_positions:
        raise ValueRangeError(
            f"generate: {prompt.size} prompt tokens + max_new_tokens={max_new_tokens} must be between "
            f"{prompt.size + 1} and the model's n_positions={n_positions}; shorten the prompt or ask for fewer tokens"
        )
    if temperature < 0 or (top_k is not None and not 1 <= top_k <= vocab):
        raise ValueRangeError(
            f"generate: temperature={temperature} must be >= 0 and top_k={top_k} between 1 and vocab={vocab}"
        )
    if prompt.min() < 0 or prompt.max() >= vocab:
        raise ValueRangeError(f"generate: prompt ids must lie in [0, {vocab}) (the model's vocab)")
    length = _bucket(prompt.size + max_new_tokens, n_positions)
    buffer = np.zeros((num_samples, length), dtype=np.int32)
    buffer[:, : prompt.size] = prompt
    out = _generate(
        model,
        hax.named(jnp.asarray(buffer), ("batch", "position")),
        jnp.int32(prompt.size),
        jnp.int32(max_new_tokens),
        key,
        jnp.float32(temperature),
        jnp.int32(top_k or vocab),
        length=length,
    )
    return np.asarray(out.array)[:, prompt.size : prompt.size + max_new_tokens]
