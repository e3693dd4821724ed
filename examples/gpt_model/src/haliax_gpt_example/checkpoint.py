"""Training-state checkpoints for the GPT demo: model, optimizer state, step, data position, config.

A thin layer over `haliax.partitioning`'s orbax checkpoints, under ``run_dir / "checkpoints"``:
every process writes its own shards, saves run in the background (call `wait_until_finished`
before exiting), the latest three steps are kept, and a save that was interrupted is never
restored. The arrays are stored under the same keys as the safetensors export
(``model.<...>``, ``opt.<...>``).
"""

from __future__ import annotations

import pathlib
from typing import Any

import haliax.partitioning as hp

KEEP = 3
"""How many of the latest steps are kept."""

_MANAGERS: dict[pathlib.Path, hp.CheckpointManager] = {}
_STARTED: dict[pathlib.Path, set[int]] = {}  # steps whose save this process started (maybe still running)


def checkpoint_dir(run_dir: pathlib.Path) -> pathlib.Path:
    """Where the checkpoints of the run in ``run_dir`` go."""
    return pathlib.Path(run_dir).absolute() / "checkpoints"


def _manager(run_dir: pathlib.Path) -> hp.CheckpointManager:
    directory = checkpoint_dir(run_dir)
    if directory not in _MANAGERS:
        _MANAGERS[directory] = hp.CheckpointManager(directory, max_to_keep=KEEP)
    return _MANAGERS[directory]


def save(
    run_dir: pathlib.Path,
    step: int,
    model: Any,
    opt_state: Any,
    *,
    config: dict,
    data_position: int,
    wait: bool = False,
) -> None:
    """Start saving the training state at ``step`` (every process calls this); ``wait`` blocks until it is written.

    ``config`` must be JSON (numbers, strings, lists, dicts). A step that is already saved is
    left as it is (a run resumed at its last step saves nothing new).
    """
    manager = _manager(run_dir)
    started = _STARTED.setdefault(manager.directory, set())
    if step not in started and step not in manager.all_steps():
        metadata = {"config": config, "data_position": int(data_position)}
        manager.save(step, {"model": model, "opt": opt_state}, metadata=metadata, force=True)
        started.add(step)
    if wait:
        manager.wait_until_finished()


def restore_latest(
    run_dir: pathlib.Path, model_template: Any, opt_state_template: Any
) -> tuple[int, Any, Any, dict, int] | None:
    """``(step, model, opt_state, config, data_position)`` from the last complete checkpoint, or None.

    The templates give the structure and axes (their values are not read); each array is restored
    with its template's sharding, or by the active mesh and axis mapping when restoring inside
    ``hp.set_mesh(...)`` and ``hp.axis_mapping(...)``, so a run may resume on another mesh.
    """
    directory = checkpoint_dir(run_dir)
    if directory in _MANAGERS:
        _MANAGERS[directory].wait_until_finished()
    if hp.latest_checkpoint_step(directory) is None:
        return None
    ck = hp.restore_checkpoint(directory, {"model": model_template, "opt": opt_state_template})
    meta = ck.metadata
    return ck.step, ck.tree["model"], ck.tree["opt"], meta["config"], int(meta["data_position"])


def wait_until_finished(run_dir: pathlib.Path) -> None:
    """Block until every save started for ``run_dir`` is complete (call it before the process exits)."""
    manager = _MANAGERS.get(checkpoint_dir(run_dir))
    if manager is not None:
        manager.wait_until_finished()
