"""Eager per-op cost, trace time and jit dispatch: haliax vs the same program in plain jax.numpy.

Run: ``python benchmarks/bench_core.py`` (or ``nox -s bench``). Targets (issue 15): every eager op
within 1.2x of jnp, tracing within 1.05x, jit dispatch of 150 NamedArray leaves within 1.1x of raw
arrays. The dispatch target is below what any pytree node can reach: wrapping each array in a bare
1-tuple already costs about 1.2x (see benchmarks/README.md), so that row is expected to say NO.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from haliax_gpt_example.harness import Result, compare, table

import haliax as hax

Batch, Pos, Embed, Hidden = hax.make_axes(batch=4, position=16, embed=32, hidden=64)


def eager_cases() -> list[Result]:
    key = jax.random.PRNGKey(0)
    a = jax.random.normal(key, (Batch.size, Pos.size, Embed.size))
    b = jax.random.normal(jax.random.PRNGKey(1), (Batch.size, Pos.size, Embed.size))
    w = jax.random.normal(jax.random.PRNGKey(2), (Embed.size, Hidden.size))
    x = hax.named(a, (Batch, Pos, Embed))
    y = hax.named(b, (Batch, Pos, Embed))
    wn = hax.named(w, (Embed, Hidden))
    e = hax.named(a[0, 0], (Embed,))
    ev = a[0, 0]

    def softmax_named():
        m = x - hax.max(x, "embed")
        ex = hax.exp(m)
        return ex / hax.sum(ex, "embed")

    def softmax_pos():
        m = a - jnp.max(a, axis=2, keepdims=True)
        ex = jnp.exp(m)
        return ex / jnp.sum(ex, axis=2, keepdims=True)

    t = 1.2
    return [
        compare("add (same axes)", lambda: x + y, lambda: a + b, target=t),
        compare("add (broadcast {embed})", lambda: x + e, lambda: a + ev, target=t),
        compare("exp", lambda: hax.exp(x), lambda: jnp.exp(a), target=t),
        compare("sum over embed", lambda: hax.sum(x, "embed"), lambda: jnp.sum(a, axis=2), target=t),
        compare("sum over all", lambda: hax.sum(x), lambda: jnp.sum(a), target=t),
        compare(
            "dot over embed",
            lambda: hax.dot(x, wn, axis="embed"),
            lambda: a @ w,
            target=t,
        ),
        compare(
            "rearrange (transpose)",
            lambda: hax.rearrange(x, ("embed", "batch", "position")),
            lambda: jnp.transpose(a, (2, 0, 1)),
            target=t,
        ),
        compare("index x['batch', 1]", lambda: x["batch", 1], lambda: a[1], target=t),
        compare("softmax chain", softmax_named, softmax_pos, target=t),
    ]


def _block_named(h, w1, w2):
    z = hax.dot(h, w1, axis="embed")
    z = hax.maximum(z, 0.0)
    z = hax.dot(z, w2, axis="hidden")
    mu = hax.mean(z, "embed")
    return h + (z - mu)


def _block_pos(h, w1, w2):
    z = h @ w1
    z = jnp.maximum(z, 0.0)
    z = z @ w2
    mu = jnp.mean(z, axis=2, keepdims=True)
    return h + (z - mu)


def trace_cases() -> list[Result]:
    w1 = hax.named(jnp.ones((Embed.size, Hidden.size)), (Embed, Hidden))
    w2 = hax.named(jnp.ones((Hidden.size, Embed.size)), (Hidden, Embed))
    x = hax.named(jnp.ones((Batch.size, Pos.size, Embed.size)), (Batch, Pos, Embed))

    def named_prog(h):
        for _ in range(12):
            h = _block_named(h, w1, w2)
        return h

    def pos_prog(h):
        for _ in range(12):
            h = _block_pos(h, w1.array, w2.array)
        return h

    results = [
        compare(
            "trace 12 blocks (make_jaxpr)",
            # A fresh function each call: make_jaxpr would otherwise hit jax's tracing cache.
            lambda: jax.make_jaxpr(lambda h: named_prog(h))(x),
            lambda: jax.make_jaxpr(lambda h: pos_prog(h))(x.array),
            target=1.05,
            number=5,
            rounds=15,
        )
    ]

    leaves = [hax.named(jnp.ones((4,)), (hax.Axis("a", 4),)) for _ in range(150)]
    raw = [leaf.array for leaf in leaves]
    f = jax.jit(lambda tree: tree[0])
    results.append(compare("jax.jit dispatch, 150 leaves", lambda: f(leaves), lambda: f(raw), target=1.1))
    # Reference, not haliax: the same dispatch with each array in a bare 1-tuple, the cheapest
    # pytree node jax has; what it costs over raw arrays is a floor for any named leaf.
    tuples = [(r,) for r in raw]
    results.append(
        compare("(reference) jax.jit dispatch, 150 1-tuples", lambda: f(tuples), lambda: f(raw), target=1.1)
    )
    return results


def main() -> None:
    print(f"jax {jax.__version__}, backend {jax.default_backend()}\n")
    print(table("Eager per-op cost", eager_cases()))
    print()
    print(table("Tracing and dispatch", trace_cases()))


if __name__ == "__main__":
    main()
