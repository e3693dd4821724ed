"""fp8 and int8 `Linear` layers against bf16: training-step time, loss on the demo corpus, and HLO proof.

For each mode (``bf16``: the plain model; ``fp8``: every `Linear` through `Fp8DotGeneralOp`, delayed
scaling; ``int8``: `Int8DotGeneralOp`) the named GPT trains on the demo corpus (Python's bundled
reference docs, byte-level) from the same initial parameters with the same batches:

(a) step time of one compiled AdamW step, each quantized mode interleaved with bf16 in one process
    (medians, and the median per-round ratio; speed-up = 1 / ratio);
(b) the loss after ``--steps`` steps (mean of the last 10), and its relative difference to bf16;
(c) what the compiled program really runs: every ``dot`` / GEMM ``custom-call`` of the optimized
    HLO, counted by operand element type, plus the GEMM library calls (cuBLAS/cuBLASLt targets) it
    names. fp8 that "runs" but whose GEMMs take bf16 operands shows up here as zero f8 GEMMs.

(d) with ``--aot h100`` / ``--aot h200``, no GPU needed: the GPU-config steps compiled ahead of time
    for that device from this host (`haliax.testing.compile_only_gpu_mesh`, needs ``pip install "jax[cuda12]"``),
    and (c) for what XLA's GPU pipeline produces, plus the kernels launched per layer (forward and
    backward scan bodies) and temp memory. Nothing runs, so there are no times or losses.

Run: ``python benchmarks/bench_fp8.py`` (CPU: a tiny model, checks the pipeline; CPU XLA has no fp8
or int8 GEMMs, so only (b) and (c) mean anything there), ``python benchmarks/bench_fp8.py --gpu``
(GPT ~1.3B, bf16 compute, 300 steps), or through ``benchmarks/run_gpu.sh``;
``python benchmarks/bench_fp8.py --aot h100`` on a CPU-only host.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import statistics
import time
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from haliax_gpt_example import data
from haliax_gpt_example.harness import compare
from haliax_gpt_example.model import GPT, GPTConfig, loss_fn
from haliax_gpt_example.steps import mp_policy

import haliax as hax
import haliax.quantization as hq
from haliax.testing import GPU_TARGETS, abstract_like, compile_only_gpu_mesh, hlo_gemms, hlo_kernels

CPU_CONFIG = (GPTConfig(vocab=256, seq_len=64, embed=64, heads=4, layers=2), 8)
GPU_CONFIGS = {
    "124M": (GPTConfig(vocab=50304, seq_len=1024, embed=768, heads=12, layers=12), 16),
    "350M": (GPTConfig(vocab=50304, seq_len=1024, embed=1024, heads=16, layers=24), 8),
    "1.3B": (GPTConfig(vocab=50304, seq_len=2048, embed=2048, heads=16, layers=24), 4),
}
QUANTIZED = {"fp8": hq.QuantizationConfig(fp8=True), "int8": hq.QuantizationConfig(int8=True)}


def _train_step(policy: Any, opt: optax.GradientTransformation) -> Callable[..., Any]:
    """One AdamW step that also writes the quantized layers' scale state (overwrite-with-gradient)."""

    def compute_loss(m: Any, window: hax.NamedArray) -> jax.Array:
        return loss_fn(policy.cast_to_compute(m), window).astype(jnp.float32)

    def step(m: Any, opt_state: Any, window: hax.NamedArray) -> tuple[Any, Any, jax.Array]:
        loss, grads = eqx.filter_value_and_grad(compute_loss)(m, window)
        overwrites, grads = hq.partition_for_grad_overwrite(grads)
        _, params = hq.partition_for_grad_overwrite(m)
        updates, opt_state = opt.update(grads, opt_state, eqx.filter(params, eqx.is_inexact_array))
        return hq.apply_updates(m, updates, overwrites), opt_state, loss

    return step


@dataclasses.dataclass
class Run:
    mode: str
    compiled: Any
    state: list[Any]
    losses: list[float]


def _optimizer() -> optax.GradientTransformation:
    return optax.adamw(3e-4, weight_decay=0.1)


