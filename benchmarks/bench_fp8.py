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

Run: ``python benchmarks/bench_fp8.py`` (CPU: a tiny model, checks the pipeline; CPU XLA has no fp8
or int8 GEMMs, so only (b) and (c) mean anything there), ``python benchmarks/bench_fp8.py --gpu``
(GPT ~1.3B, bf16 compute, 300 steps), or through ``benchmarks/run_gpu.sh``.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import re
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

CPU_CONFIG = (GPTConfig(vocab=256, seq_len=64, embed=64, heads=4, layers=2), 8)
GPU_CONFIGS = {
    "124M": (GPTConfig(vocab=50304, seq_len=1024, embed=768, heads=12, layers=12), 16),
    "350M": (GPTConfig(vocab=50304, seq_len=1024, embed=1024, heads=16, layers=24), 8),
    "1.3B": (GPTConfig(vocab=50304, seq_len=2048, embed=2048, heads=16, layers=24), 4),
}
QUANTIZED = {"fp8": hq.QuantizationConfig(fp8=True), "int8": hq.QuantizationConfig(int8=True)}

# One HLO instruction: `%name = type[dims]{layout} opcode(%operand, ...), attributes`. Optimized HLO
# names operands without their types, so types are looked up by instruction name (unique per module).
_INSTR = re.compile(r"^\s*(?:ROOT\s+)?%?([\w.\-]+)\s*=\s*\(?([a-z0-9]+)\[[^=]*?\s([a-z\-]+)\((.*)$")
_OPERAND = re.compile(r"%([\w.\-]+)")
_TARGET = re.compile(r'custom_call_target="([^"]+)"')


def gemm_census(hlo_text: str) -> dict[str, Any]:
    """GEMMs in an optimized HLO module: counts by the element types of their operands, and library calls.

    A ``dot``, or a ``custom-call`` whose target names a matmul/GEMM (cuBLAS, cuBLASLt, oneDNN), is
    keyed by the sorted set of its operands' element types, e.g. ``"f8e4m3fn+f8e5m2"`` or ``"bf16"``.
    """
    types: dict[str, str] = {}
    gemms: list[tuple[str, str, str]] = []  # (opcode, operands text, whole line)
    for line in hlo_text.splitlines():
        m = _INSTR.match(line)
        if not m:
            continue
        name, elem, opcode, rest = m.groups()
        types[name] = elem
        if opcode in ("dot", "custom-call"):
            gemms.append((opcode, rest.split(")", 1)[0], line))
    by_types: collections.Counter[str] = collections.Counter()
    targets: collections.Counter[str] = collections.Counter()
    for opcode, operands, line in gemms:
        if opcode == "custom-call":
            target = _TARGET.search(line)
            call = target.group(1) if target else ""
            if not any(word in call.lower() for word in ("matmul", "gemm")):
                continue
            targets[call] += 1
        kinds = sorted({types.get(o, "?") for o in _OPERAND.findall(operands)})
        by_types["+".join(kinds)] += 1
    return {"by_operand_types": dict(by_types), "library_calls": dict(targets)}


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


def _build(mode: str, config: GPTConfig, batch: int, compute: str, window: hax.NamedArray) -> Run:
    model = GPT.init(config, key=jax.random.PRNGKey(0))
    if mode != "bf16":
        model = hq.quantize_linear_layers(model, QUANTIZED[mode])
    opt = optax.adamw(3e-4, weight_decay=0.1)
    _, params = hq.partition_for_grad_overwrite(model)
    opt_state = opt.init(eqx.filter(params, eqx.is_inexact_array))
    step = eqx.filter_jit(_train_step(mp_policy(compute), opt), donate="all-except-first")
    compiled = step.lower(model, opt_state, window).compile()
    return Run(mode, compiled, [model, opt_state], [])


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
    args = p.parse_args(argv)

    on_gpu = args.gpu or jax.default_backend() == "gpu"
    config, batch = GPU_CONFIGS[args.model] if on_gpu else CPU_CONFIG
    batch = args.batch_size or batch
    steps = args.steps or (300 if on_gpu else 30)
    compute = "bfloat16" if on_gpu else "float32"
    modes = ["bf16", *[m for m in args.modes.split(",") if m]]
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
        census = gemm_census(run.compiled.compiled.as_text())  # equinox wraps jax's Compiled
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
