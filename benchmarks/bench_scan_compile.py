"""Compile time of a layer stack run through `hax.fold` vs an unrolled Python loop.

A scan over layers compiles the block once, so its compile time should stay flat as the stack
grows from 2 to 48 layers; the unrolled loop compiles every layer and grows linearly. Both are the
gradient of a small residual MLP stack with per-layer checkpointing.

Run: ``python benchmarks/bench_scan_compile.py`` (``--no-loop`` skips the slow unrolled column).
"""

from __future__ import annotations

import sys
import time

import jax
import jax.numpy as jnp

import haliax as hax

Batch, Pos, Embed, Mlp = hax.make_axes(batch=4, position=32, embed=64, mlp=256)
LAYER_COUNTS = (2, 12, 48)


def block(x: hax.NamedArray, p: dict[str, hax.NamedArray]) -> hax.NamedArray:
    h = hax.tanh(hax.dot(x, p["w_in"], axis=Embed))
    out = hax.dot(h, p["w_out"], axis=Mlp)
    return x + out * p["scale"]


def params(layers: int) -> dict[str, hax.NamedArray]:
    Layer = hax.Axis("layer", layers)
    k1, k2 = jax.random.split(jax.random.PRNGKey(0))
    return {
        "w_in": hax.random.normal(k1, (Layer, Embed, Mlp)) * 0.02,
        "w_out": hax.random.normal(k2, (Layer, Mlp, Embed)) * 0.02,
        "scale": hax.named(jnp.ones((layers, Embed.size)), (Layer, Embed)),
    }


def scan_loss(p: dict[str, hax.NamedArray], x: hax.NamedArray) -> jax.Array:
    return hax.fold(block, "layer", remat=True)(x, p).array.sum()


def loop_loss(p: dict[str, hax.NamedArray], x: hax.NamedArray) -> jax.Array:
    layers = p["scale"].axes[0].size
    step = jax.checkpoint(block)
    for i in range(layers):
        x = step(x, {k: hax.NamedArray._new(v.array[i], v.axes[1:]) for k, v in p.items()})
    return x.array.sum()


def compile_seconds(loss, layers: int) -> float:
    p = params(layers)
    x = hax.named(jnp.ones((Batch.size, Pos.size, Embed.size)), (Batch, Pos, Embed))
    start = time.perf_counter()
    jax.jit(jax.grad(loss)).lower(p, x).compile()
    return time.perf_counter() - start


def main() -> None:
    with_loop = "--no-loop" not in sys.argv
    # Warm up jax's own one-time costs (backend start, primitive caches) before measuring.
    compile_seconds(scan_loss, 1)
    compile_seconds(loop_loss, 1)
    rows = []
    for layers in LAYER_COUNTS:
        scan_s = compile_seconds(scan_loss, layers)
        loop_s = compile_seconds(loop_loss, layers) if with_loop else float("nan")
        rows.append((layers, scan_s, loop_s))
    print(f"{'layers':>6} | {'hax.fold compile (s)':>20} | {'unrolled loop compile (s)':>25}")
    print(f"{'-' * 6}-+-{'-' * 20}-+-{'-' * 25}")
    for layers, scan_s, loop_s in rows:
        print(f"{layers:>6} | {scan_s:>20.3f} | {loop_s:>25.3f}")
    growth = rows[-1][1] / rows[0][1]
    print(f"\nscan compile time, {LAYER_COUNTS[-1]} layers vs {LAYER_COUNTS[0]}: {growth:.2f}x (flat is ~1x)")


if __name__ == "__main__":
    main()
