"""The GPT demo under jax.distributed: two processes on loopback train to a one-process run's losses."""

from __future__ import annotations

import json
import os
import pathlib
import socket
import subprocess
import sys

import numpy as np
from haliax_gpt_example import train

SCRIPT = pathlib.Path(__file__).parent / "train_gpt.py"
TINY = ["--layers", "1", "--embed", "32", "--heads", "2", "--seq-len", "16", "--batch-size", "4"]
TINY += ["--steps", "4", "--eval-every", "0", "--save-every", "0", "--sample-tokens", "0", "--no-progress"]
MESH = ["--mesh", "data=2,model=2", "--strategy", "fsdp+tp"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env() -> dict[str, str]:
    # The trainer asks for its own simulated devices (its share of --mesh): drop the test
    # session's device count.
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    return dict(env, JAX_PLATFORMS="cpu")


def test_two_processes_train_to_the_one_process_losses(tmp_path) -> None:
    port = _free_port()
    procs = []
    try:
        for i in range(2):
            flags = [*TINY, *MESH, "--out", str(tmp_path / "two"), "--coordinator", f"127.0.0.1:{port}"]
            flags += ["--num-processes", "2", "--process-id", str(i)]
            procs.append(
                subprocess.Popen(
                    [sys.executable, str(SCRIPT), *flags],
                    env=_env(),
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
            )
        # The reference: one process, a mesh of the same shape on 4 of this session's 8 devices.
        assert train.main([*TINY, *MESH, "--out", str(tmp_path / "one")]) == 0
        outputs = [p.communicate(timeout=150)[0] for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.communicate()
    for p, out in zip(procs, outputs, strict=True):
        assert p.returncode == 0, out[-3000:]
    one = json.loads((tmp_path / "one" / "history.json").read_text())
    two = json.loads((tmp_path / "two" / "history.json").read_text())
    assert [s for s, _ in two] == [1, 2, 3, 4]
    np.testing.assert_allclose([v for _, v in two], [v for _, v in one], rtol=1e-5)
    # Process 0 reports; process 1 stays quiet.
    assert "in 2 processes" in outputs[0]
    assert "loss" not in outputs[1], outputs[1][-2000:]
