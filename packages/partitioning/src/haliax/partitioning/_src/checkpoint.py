"""Training checkpoints on orbax-checkpoint: sharded, multi-process, asynchronous, resharded on load.

Saving and the public entry points; `checkpoint_dir` knows the directory layout and which steps
are complete, `checkpoint_restore` reads a step into a template. orbax is imported on first use:
``haliax.partitioning`` itself does not need it.
"""

from __future__ import annotations

import json
import os
import pathlib
import threading
from collections.abc import Mapping
from typing import Any, TypeVar

import jax
import jax.core  # jax.core.Tracer; the submodule is not re-exported by `import jax` for type checkers
import jax.numpy as jnp
import numpy as np

from haliax.errors import StateDictError
from haliax.state_dict import to_state_dict

from .checkpoint_dir import (
    ARRAYS_ITEM,
    FORMAT,
    FORMAT_VERSION,
    RECORD_ITEM,
    import_orbax,
    list_steps,
    not_a_directory,
)
from .checkpoint_restore import Checkpoint, restore_step
from .mapping import ResourceMapping
from .mesh import MeshLike

T = TypeVar("T")


# ----- saving -----
def _is_number(x: Any) -> bool:
    return isinstance(x, (bool, int, float)) and not isinstance(x, np.generic)


def _prepare(op: str, tree: Any, metadata: Mapping[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The arrays to write by key, and the JSON record of keys, shapes, dtypes, numbers and metadata."""
    arrays: dict[str, Any] = {}
    shapes: dict[str, Any] = {}
    numbers: dict[str, Any] = {}
    for key, value in to_state_dict(tree).items():
        if isinstance(value, jax.core.Tracer):
            raise StateDictError(
                f"{op}: key {key!r} holds a traced value; save checkpoints outside jit, from the "
                f"concrete arrays a step returns"
            )
        if _is_number(value):
            numbers[key] = value
        elif isinstance(value, jax.ShapeDtypeStruct):
            raise StateDictError(
                f"{op}: key {key!r} holds a ShapeDtypeStruct, which has no values to save; pass "
                f"concrete arrays (a template is only for restore_checkpoint)"
            )
        elif isinstance(value, (jax.Array, np.ndarray, np.generic)):
            array = value
            if not isinstance(value, jax.Array) or (jax.process_count() > 1 and value.is_fully_addressable):
                # numpy values, and jax arrays that live on this process only, are taken to be the
                # same on every process: orbax writes them once, from the primary process
                array = np.asarray(value)
            arrays[key] = array
            shapes[key] = {"shape": list(array.shape), "dtype": jnp.dtype(array.dtype).name}
        else:
            raise StateDictError(
                f"{op}: key {key!r} holds a {type(value).__name__}, which a checkpoint cannot store; "
                f"only arrays, bools, ints and floats are saved (pass other values in metadata=)"
            )
    record = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "arrays": shapes,
        "numbers": numbers,
        "metadata": dict(metadata or {}),
    }
    try:
        json.dumps(record, allow_nan=True)
    except (TypeError, ValueError) as e:
        raise StateDictError(
            f"{op}: metadata cannot be written as JSON ({e}); pass numbers, strings, lists and dicts only"
        ) from None
    return arrays, record


class CheckpointManager:
    """Periodic, asynchronous training checkpoints in one directory, one subdirectory per step.

    Every process of a multi-process run creates the manager and calls `save` with the same step
    (it is a collective): each process writes the shards of the arrays it owns. `save` returns
    while the arrays are written in the background; call `wait_until_finished` before exiting or
    before relying on the step being on disk. A save that never finishes (a crash, a killed job)
    leaves a temporary directory that is never restored and is removed the next time a manager
    opens the directory.

    Args:
        directory: where the steps go (created if missing); the same path on every process.
        save_interval_steps: `save` writes only steps that are a multiple of this (unless forced).
        max_to_keep: keep only the latest this many steps (None: keep all).
        async_: write in the background (the default); False makes each `save` wait for its write.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        save_interval_steps: int = 1,
        max_to_keep: int | None = None,
        async_: bool = True,
    ) -> None:
        ocp = import_orbax("CheckpointManager")
        from orbax.checkpoint import checkpoint_managers

        self.directory = pathlib.Path(directory).absolute()
        if self.directory.exists() and not self.directory.is_dir():
            raise not_a_directory("CheckpointManager", str(self.directory))
        options = ocp.CheckpointManagerOptions(
            save_interval_steps=save_interval_steps,
            preservation_policy=None if max_to_keep is None else checkpoint_managers.LatestN(max_to_keep),
            create=True,
            cleanup_tmp_directories=True,
            enable_async_checkpointing=async_,
        )
        self._ocp = ocp
        self._manager = ocp.CheckpointManager(
            self.directory, options=options, item_names=(ARRAYS_ITEM, RECORD_ITEM)
        )

    def save(
        self, step: int, tree: Any, *, metadata: Mapping[str, Any] | None = None, force: bool = False
    ) -> bool:
        """Start saving ``tree`` (and JSON ``metadata``) as ``step``; returns whether a save started.

        The arrays are laid out by the state-dict keys of ``tree`` (`haliax.state_dict.to_state_dict`);
        its Python numbers and ``metadata`` (a JSON-able dict: data position, config, ...) go to
        the JSON record. Without ``force``, steps off the save interval are skipped.

        Raises:
            StateDictError: ``step`` is already saved here, a leaf cannot be stored (a string, a
                traced value), or ``metadata`` is not JSON.
        """
        return self._save("CheckpointManager.save", step, tree, metadata, force)

    def _save(self, op: str, step: int, tree: Any, metadata: Mapping[str, Any] | None, force: bool) -> bool:
        if not force and not self._manager.should_save(step):
            return False  # off the interval: nothing to flatten or check
        arrays, record = _prepare(op, tree, metadata)
        if step in self.all_steps() or step in self._manager.all_steps():
            raise StateDictError(
                f"{op}: step {step} is already saved in {str(self.directory)!r}; save under a new step, "
                f"or delete that step's directory first"
            )
        items = {RECORD_ITEM: self._ocp.args.JsonSave(record)}
        if arrays:
            items[ARRAYS_ITEM] = self._ocp.args.PyTreeSave(arrays)
        return bool(self._manager.save(step, args=self._ocp.args.Composite(**items), force=force))

    def restore(
        self,
        template: T,
        *,
        step: int | None = None,
        mesh: MeshLike | None = None,
        axis_mapping: ResourceMapping | None = None,
    ) -> Checkpoint[T]:
        """`restore_checkpoint` from this manager's directory, after its own saves have finished."""
        self.wait_until_finished()
        return restore_step("CheckpointManager.restore", self.directory, template, step, mesh, axis_mapping)

    def latest_step(self) -> int | None:
        """The last complete step (saves still running are not complete)."""
        steps = self.all_steps()
        return steps[-1] if steps else None

    def all_steps(self) -> list[int]:
        """Every complete step, in increasing order."""
        return list_steps(self.directory).complete if self.directory.is_dir() else []

    def wait_until_finished(self) -> None:
        """Block until the saves started so far are written and complete."""
        self._manager.wait_until_finished()

    def close(self) -> None:
        """Wait for running saves and release the manager's background threads."""
        self._manager.close()

    def __enter__(self) -> CheckpointManager:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# One manager per directory for the functional API, so `wait_for_checkpoints` can find the saves.
_MANAGERS: dict[pathlib.Path, CheckpointManager] = {}
_MANAGERS_LOCK = threading.Lock()


def _manager_for(directory: pathlib.Path) -> CheckpointManager:
    with _MANAGERS_LOCK:
        manager = _MANAGERS.get(directory)
        if manager is None:
            manager = _MANAGERS[directory] = CheckpointManager(directory)
        return manager


def save_checkpoint(
    directory: str | os.PathLike[str],
    step: int,
    tree: Any,
    *,
    metadata: Mapping[str, Any] | None = None,
    async_: bool = True,
) -> None:
    """Save ``tree`` as ``step`` under ``directory`` with orbax: every process writes its own shards.

    Arrays are stored under the dotted keys of `haliax.state_dict.to_state_dict` (the same
    layout as a safetensors export); Python numbers in the tree and ``metadata`` (a JSON-able
    dict, e.g. the data position and the config) go to a JSON record. Every process must call
    this with the same arguments; an array that lives on one process only (not a global
    ``jax.Array``) is taken to be the same on every process and written once. With ``async_`` (the default) it returns once the arrays are
    copied off the devices and writes them in the background; `wait_for_checkpoints` waits.
    Until a step's save has finished on every process it is not complete, and a save that is
    interrupted is never restored.

    Raises:
        StateDictError: ``step`` is already saved, a leaf cannot be stored, or ``metadata`` is
            not JSON.
    """
    manager = _manager_for(pathlib.Path(directory).absolute())
    manager._save("save_checkpoint", step, tree, metadata, force=True)
    if not async_:
        manager.wait_until_finished()


def wait_for_checkpoints(directory: str | os.PathLike[str] | None = None) -> None:
    """Block until the `save_checkpoint` calls so far (into ``directory``, or anywhere) are complete."""
    with _MANAGERS_LOCK:
        if directory is None:
            managers = list(_MANAGERS.values())
        else:
            found = _MANAGERS.get(pathlib.Path(directory).absolute())
            managers = [] if found is None else [found]
    for manager in managers:
        manager.wait_until_finished()


def restore_checkpoint(
    directory: str | os.PathLike[str],
    template: T,
    *,
    step: int | None = None,
    mesh: MeshLike | None = None,
    axis_mapping: ResourceMapping | None = None,
) -> Checkpoint[T]:
    """Restore a step saved by `save_checkpoint` into the structure of ``template``.

    ``template`` gives the tree structure, the keys and the NamedArrays' axes (its values are not
    read: ``eqx.filter_eval_shape`` output works). Each array is read directly into its target
    layout, so a checkpoint written on one mesh or process count restores onto another:

    - with a mesh (``mesh=`` or the active one) and an axis mapping (``axis_mapping=`` or the
      active one), NamedArrays are sharded by the mapping and other arrays replicated;
    - with a mesh and no mapping, arrays keep the template's sharding where it is on that mesh,
      and are replicated otherwise;
    - with no mesh, arrays keep the template's sharding, or go to the first local device.

    Every process must call this. ``step=None`` restores the latest complete step; a save that
    is running or was interrupted is never restored.

    Returns:
        A `Checkpoint`: ``(step, tree, metadata)``, the metadata as passed to `save_checkpoint`.

    Raises:
        MissingFileError: ``directory`` does not exist, holds no complete step, or not ``step``.
        MissingKeyError: the template reads a key that the checkpoint does not have.
        StateDictError: a shape (or integer/float kind) differs from the template, the directory
            is not a checkpoint (a file, a safetensors export, another tool's checkpoint), or the
            step's files are damaged.
    """
    directory = pathlib.Path(directory).absolute()
    with _MANAGERS_LOCK:
        pending = _MANAGERS.get(directory)
    if pending is not None:
        pending.wait_until_finished()
    return restore_step("restore_checkpoint", directory, template, step, mesh, axis_mapping)