def _init(mode: str, config: GPTConfig) -> tuple[Any, Any]:
    """The model of ``mode`` (its Linear layers quantized unless bf16) and its optimizer state."""
    model = GPT.init(config, key=jax.random.PRNGKey(0))
    if mode != "bf16":
        model = hq.quantize_linear_layers(model, QUANTIZED[mode])
    _, params = hq.partition_for_grad_overwrite(model)
    return model, _optimizer().init(eqx.filter(params, eqx.is_inexact_array))


def _build(mode: str, config: GPTConfig, batch: int, compute: str, window: hax.NamedArray) -> Run:
    model, opt_state = _init(mode, config)
    step = eqx.filter_jit(_train_step(mp_policy(compute), _optimizer()), donate="all-except-first")
    compiled = step.lower(model, opt_state, window).compile()
    return Run(mode, compiled, [model, opt_state], [])


def _compile_for(mode: str, config: GPTConfig, batch: int, mesh: jax.sharding.Mesh) -> Any:
    """The bf16-compute training step of ``mode``, compiled for ``mesh``'s devices from shapes alone."""

    state = abstract_like(eqx.filter_eval_shape(_init, mode, config), mesh)
    arrays, static = eqx.partition(state, lambda x: isinstance(x, jax.ShapeDtypeStruct))
    window = hax.named(
        abstract_like(jax.ShapeDtypeStruct((batch, config.seq_len + 1), jnp.int32), mesh), ("batch", "window")
    )
    step = _train_step(mp_policy("bfloat16"), _optimizer())

    def run(arrays: Any, window: hax.NamedArray) -> Any:
        model, opt_state, loss = step(*eqx.combine(arrays, static), window)
        return eqx.filter((model, opt_state), eqx.is_array), loss

    with hax.partitioning.set_mesh(mesh):  # the attention kernel follows the mesh's (GPU) devices
        return jax.jit(run, donate_argnums=0).lower(arrays, window).compile()


def aot_census(target: str, model: str, batch: int | None, modes: list[str]) -> None:
    """Print (c) and the kernels per layer for each mode, compiled for ``target`` without a device."""
    mesh = compile_only_gpu_mesh(target)
    config, default_batch = GPU_CONFIGS[model]
    batch = batch or default_batch
    print(
        f"jax {jax.__version__}, compiled ahead of time for {mesh.devices.flat[0].device_kind} (no device, no autotuning)"
    )
    print(f"model {model} ({config.layers} layers, embed {config.embed}), batch {batch}, compute bfloat16\n")
    print(
        "| mode | GEMMs by operand types | GEMM library calls | kernels per layer, fwd / bwd | other kernels | temp memory (GiB) |"
    )
    print("| --- | --- | --- | ---: | ---: | ---: |")
    for m in modes:
        compiled = _compile_for(m, config, batch, mesh)
        text = compiled.as_text()
        census = hlo_gemms(text)
        kinds = ", ".join(f"{k}: {v}" for k, v in sorted(census["by_operand_types"].items()))
        calls = ", ".join(f"`{k}`: {v}" for k, v in sorted(census["library_calls"].items())) or "none"
        kernels = hlo_kernels(text)
        layers = [sum(c.values()) for name, c in kernels.items() if name != "entry"]
        other = sum(kernels.get("entry", collections.Counter()).values())
        temp = compiled.memory_analysis().temp_size_in_bytes / 2**30
        print(f"| {m} | {kinds} | {calls} | {' / '.join(map(str, layers))} | {other} | {temp:.2f} |")


