"""A positional twin of the named GPT in ``haliax_gpt_example.model``: the same math in jnp/lax only.

It takes the *same* parameters as the named model, with every NamedArray replaced by its raw
array (`strip_names`), and reads each weight by its known layout:

| parameter | layout |
| --- | --- |
| ``token_embeddings.weight`` | ``(vocab, embed)`` |
| ``position_embeddings.weight`` | ``(position, embed)`` |
| ``blocks.stacked.ln_{1,2}.{weight,bias}`` | ``(layers, embed)`` |
| ``blocks.stacked.attn.qkv.weight`` / ``.bias`` | ``(layers, 3, heads, head_size, embed)`` / ``(layers, 3, heads, head_size)`` |
| ``blocks.stacked.attn.out.weight`` / ``.bias`` | ``(layers, embed, heads, head_size)`` / ``(layers, embed)`` |
| ``blocks.stacked.mlp_in.weight`` / ``.bias`` | ``(layers, mlp, embed)`` / ``(layers, mlp)`` |
| ``blocks.stacked.mlp_out.weight`` / ``.bias`` | ``(layers, embed, mlp)`` / ``(layers, embed)`` |
| ``ln_f.{weight,bias}`` | ``(embed,)`` |

Activations are ``(batch, position, embed)``. The layers run under one `jax.lax.scan` over the
stacked weights, checkpointed like the named `Stacked`. Attention mirrors the named model's
kernel choice: ``"xla"`` is the hand-written reference (scale, scores, -1e9 causal mask,
softmax, weighted sum: what `fused_attention` falls back to off GPU), ``"cudnn"`` calls
``jax.nn.dot_product_attention(implementation="cudnn")`` with the same boolean mask. The MLP's
GELU is the library's (`haliax.nn.gelu` on a raw array: ``jax.nn.gelu``'s values with a derivative
that keeps one tensor for the backward pass), so both variants save the same residuals.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp

import haliax as hax
import haliax.nn as hnn
from haliax.nn._src.loss import sparse_cross_entropy

CARRY_NAME = "carry"
INPUT_NAME = "input"
_MASKED = -1e9


def strip_names(tree: Any) -> Any:
    """The same pytree with every NamedArray replaced by its raw array."""
    return jax.tree.map(
        lambda x: x.array if isinstance(x, hax.NamedArray) else x,
        tree,
        is_leaf=lambda x: isinstance(x, hax.NamedArray),
    )


def attention_kind(dtype: Any = jnp.float32, head_size: int = 64, platform: str | None = None) -> str:
    """The kernel the named GPT's ``fused_attention`` call ends up running for these inputs.

    cuDNN on a GPU with float16/bfloat16 and a head dim that is a multiple of 8 up to 128; the
    XLA reference otherwise (the named dispatcher's fallback). ``platform`` is the one compiled
    for (default: jax's default backend).
    """
    ok = jnp.dtype(dtype) in (jnp.dtype(jnp.bfloat16), jnp.dtype(jnp.float16)) and head_size % 8 == 0
    on_gpu = (platform or jax.default_backend()) == "gpu"
    return "cudnn" if on_gpu and ok and head_size <= 128 else "xla"


def _lead(a: jax.Array, ndim: int) -> jax.Array:
    """``a`` with leading unit dimensions up to ``ndim`` (explicit broadcasting, no rank promotion)."""
    return a.reshape((1,) * (ndim - a.ndim) + a.shape)


def _layer_norm(x: jax.Array, w: jax.Array, b: jax.Array, eps: float = 1e-5) -> jax.Array:
    mean = jnp.mean(x, axis=-1, keepdims=True)
    centered = x - mean
    var = jnp.mean(centered * centered, axis=-1, keepdims=True)
    return centered * jax.lax.rsqrt(var + eps) * _lead(w, x.ndim) + _lead(b, x.ndim)


def _attention(q: jax.Array, k: jax.Array, v: jax.Array, kind: str) -> jax.Array:
    """``q, k, v``: ``(B, T, H, D)``; result ``(B, T, H, D)`` (cudnn) or ``(B, H, T, D)`` (xla)."""
    T, S = q.shape[1], k.shape[1]
    causal = jnp.arange(T)[:, None] >= jnp.arange(S)[None, :]
    if kind == "cudnn":
        return jax.nn.dot_product_attention(q, k, v, is_causal=True, implementation="cudnn")
    if kind == "jax_xla":
        return jax.nn.dot_product_attention(q, k, v, mask=causal[None, None], implementation="xla")
    scale = 1.0 / math.sqrt(q.shape[-1])
    q = q * jnp.asarray(scale, q.dtype)
    # (B,T,H,D) x (B,S,H,D) -> (B,H,T,S)
    scores = jax.lax.dot_general(q, k, (((3,), (3,)), ((0, 2), (0, 2))))
    scores = jnp.where(causal[None, None], scores, jnp.asarray(_MASKED, scores.dtype))
    weights = jax.nn.softmax(scores, axis=3).astype(q.dtype)
    # (B,H,T,S) x (B,S,H,D) -> (B,H,T,D)
    return jax.lax.dot_general(weights, v, (((3,), (1,)), ((0, 1), (0, 2))))


def _block(x: jax.Array, p: Any, kind: str) -> jax.Array:
    """One transformer block; ``p`` is one layer of ``blocks.stacked`` (raw arrays)."""
    h = _layer_norm(x, p.ln_1.weight, p.ln_1.bias)
    # (B,T,E) x (3,H,D,E) -> (B,T,3,H,D)
    qkv = jax.lax.dot_general(h, p.attn.qkv.weight, (((2,), (3,)), ((), ())))
    qkv = qkv + _lead(p.attn.qkv.bias, 5)
    q, k, v = qkv[:, :, 0], qkv[:, :, 1], qkv[:, :, 2]
    a = _attention(q, k, v, kind)
    # heads/head_size of the attention output against (E,H,D)
    dims = ((2, 3), (1, 2)) if kind in ("cudnn", "jax_xla") else ((1, 3), (1, 2))
    x = x + (jax.lax.dot_general(a, p.attn.out.weight, (dims, ((), ()))) + _lead(p.attn.out.bias, 3))
    h = _layer_norm(x, p.ln_2.weight, p.ln_2.bias)
    h = jax.lax.dot_general(h, p.mlp_in.weight, (((2,), (1,)), ((), ()))) + _lead(p.mlp_in.bias, 3)
    h = hnn.gelu(h)
    return x + (jax.lax.dot_general(h, p.mlp_out.weight, (((2,), (1,)), ((), ()))) + _lead(p.mlp_out.bias, 3))


def _checkpointed(step: Any, policy: bool | str) -> tuple[Any, bool]:
    """``step`` wrapped like the named `Stacked` wraps its scan body; also whether to tag names."""
    cp = jax.checkpoint_policies
    if policy is False or policy is None:
        return step, False
    if policy is True:
        return jax.checkpoint(step), True
    if policy in ("recompute", "full"):
        return jax.checkpoint(step, policy=None), True
    if policy == "save_all":
        return jax.checkpoint(step, policy=cp.everything_saveable), True
    if policy == "offload":
        p = cp.save_and_offload_only_these_names(
            names_which_can_be_saved=[],
            names_which_can_be_offloaded=[CARRY_NAME, INPUT_NAME],
            offload_src="device",
            offload_dst="pinned_host",
        )
        return jax.checkpoint(step, policy=p), True
    raise ValueError(
        f"haliax_gpt_example.positional: checkpoint policy {policy!r} has no positional twin here; "
        f"use False, True, 'full', 'recompute', 'save_all' or 'offload'"
    )


def forward(params: Any, tokens: jax.Array, *, kind: str | None = None) -> jax.Array:
    """Logits ``(batch, position, vocab)`` for int ``tokens`` ``(batch, position)``."""
    cfg = params.config
    kind = kind or attention_kind(params.blocks.stacked.attn.qkv.weight.dtype, cfg.embed // cfg.heads)
    wte = params.token_embeddings.weight
    x = jnp.take(wte, tokens, axis=0) + params.position_embeddings.weight[None]

    def step(carry: jax.Array, layer: Any) -> tuple[jax.Array, None]:
        if tag:
            carry = jax.ad_checkpoint.checkpoint_name(carry, CARRY_NAME)
            layer = jax.tree.map(lambda a: jax.ad_checkpoint.checkpoint_name(a, INPUT_NAME), layer)
        return _block(carry, layer, kind), None

    body, tag = _checkpointed(step, cfg.gradient_checkpointing)
    x, _ = jax.lax.scan(body, x, params.blocks.stacked, length=cfg.layers, unroll=cfg.scan_unroll)
    x = _layer_norm(x, params.ln_f.weight, params.ln_f.bias)
    return jax.lax.dot_general(x, wte, (((2,), (1,)), ((), ())))


def loss_fn(params: Any, window: jax.Array, *, kind: str | None = None) -> jax.Array:
    """Mean next-token cross-entropy; ``window`` is ``(batch, seq_len + 1)`` ints (as the named `loss_fn`)."""
    T = params.config.seq_len
    inputs, targets = window[:, :T], window[:, 1 : T + 1]
    logits = forward(params, inputs, kind=kind)
    # The same memory-lean kernel the named loss uses: a fair twin writes what the library writes.
    return jnp.mean(sparse_cross_entropy(logits, targets, 2))


def check_agreement(model: Any, window: hax.NamedArray, rtol: float = 1e-4, atol: float = 1e-6) -> None:
    """Assert the named and positional losses and gradients agree (fp32); raises AssertionError."""
    import equinox as eqx
    import numpy as np

    from .model import loss_fn as named_loss

    params = strip_names(model)
    kind = "xla"  # fp32: the named dispatcher runs the XLA reference on every backend
    n_loss, n_grads = eqx.filter_jit(eqx.filter_value_and_grad(named_loss))(model, window)
    p_loss, p_grads = eqx.filter_jit(eqx.filter_value_and_grad(lambda p, w: loss_fn(p, w, kind=kind)))(
        params, window.array
    )
    np.testing.assert_allclose(np.asarray(n_loss), np.asarray(p_loss), rtol=rtol, atol=atol)
    n_leaves = jax.tree.leaves(strip_names(n_grads))
    p_leaves = jax.tree.leaves(p_grads)
    assert len(n_leaves) == len(p_leaves), (len(n_leaves), len(p_leaves))
    for a, b in zip(n_leaves, p_leaves, strict=True):
        assert a.shape == b.shape, (a.shape, b.shape)
        scale = float(np.max(np.abs(np.asarray(a)))) or 1.0
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=max(atol, rtol * scale))
