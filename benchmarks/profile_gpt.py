"""Where a named GPT training step spends its time: the top GPU kernels by total duration.

    python benchmarks/profile_gpt.py --model 124M --batch-size 16

Captures a jax.profiler trace of a few steps and sums kernel durations from the device plane
(jax's bundled ProfileData reader: no TensorBoard needed).
"""

from __future__ import annotations

import argparse
import collections
import glob
import tempfile

import jax
from bench_gpt import GPU_CONFIGS, _unroll_arg
from haliax_gpt_example.steps import concrete_state, mp_policy, named_step, optimizer
from haliax_gpt_example.train import checkpoint_policy_arg


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--model", default="124M")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--checkpointing", default="false")
    p.add_argument("--unroll", default="1")
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--top", type=int, default=30)
    args = p.parse_args()

    config, default_batch = GPU_CONFIGS[args.model]
    config = type(config)(
        **{
            **config.__dict__,
            "gradient_checkpointing": checkpoint_policy_arg(args.checkpointing),
            "scan_unroll": _unroll_arg(args.unroll),
        }
    )
    batch = args.batch_size or default_batch
    step = jax.jit(named_step(optimizer(), mp_policy("bfloat16")), donate_argnums=(0, 1))
    model, opt_state, window, *_ = concrete_state(config, batch)
    for _ in range(3):
        model, opt_state, loss = step(model, opt_state, window)
    loss.block_until_ready()

    trace_dir = tempfile.mkdtemp()
    with jax.profiler.trace(trace_dir):
        for _ in range(args.steps):
            model, opt_state, loss = step(model, opt_state, window)
        loss.block_until_ready()

    (path,) = glob.glob(f"{trace_dir}/**/*.xplane.pb", recursive=True)
    data = jax.profiler.ProfileData.from_file(path)
    totals: collections.Counter[str] = collections.Counter()
    counts: collections.Counter[str] = collections.Counter()
    for plane in data.planes:
        if not plane.name.startswith("/device:GPU"):
            continue
        for line in plane.lines:
            if "stream" not in line.name.lower() and "kernel" not in line.name.lower():
                continue
            for ev in line.events:
                totals[ev.name] += ev.duration_ns
                counts[ev.name] += 1
    total = sum(totals.values())
    print(f"{args.model} batch {batch}: {total / args.steps / 1e6:.2f} ms of kernels per step\n")
    print("| kernel | ms/step | share | calls/step |\n| --- | ---: | ---: | ---: |")
    for name, ns in totals.most_common(args.top):
        print(
            f"| {name[:90]} | {ns / args.steps / 1e6:.3f} | {ns / total:.1%} | {counts[name] // args.steps} |"
        )


if __name__ == "__main__":
    main()
