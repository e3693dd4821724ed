"""Sampling text from the GPT with one compiled program.

The whole generation is a single ``jax.lax.fori_loop`` over positions: the position is a traced
int32, so the program compiles once however many tokens are asked for (a Python int position
would compile one program per position).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

import haliax as hax

from . import data
from .model import GPT


def sample_ids(model: GPT, prompt: np.ndarray, n_tokens: int, key: jax.Array, temperature: float = 0.8):
    """``prompt`` followed by ``n_tokens`` sampled ids, as one int32 array (runs under jit)."""
    c = model.config
    p = len(prompt)
    total = p + n_tokens
    # Room for every id, and at least one full window so the slice below is always in range.
    ids = jnp.zeros(max(total, c.seq_len), jnp.int32).at[:p].set(jnp.asarray(prompt, jnp.int32))

    def step(i, carry):
        ids, key = carry
        last = p + i - 1  # index of the newest known id
        start = jnp.maximum(0, last + 1 - c.seq_len)  # the window ends at `last`
        window = jax.lax.dynamic_slice(ids, (start,), (c.seq_len,))
        logits = model(hax.named(window, (c.Pos,)))
        row = logits["position", last - start].array.astype(jnp.float32)
        key, sub = jax.random.split(key)
        nxt = jax.random.categorical(sub, row / temperature).astype(jnp.int32)
        return ids.at[last + 1].set(nxt), key

    ids, _ = jax.lax.fori_loop(0, n_tokens, step, (ids, key))
    return ids[:total]


def sample(model: GPT, n_tokens: int, seed: int, *, prompt: str = "The ", policy=None, run=None) -> str:
    """``n_tokens`` bytes of text after ``prompt``.

    ``policy`` (a jmp policy) casts the weights to the compute dtype; ``run(fn, *args)`` calls ``fn``
    inside the mesh context, if any.

    Every process of a multi-process job must call this (the program spans all devices); each gets
    the same text.
    """
    prompt_ids = data.encode(prompt)

    @eqx.filter_jit
    def generate(m: GPT) -> jax.Array:
        if policy is not None:
            m = policy.cast_to_compute(m)
        return sample_ids(m, prompt_ids, n_tokens, jax.random.PRNGKey(seed))

    out = generate(model) if run is None else run(generate, model)
    # The result is replicated: any one device's copy is the whole array.
    return data.decode(np.asarray(out.addressable_data(0)))
