"""Several local processes under ``jax.distributed``: start them on loopback, wait bounded, clean up.

A multi-process test starts N copies of a program that each call ``jax.distributed.initialize``
with the same coordinator address, waits for all of them, and must never hang or leak children:
a process that fails leaves the others waiting at a barrier, so they are stopped as soon as one
fails, and all are killed when the time is up or the test body raises.
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now (for a ``jax.distributed`` coordinator)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LocalProcesses:
    """The processes `local_processes` started; ``outputs`` (stdout and stderr) is filled when they end."""

    coordinator: str
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)


def _stop(processes: Sequence[subprocess.Popen[bytes]]) -> None:
    for p in processes:
        if p.poll() is None:
            p.kill()
            p.wait()


@contextmanager
def local_processes(
    command: Callable[[int, str], Sequence[str]],
    *,
    num_processes: int = 2,
    env: Mapping[str, str] | None = None,
    timeout: float = 240.0,
) -> Iterator[LocalProcesses]:
    """Run ``num_processes`` processes on loopback while the ``with`` body runs; check them at its end.

    ``command(process_id, coordinator)`` gives each process's argv; ``coordinator`` is
    ``"127.0.0.1:<free port>"``. The body runs while they do (e.g. a one-process reference); on
    leaving it, every process is waited for, at most ``timeout`` seconds from the start, and
    stopped early once one has failed. Then each process's output is in ``outputs``, and an
    `AssertionError` names the first one that failed, timed out or was stopped, with the tail of
    its output. If the body raises, the processes are killed.

    Examples:
        >>> import sys
        >>> import haliax.testing as ht
        >>> script = "import sys; print('process', sys.argv[1], 'of 2 via', sys.argv[2][:10])"
        >>> with ht.local_processes(lambda i, addr: [sys.executable, "-c", script, str(i), addr]) as run:
        ...     pass
        >>> [out.strip() for out in run.outputs]
        ['process 0 of 2 via 127.0.0.1:', 'process 1 of 2 via 127.0.0.1:']
    """
    run = LocalProcesses(coordinator=f"127.0.0.1:{free_port()}")
    deadline = time.monotonic() + timeout
    with tempfile.TemporaryDirectory(prefix="haliax-processes-") as logs:
        paths = [os.path.join(logs, f"process{i}.log") for i in range(num_processes)]
        try:
            for i, path in enumerate(paths):
                with open(path, "wb") as out:
                    run.processes.append(
                        subprocess.Popen(
                            list(command(i, run.coordinator)),
                            env=None if env is None else dict(env),
                            stdout=out,
                            stderr=subprocess.STDOUT,
                        )
                    )
            yield run
            while time.monotonic() < deadline:
                codes = [p.poll() for p in run.processes]  # poll every one: returncode is set by poll
                if all(code is not None for code in codes) or any(codes):
                    break  # all done, or one failed (the others would wait for it at a barrier)
                time.sleep(0.05)
        finally:
            timed_out = any(p.poll() is None for p in run.processes)
            _stop(run.processes)
        for path in paths[: len(run.processes)]:
            with open(path, encoding="utf-8", errors="replace") as f:
                run.outputs.append(f.read())
    codes = [p.returncode for p in run.processes]
    failed = [i for i, code in enumerate(codes) if code != 0]
    if failed:
        # Report a process that failed by itself before one that was stopped because of it.
        i = next((j for j in failed if codes[j] > 0), failed[0])
        if codes[i] > 0:
            why = f"exited with {codes[i]}"
        else:
            why = f"did not finish within {timeout:g} s" if timed_out else "was stopped"
        raise AssertionError(
            f"local_processes: process {i} of {num_processes} {why}:\n{run.outputs[i][-3000:]}"
        )
