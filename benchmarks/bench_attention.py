"""Attention: the named `fused_attention` entry point against calling ``jax.nn`` directly.

Three variants on the same causal self-attention inputs ``[batch, seq, heads, head_dim]``:

- named fused: ``hnn.attention.fused_attention`` with the backend's kernel (cuDNN on GPU, the
  ``jax.nn`` XLA path, ``"jax_xla"``, on CPU);
- direct: ``jax.nn.dot_product_attention(implementation="cudnn")`` on GPU, ``"xla"`` on CPU;
- named reference: ``fused_attention(implementation="xla")``, the plain-XLA named reference.

Each is timed forward and forward+backward (gradient of the output sum w.r.t. q, k, v), jitted,
interleaved with the direct call; the ratio is against the direct call.

Run: ``python benchmarks/bench_attention.py`` (tiny CPU sizes), ``--gpu`` for seq 1k-8k, head dim
64/128, bf16.
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
from haliax_gpt_example.harness import Result, compare, table

import haliax as hax
import haliax.nn as hnn


def _cases(gpu: bool) -> list[tuple[int, int, int, int]]:
    """(batch, seq, heads, head_dim) cases."""
    if gpu:
        return [(4, 1024, 16, 64), (4, 1024, 8, 128), (2, 4096, 16, 64), (2, 4096, 8, 128), (1, 8192, 8, 128)]
    return [(2, 64, 4, 16), (2, 128, 4, 32)]


def run_case(
    b: int, t: int, h: int, d: int, dtype: jnp.dtype, gpu: bool, number: int, rounds: int
) -> list[Result]:
    impl = "cudnn" if gpu else "xla"
    fused_name = "cudnn" if gpu else "jax_xla"
    Batch, Pos, Heads, Head = hax.make_axes(batch=b, position=t, heads=h, head_size=d)
    KPos = Pos.alias("key_position")
    kq, kk, kv = jax.random.split(jax.random.PRNGKey(0), 3)
    q, k, v = (jax.random.normal(key, (b, t, h, d), dtype) for key in (kq, kk, kv))
    causal = jnp.arange(t)[:, None] >= jnp.arange(t)[None, :]
    mask = hax.named(causal, (Pos, KPos))

    def direct(q, k, v):
        return jax.nn.dot_product_attention(q, k, v, mask=causal[None, None], implementation=impl)

    def named(implementation):
        def f(q, k, v):
            nq = hax.named(q, (Batch, Pos, Heads, Head))
            nk = hax.named(k, (Batch, KPos, Heads, Head))
            nv = hax.named(v, (Batch, KPos, Heads, Head))
            out = hnn.attention.fused_attention(
                Pos, KPos, Head, nq, nk, nv, mask=mask, implementation=implementation
            )
            return out.rearrange((Batch, Pos, Heads, Head)).array

        return f

    def fwd_bwd(f):
        return jax.grad(lambda q, k, v: f(q, k, v).astype(jnp.float32).sum(), argnums=(0, 1, 2))

    variants = {"named fused": named(fused_name), "named reference (xla)": named("xla")}
    label = f"b{b} s{t} h{h} d{d}"
    results = []
    for mode, wrap in (("fwd", lambda f: f), ("fwd+bwd", fwd_bwd)):
        d_fn = jax.jit(wrap(direct))
        for vname, vf in variants.items():
            n_fn = jax.jit(wrap(vf))
            results.append(
                compare(
                    f"{label} {mode}: {vname} vs jax.nn ({impl})",
                    lambda n_fn=n_fn: jax.block_until_ready(n_fn(q, k, v)),
                    lambda d_fn=d_fn: jax.block_until_ready(d_fn(q, k, v)),
                    target=1.05 if vname == "named fused" else float("inf"),
                    number=number,
                    rounds=rounds,
                )
            )
    return results


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--gpu", action="store_true", help="GPU sizes in bf16 (default when jax runs on a GPU)")
    args = p.parse_args(argv)
    gpu = args.gpu or jax.default_backend() == "gpu"
    dtype = jnp.bfloat16 if gpu else jnp.float32
    print(f"jax {jax.__version__}, backend {jax.default_backend()}, devices {jax.devices()[0].device_kind}\n")
    results: list[Result] = []
    for b, t, h, d in _cases(gpu):
        results += run_case(b, t, h, d, dtype, gpu, number=20, rounds=15 if gpu else 5)
    title = f"Attention, causal, {jnp.dtype(dtype).name} (target applies to the fused entry point; the reference is informative)"
    print(table(title, results))


if __name__ == "__main__":
    main()
