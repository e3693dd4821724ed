"""Safetensors files for the GPT: the weights-only export, and a one-file training checkpoint.

``export_weights`` writes ``model.safetensors`` (the named-key layout of ``haliax.state_dict``,
the format the Hugging Face interop reads). ``save`` / ``restore_latest`` / ``wait_until_finished``
are a small single-file training checkpoint with the same signatures as ``checkpoint.py``'s
(orbax, sharded, multi-host); the trainer uses whichever is installed. Here every process gathers
the whole state and process 0 writes it, which suits models that fit in one host's memory.
"""

from __future__ import annotations

import json
import os
import pathlib
from typing import Any

import jax

import haliax.state_dict as hsd

STATE = "checkpoint.safetensors"
META = "checkpoint.json"


def _to_host(tree: Any) -> Any:
    """``tree`` with every array gathered to this host (a no-op for single-process arrays)."""
    leaves = jax.tree.leaves(tree)
    if all(getattr(x, "is_fully_addressable", True) for x in leaves):
        return tree
    from jax.experimental import multihost_utils

    return multihost_utils.process_allgather(tree, tiled=True)


def _atomic_write(path: pathlib.Path, write) -> None:
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)


def export_weights(model: Any, path: pathlib.Path) -> None:
    """Write the model's weights (no optimizer state) to ``path`` as safetensors (process 0 writes)."""
    state = hsd.to_state_dict(_to_host(model))
    if jax.process_index() == 0:
        _atomic_write(path, lambda tmp: hsd.save_state_dict(state, str(tmp)))


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
    """Write the training state after ``step`` steps to ``run_dir`` (synchronous; ``wait`` is accepted)."""
    del wait
    state = {
        **hsd.to_state_dict(_to_host(model), prefix="model"),
        **hsd.to_state_dict(_to_host(opt_state), prefix="opt"),
    }
    if jax.process_index() != 0:
        return
    # Each file is written under a temporary name and renamed, so a run killed mid-write leaves
    # the previous complete file in place.
    _atomic_write(run_dir / STATE, lambda tmp: hsd.save_state_dict(state, str(tmp)))
    meta = {"step": step, "config": config, "data_position": data_position}
    _atomic_write(run_dir / META, lambda tmp: tmp.write_text(json.dumps(meta, indent=1)))


def restore_latest(run_dir: pathlib.Path, model_template: Any, opt_state_template: Any):
    """``(step, model, opt_state, config, data_position)`` of the checkpoint in ``run_dir``, or None."""
    if not (run_dir / STATE).exists() or not (run_dir / META).exists():
        return None
    meta = json.loads((run_dir / META).read_text())
    state = hsd.load_state_dict(str(run_dir / STATE))
    model = hsd.from_state_dict(model_template, state, prefix="model")
    opt_state = hsd.from_state_dict(opt_state_template, state, prefix="opt")
    return meta["step"], model, opt_state, meta["config"], meta["data_position"]


def wait_until_finished(run_dir: pathlib.Path) -> None:
    """Saves here are synchronous: nothing to wait for."""
    del run_dir
