"""The GPT demo under jax.distributed: two processes on loopback train to a one-process run's losses."""

from __future__ import annotations

import json
import os
import pathlib
import sys

import numpy as np
from haliax_gpt_example import train

import haliax.testing as ht

SCRIPT = pathlib.Path(__file__).parent / "train_gpt.py"
TINY = ["--layers", "1", "--embed", "32", "--heads", "2", "--seq-len", "16", "--batch-size", "4"]
TINY += ["--steps", "4", "--eval-every", "0", "--save-every", "0", "--sample-tokens", "0", "--no-progress"]
MESH = ["--mesh", "data=2,model=2", "--strategy", "fsdp+tp"]


def _env() -> dict[str, str]:
    # The trainer asks for its own simulated devices (its share of --mesh): drop the test
    # session's device count.
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    return dict(env, JAX_PLATFORMS="cpu")


def test_two_processes_train_to_the_one_process_losses(tmp_path) -> None:
    def command(pid: int, coordinator: str) -> list[str]:
        flags = [*TINY, *MESH, "--out", str(tmp_path / "two"), "--coordinator", coordinator]
        return [sys.executable, str(SCRIPT), *flags, "--num-processes", "2", "--process-id", str(pid)]

    with ht.local_processes(command, env=_env(), timeout=150) as run:
        # The reference: one process, a mesh of the same shape on 4 of this session's 8 devices.
        assert train.main([*TINY, *MESH, "--out", str(tmp_path / "one")]) == 0
    outputs = run.outputs
    one = json.loads((tmp_path / "one" / "history.json").read_text())
    two = json.loads((tmp_path / "two" / "history.json").read_text())
    assert [s for s, _ in two] == [1, 2, 3, 4]
    np.testing.assert_allclose([v for _, v in two], [v for _, v in one], rtol=1e-5)
    # Process 0 reports; process 1 stays quiet.
    assert "in 2 processes" in outputs[0]
    assert "loss" not in outputs[1], outputs[1][-2000:]
