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

# The benchmarks run from this source tree; what they import beyond it must be installed. A GPU
# machine without network can take pure-Python wheels from a folder (default .wheels, made
# elsewhere with: pip download jmp hypothesis -d .wheels).
WHEELS="${WHEELS:-.wheels}"
missing="$("$PY" -c 'import importlib.util as u; print(" ".join(m for m in ("jax", "equinox", "optax", "jmp", "hypothesis", "numpy") if u.find_spec(m) is None))')"
if [ -n "$missing" ]; then
  if [ -d "$WHEELS" ]; then
    "$PY" -m pip install -q --no-index --find-links "$WHEELS" $missing
  else
    echo "run_gpu.sh: missing Python packages: $missing. Install them, or on a machine with network run" >&2
    echo "  pip download $missing -d $WHEELS   and bring $WHEELS here (WHEELS= names another folder)" >&2
    exit 2
  fi
fi
"$PY" benchmarks/bench_gpt.py --gpu "$@"
"$PY" benchmarks/bench_attention.py --gpu
"$PY" benchmarks/bench_fp8.py --gpu
