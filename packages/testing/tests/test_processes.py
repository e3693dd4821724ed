"""local_processes: loopback processes that are checked, bounded in time and never leaked."""

from __future__ import annotations

import sys
import time

import pytest

import haliax.testing as ht


def _python(code: str):
    return lambda i, addr: [sys.executable, "-c", code, str(i), addr]


def test_each_process_gets_its_id_and_one_shared_coordinator():
    with ht.local_processes(_python("import sys; print(sys.argv[1], sys.argv[2])"), num_processes=3) as run:
        pass
    lines = [out.split() for out in run.outputs]
    assert [pid for pid, _ in lines] == ["0", "1", "2"]
    assert {addr for _, addr in lines} == {run.coordinator}
    assert run.coordinator.startswith("127.0.0.1:")


def test_a_failing_process_is_reported_and_the_others_are_stopped():
    code = "import sys, time\nif sys.argv[1] == '1': sys.exit('boom')\ntime.sleep(60)"
    start = time.monotonic()
    with (
        pytest.raises(AssertionError, match=r"process 1 of 2 exited with 1:\n.*boom"),
        ht.local_processes(_python(code)) as run,
    ):
        pass
    assert time.monotonic() - start < 30
    assert all(p.poll() is not None for p in run.processes)


def test_a_process_past_the_timeout_is_killed_and_reported():
    with (
        pytest.raises(AssertionError, match="did not finish within 2 s"),
        ht.local_processes(_python("import time; time.sleep(60)"), num_processes=1, timeout=2) as run,
    ):
        pass
    assert run.processes[0].poll() is not None


def test_the_processes_are_killed_when_the_body_raises():
    with pytest.raises(RuntimeError), ht.local_processes(_python("import time; time.sleep(60)")) as run:
        raise RuntimeError("the reference run failed")
    assert all(p.poll() is not None for p in run.processes)
