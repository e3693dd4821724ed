#!/usr/bin/env bash
# The GPU benchmarks: GPT-2 124M/350M/1.3B training steps (bf16, AdamW, MFU) and attention at
# seq 1k-8k. Run from the repository root on a machine with jax[cuda] installed; prints the same
# Markdown tables as the CPU run. Extra arguments go to bench_gpt.py (e.g. --peak-tflops 989).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHONPATH="$(ls -d packages/*/src | tr '\n' ':')examples/gpt_model/src${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONPATH
PY="${PYTHON:-python}"
"$PY" benchmarks/bench_gpt.py --gpu "$@"
"$PY" benchmarks/bench_attention.py --gpu