def _advance(run: Run, window: hax.NamedArray) -> float:
    run.state[0], run.state[1], loss = run.compiled(run.state[0], run.state[1], window)
    return float(loss)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--gpu", action="store_true", help="GPU config (also the default when jax runs on a GPU)")
    p.add_argument("--model", default="1.3B", choices=sorted(GPU_CONFIGS), help="GPU model size")
    p.add_argument("--batch-size", type=int, help="default: 8 on CPU, 16/8/4 for 124M/350M/1.3B")
    p.add_argument(
        "--steps", type=int, help="training steps for the loss comparison (default 300 GPU, 30 CPU)"
    )
    p.add_argument("--modes", default="fp8,int8", help="quantized modes to compare with bf16")
    p.add_argument("--rounds", type=int, default=7, help="interleaved timing rounds")
    p.add_argument(
        "--aot",
        choices=sorted(GPU_TARGETS),
        help="compile the GPU config for this GPU from this host, no device needed (needs jax[cuda12]); "
        "prints the compiled programs' GEMMs and kernels only",
    )
    args = p.parse_args(argv)
    modes = ["bf16", *[m for m in args.modes.split(",") if m]]
    if args.aot:
        aot_census(args.aot, args.model, args.batch_size, modes)
        return

    on_gpu = args.gpu or jax.default_backend() == "gpu"
    config, batch = GPU_CONFIGS[args.model] if on_gpu else CPU_CONFIG
    batch = args.batch_size or batch
    steps = args.steps or (300 if on_gpu else 30)
    compute = "bfloat16" if on_gpu else "float32"
    label = args.model if on_gpu else "tiny CPU GPT"
    print(f"jax {jax.__version__}, backend {jax.default_backend()}, devices {jax.devices()[0].device_kind}")
    print(f"model {label} ({config.layers} layers, embed {config.embed}), batch {batch}, compute {compute}\n")

    tokens = data.encode(data.load_text(None))
    train_tokens, _ = data.split(tokens, config.seq_len)
    Batch, Window = hax.Axis("batch", batch), hax.Axis("window", config.seq_len + 1)
    stream = data.batches(train_tokens, batch, config.seq_len, seed=0)
    windows = [hax.named(jnp.asarray(next(stream)), (Batch, Window)) for _ in range(steps)]

    runs = {m: _build(m, config, batch, compute, windows[0]) for m in modes}

    # (c) the GEMMs each compiled step runs
    print("### GEMMs in the compiled training step (optimized HLO)\n")
    print("| mode | GEMMs by operand types | GEMM library calls |")
    print("| --- | --- | --- |")
    for m, run in runs.items():
        census = hlo_gemms(run.compiled.compiled.as_text())  # equinox wraps jax's Compiled
        kinds = ", ".join(f"{k}: {v}" for k, v in sorted(census["by_operand_types"].items()))
        calls = ", ".join(f"`{k}`: {v}" for k, v in sorted(census["library_calls"].items())) or "none"
        print(f"| {m} | {kinds} | {calls} |")

    # (b) loss after `steps` steps, every mode on the same batches
    for i, window in enumerate(windows):
        for run in runs.values():
            run.losses.append(_advance(run, window))
        if i == 0:
            t0 = time.perf_counter()
    print(f"\n### Loss after {steps} steps (mean of the last 10; {time.perf_counter() - t0:.0f} s)\n")
    print("| mode | first loss | final loss | vs bf16 |")
    print("| --- | ---: | ---: | ---: |")
    base = statistics.mean(runs["bf16"].losses[-10:])
    for m, run in runs.items():
        final = statistics.mean(run.losses[-10:])
        print(f"| {m} | {run.losses[0]:.3f} | {final:.3f} | {(final - base) / base:+.2%} |")

    # (a) step time, each quantized mode interleaved with bf16
    print("\n### Step time (interleaved with bf16 in one process)\n")
    print("| mode | step (ms) | bf16 step (ms) | time ratio | speed-up |")
    print("| --- | ---: | ---: | ---: | ---: |")
    window = windows[-1]

    def runner(run: Run) -> Callable[[], None]:
        def go() -> None:
            run.state[0], run.state[1], loss = run.compiled(run.state[0], run.state[1], window)
            loss.block_until_ready()

        return go

    for m in modes[1:]:
        res = compare(m, runner(runs[m]), runner(runs["bf16"]), target=0.8, number=5, rounds=args.rounds)
        print(
            f"| {m} | {res.named_us / 1e3:.2f} | {res.positional_us / 1e3:.2f} | {res.ratio:.3f} | "
            f"{1 / res.ratio:.2f}x |"
        )


if __name__ == "__main__":
    main()
