"""The named GPT's training step against its positional twin: compile cost, program size, step time.

(a) Trace, lower and compile time of one AdamW training step of a GPT-2-small-shaped model
    (12 layers under a scan; shapes only, no parameters are allocated), with jaxpr equation
    counts and compiled HLO instruction counts.
(b) Step time of the same step on real parameters (the same values for both variants), with the
    compiled temp memory and HLO instruction count. On CPU a small model; on GPU (``--gpu``, or
    whenever jax's backend is a GPU) GPT-2 124M, 350M and ~1.3B in bf16 compute with MFU.

MFU: model FLOPs per token = 6N + 12·L·T·d, N = every trainable parameter except the position
table (the tied token table is counted once: it is the LM head matmul), L layers, T sequence
length, d embed; MFU = FLOPs/token × tokens/s ÷ peak (``--peak-tflops``, default 989 dense bf16
for H100 SXM; the H200 has the same peak).

(c) ``--aot h100`` / ``--aot h200``, no GPU needed: the GPU configs' steps compiled ahead of time
    for that device from this host (`haliax.testing.compile_only_gpu_mesh`, needs
    ``pip install "jax[cuda12]"``): HLO instructions, temp memory and kernels per layer, named vs
    positional, on the program the GPU would run (cuDNN attention on both sides). No times.

Run: ``python benchmarks/bench_gpt.py`` (CPU tables), ``python benchmarks/bench_gpt.py --gpu``,
``python benchmarks/bench_gpt.py --aot h100`` on a CPU-only host.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time

import jax
from haliax_gpt_example import positional as gpt_positional
from haliax_gpt_example.harness import compare, table
from haliax_gpt_example.steps import (
    GPTConfig,
    abstract_state,
    concrete_state,
    count_jaxpr_eqns,
    count_params,
    hlo_op_count,
    mp_policy,
    named_step,
    optimizer,
    positional_step,
    set_named_attention,
    temp_bytes,
)
from haliax_gpt_example.train import checkpoint_policy_arg

import haliax.partitioning as hp
from haliax.testing import GPU_TARGETS, abstract_like, compile_only_gpu_mesh, hlo_kernels

GPT2_SMALL = GPTConfig(vocab=50304, seq_len=1024, embed=768, heads=12, layers=12)
CPU_SMALL = GPTConfig(vocab=256, seq_len=128, embed=128, heads=4, layers=4)
GPU_CONFIGS = {
    "124M": (GPTConfig(vocab=50304, seq_len=1024, embed=768, heads=12, layers=12), 16),
    "350M": (GPTConfig(vocab=50304, seq_len=1024, embed=1024, heads=16, layers=24), 8),
    "1.3B": (GPTConfig(vocab=50304, seq_len=2048, embed=2048, heads=16, layers=24), 4),
}


def _unroll_arg(value: str) -> int | bool:
    return True if value.lower() in ("true", "all", "full") else int(value)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--gpu", action="store_true", help="GPU configs (also the default when jax runs on a GPU)")
    p.add_argument("--batch-size", type=int, help="batch size (default: 8 on CPU; 16/8/4 for 124M/350M/1.3B)")
    p.add_argument("--unroll", default="1", help="layers per scan iteration (true: fully unrolled)")
    p.add_argument(
        "--checkpointing",
        default=None,
        help="GPTConfig.gradient_checkpointing: false, true, full, offload, ...",
    )
    p.add_argument(
        "--attention",
        default="auto",
        choices=["auto", "xla", "cudnn", "jax_xla"],
        help="attention kernel for both variants (auto: what fused_attention picks for the dtype)",
    )
    p.add_argument(
        "--compute-dtype", choices=["float32", "bfloat16"], help="default: bfloat16 on GPU, float32 on CPU"
    )
    p.add_argument(
        "--peak-tflops",
        type=float,
        default=989.0,
        help="accelerator peak for MFU (989: H100/H200 dense bf16)",
    )
    p.add_argument("--models", default=",".join(GPU_CONFIGS), help="GPU configs to run, comma-separated")
    p.add_argument("--compile-rounds", type=int, default=3)
    p.add_argument("--skip-compile", action="store_true", help="skip part (a)")
    p.add_argument(
        "--aot",
        choices=sorted(GPU_TARGETS),
        help="compile the GPU configs for this GPU from this host, no device needed (needs jax[cuda12]); "
        "prints program size, memory and kernels per layer, named vs positional",
    )
    return p.parse_args(argv)


def _stage_times(
    config: GPTConfig, batch: int, compute: str, kind: str, positional_first: bool
) -> dict[str, dict[str, float]]:
    """One fresh trace, lower and compile of each variant (fresh functions: no jax caches hit)."""
    model, n_opt, window, params, p_opt, raw_window = abstract_state(config, batch)
    policy = mp_policy(compute)
    out: dict[str, dict[str, float]] = {}
    variants = [
        ("named", lambda: named_step(optimizer(), policy), (model, n_opt, window)),
        ("positional", lambda: positional_step(optimizer(), policy, kind), (params, p_opt, raw_window)),
    ]
    for name, make, args in reversed(variants) if positional_first else variants:
        fn = jax.jit(make(), donate_argnums=(0, 1))
        t0 = time.perf_counter()
        traced = fn.trace(*args)
        t1 = time.perf_counter()
        lowered = traced.lower()
        t2 = time.perf_counter()
        compiled = lowered.compile()
        t3 = time.perf_counter()
        out[name] = {
            "trace": t1 - t0,
            "lower": t2 - t1,
            "compile": t3 - t2,
            "eqns": count_jaxpr_eqns(traced.jaxpr),
            "hlo": hlo_op_count(compiled),
            "temp": temp_bytes(compiled),
        }
    return out


def compile_table(config: GPTConfig, batch: int, compute: str, kind: str, rounds: int) -> str:
    """Median trace/lower/compile seconds over ``rounds`` interleaved rounds, and program sizes."""
    # Warm-up of jax's one-time costs (backend start, primitive caches) on a tiny model.
    _stage_times(
        dataclasses.replace(CPU_SMALL, layers=1, vocab=64, seq_len=16, embed=32), 2, compute, "xla", False
    )
    # Alternate which variant goes first so drift in machine load hits both alike.
    runs = [_stage_times(config, batch, compute, kind, bool(i % 2)) for i in range(rounds)]
    lines = [
        f"### Compile cost: GPT training step, {config.layers} layers (scan), embed {config.embed}, "
        f"seq {config.seq_len}, vocab {config.vocab}, batch {batch}, {compute}, AdamW",
        "",
        f"Median of {rounds} rounds; each round traces, lowers and compiles both variants afresh.",
        "",
        "| measure | named | positional | ratio |",
        "| --- | ---: | ---: | ---: |",
    ]
    for stage in ("trace", "lower", "compile"):
        n = statistics.median(r["named"][stage] for r in runs)
        p = statistics.median(r["positional"][stage] for r in runs)
        ratio = statistics.median(r["named"][stage] / r["positional"][stage] for r in runs)
        lines.append(f"| {stage} time (s) | {n:.3f} | {p:.3f} | {ratio:.2f} |")
    last = runs[-1]
    for key, label in (("eqns", "jaxpr equations"), ("hlo", "compiled HLO instructions")):
        n, p = last["named"][key], last["positional"][key]
        lines.append(f"| {label} | {n} | {p} | {n / p:.3f} |")
    n, p = last["named"]["temp"], last["positional"]["temp"]
    lines.append(f"| temp memory (MiB) | {n / 2**20:.1f} | {p / 2**20:.1f} | {n / max(p, 1):.3f} |")
    return "\n".join(lines)


def _mfu_flops_per_token(config: GPTConfig, n_params: int) -> float:
    return 6 * n_params + 12 * config.layers * config.seq_len * config.embed


def step_table(
    label: str,
    config: GPTConfig,
    batch: int,
    compute: str,
    kind: str,
    number: int,
    rounds: int,
    peak: float | None,
) -> tuple[str, str]:
    """Step time named vs positional (interleaved medians), memory and program size; MFU on GPU."""
    policy = mp_policy(compute)
    model, n_opt, window, params, p_opt, raw = concrete_state(config, batch)
    n_fn = jax.jit(named_step(optimizer(), policy), donate_argnums=(0, 1))
    p_fn = jax.jit(positional_step(optimizer(), policy, kind), donate_argnums=(0, 1))
    n_comp = n_fn.lower(model, n_opt, window).compile()
    p_comp = p_fn.lower(params, p_opt, raw).compile()
    counts = count_params(model)
    n_mfu = counts["total"] - counts["position_table"]

    n_state = [model, n_opt]
    p_state = [params, p_opt]

    def run_named() -> None:
        n_state[0], n_state[1], loss = n_comp(n_state[0], n_state[1], window)
        loss.block_until_ready()

    def run_pos() -> None:
        p_state[0], p_state[1], loss = p_comp(p_state[0], p_state[1], raw)
        loss.block_until_ready()

    res = compare(f"{label} train step", run_named, run_pos, target=1.05, number=number, rounds=rounds)
    t_named = table(f"Step time: {label} ({compute}, batch {batch}, attention {kind})", [res])
    tokens = batch * config.seq_len
    lines = [
        "",
        "| measure | named | positional | ratio |",
        "| --- | ---: | ---: | ---: |",
    ]
    hn, hp = hlo_op_count(n_comp), hlo_op_count(p_comp)
    tn, tp = temp_bytes(n_comp), temp_bytes(p_comp)
    lines.append(f"| compiled HLO instructions | {hn} | {hp} | {hn / hp:.3f} |")
    lines.append(f"| temp memory (MiB) | {tn / 2**20:.1f} | {tp / 2**20:.1f} | {tn / max(tp, 1):.3f} |")
    n_tok_s = tokens / (res.named_us * 1e-6)
    p_tok_s = tokens / (res.positional_us * 1e-6)
    lines.append(f"| tokens/s | {n_tok_s:,.0f} | {p_tok_s:,.0f} | {n_tok_s / p_tok_s:.3f} |")
    if peak is not None:
        fpt = _mfu_flops_per_token(config, n_mfu)
        mfu_n = fpt * n_tok_s / (peak * 1e12)
        mfu_p = fpt * p_tok_s / (peak * 1e12)
        lines.append(
            f"| MFU (N = {n_mfu:,}, peak {peak:g} TFLOP/s) | {mfu_n:.1%} | {mfu_p:.1%} | {mfu_n / mfu_p:.3f} |"
        )
    return t_named, "\n".join(lines)


def _gpu_config(name: str, ckpt: bool | str | None, unroll: str) -> tuple[GPTConfig, int]:
    """GPU config ``name`` with its default batch; remat on for 1.3B unless ``ckpt`` says otherwise."""
    cfg, batch = GPU_CONFIGS[name]
    remat = ckpt if ckpt is not None else name == "1.3B"
    return dataclasses.replace(cfg, gradient_checkpointing=remat, scan_unroll=_unroll_arg(unroll)), batch


def aot_table(
    target: str, models: list[str], batch_size: int | None, ckpt: bool | str | None, unroll: str
) -> str:
    """(c): named vs positional steps of the GPU configs, compiled for ``target`` without a device."""
    import jax.numpy as jnp

    mesh = compile_only_gpu_mesh(target)
    lines = [
        f"### Compiled for {mesh.devices.flat[0].device_kind} without a device (jax {jax.__version__}, no autotuning)",
        "",
        "| model | measure | named | positional | ratio |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for name in models:
        cfg, batch = _gpu_config(name, ckpt, unroll)
        batch = batch_size or batch
        model, n_opt, window, params, p_opt, raw = abstract_like(abstract_state(cfg, batch), mesh)
        policy = mp_policy("bfloat16")
        kind = gpt_positional.attention_kind(jnp.bfloat16, cfg.embed // cfg.heads, platform="gpu")
        with hp.set_mesh(mesh):
            named = jax.jit(named_step(optimizer(), policy), donate_argnums=(0, 1))
            positional = jax.jit(positional_step(optimizer(), policy, kind), donate_argnums=(0, 1))
            n_comp = named.lower(model, n_opt, window).compile()
            p_comp = positional.lower(params, p_opt, raw).compile()

        def per_layer(compiled: object) -> str:
            kernels = hlo_kernels(compiled.as_text())  # type: ignore[attr-defined]  # a jax Compiled
            return " / ".join(str(sum(c.values())) for k, c in kernels.items() if k != "entry")

        label = f"{name} (batch {batch}, remat {cfg.gradient_checkpointing})"
        hn, hp_ = hlo_op_count(n_comp), hlo_op_count(p_comp)
        tn, tp = temp_bytes(n_comp), temp_bytes(p_comp)
        lines.append(f"| {label} | compiled HLO instructions | {hn} | {hp_} | {hn / hp_:.3f} |")
        lines.append(f"| | temp memory (MiB) | {tn / 2**20:.1f} | {tp / 2**20:.1f} | {tn / max(tp, 1):.3f} |")
        lines.append(f"| | kernels per layer (fwd / bwd) | {per_layer(n_comp)} | {per_layer(p_comp)} | |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    ckpt = checkpoint_policy_arg(args.checkpointing) if args.checkpointing is not None else None
    if args.aot:
        print(aot_table(args.aot, args.models.split(","), args.batch_size, ckpt, args.unroll))
        return
    on_gpu = args.gpu or jax.default_backend() == "gpu"
    compute = args.compute_dtype or ("bfloat16" if on_gpu else "float32")
    print(f"jax {jax.__version__}, backend {jax.default_backend()}, devices {jax.devices()[0].device_kind}\n")

    def kind_for(config: GPTConfig) -> str:
        if args.attention != "auto":
            return args.attention
        import jax.numpy as jnp

        return gpt_positional.attention_kind(jnp.dtype(compute), config.embed // config.heads)

    set_named_attention(None if args.attention == "auto" else args.attention)

    if not args.skip_compile:
        cfg = dataclasses.replace(GPT2_SMALL, gradient_checkpointing=ckpt if ckpt is not None else False)
        print(compile_table(cfg, args.batch_size or 8, compute, kind_for(cfg), args.compile_rounds))
        print()

    if on_gpu:
        for name in args.models.split(","):
            cfg, batch = _gpu_config(name, ckpt, args.unroll)
            bs = args.batch_size or batch
            t, extra = step_table(
                f"GPT-2 {name} (remat {cfg.gradient_checkpointing}, unroll {cfg.scan_unroll})",
                cfg,
                bs,
                compute,
                kind_for(cfg),
                number=3,
                rounds=7,
                peak=args.peak_tflops,
            )
            print(t + "\n" + extra + "\n", flush=True)
    else:
        cfg = dataclasses.replace(CPU_SMALL, gradient_checkpointing=ckpt if ckpt is not None else False)
        bs = args.batch_size or 8
        t, extra = step_table(
            f"GPT {cfg.layers}L/{cfg.embed}d/seq {cfg.seq_len}",
            cfg,
            bs,
            compute,
            kind_for(cfg),
            number=3,
            rounds=9,
            peak=None,
        )
        print(t + "\n" + extra)


if __name__ == "__main__":
    main()
