#!/usr/bin/env bash
# The GPU benchmarks: GPT-2 124M/350M/1.3B training steps (bf16, AdamW, MFU), attention at seq
# 1k-8k, and fp8/int8 Linear layers against bf16 on the ~1.3B GPT (step time, loss after 300 steps,
# the GEMMs the compiled step runs). Run from the repository root on a machine with jax[cuda] installed; prints the same
# Markdown tables as the CPU run. Extra arguments go to bench_gpt.py (e.g. --peak-tflops 989).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHONPATH="$(ls -d packages/*/src | tr '\n' ':')examples/gpt_model/src${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONPATH
PY="${PYTHON:-python}"
"$PY" benchmarks/bench_gpt.py --gpu "$@"
"$PY" benchmarks/bench_attention.py --gpu
"$PY" benchmarks/bench_fp8.py --gpu
