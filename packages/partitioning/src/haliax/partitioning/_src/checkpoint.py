"""Training checkpoints on orbax-checkpoint: sharded, multi-process, asynchronous, resharded on load.

A checkpoint directory holds one subdirectory per step, in orbax's ``CheckpointManager`` layout::

    <directory>/<step>/arrays/    every array of the tree under its state-dict key (the dotted keys
                                  of ``haliax.state_dict.to_state_dict``); each process writes the
                                  shards it owns
    <directory>/<step>/haliax/    JSON: the format, each key's shape and dtype, the tree's Python
                                  numbers and the caller's metadata
    <directory>/<step>.orbax-checkpoint-tmp   a save in progress, or one that was interrupted

orbax writes a step under the temporary name and, once every process has written its part, puts
a ``commit_success.txt`` marker in it and renames it to its final name. A step counts as complete
only when its final directory holds that marker, so an interrupted save is never restored.

orbax is imported on first use: ``haliax.partitioning`` itself does not need it.
"""

from __future__ import annotations

import json
import os
import pathlib
import threading
from collections.abc import Mapping
from typing import Any, Generic, NamedTuple, TypeVar

import equinox as eqx
import jax
import jax.core  # jax.core.Tracer; the submodule is not re-exported by `import jax` for type checkers
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec, SingleDeviceSharding

from haliax import NamedArray, is_named_array
from haliax.axis import Axis
from haliax.errors import MissingFileError, MissingKeyError, PartitioningError, StateDictError
from haliax.extend import format_shape, named_unchecked
from haliax.state_dict import from_state_dict, to_state_dict

from . import mapping as _mapping
from .mapping import ResourceMapping
from .mesh import MeshLike, resolve_mesh
from .shard import infer_resource_partitions

T = TypeVar("T")

_FORMAT = "haliax.partitioning checkpoint"
_VERSION = 1
_ARRAYS = "arrays"  # orbax item: the arrays, by state-dict key
_RECORD = "haliax"  # orbax item: JSON record (keys, shapes, dtypes, numbers, metadata)
_COMMIT_MARKER = "commit_success.txt"
_TMP_MARK = ".orbax-checkpoint-tmp"
_SAFETENSORS_HINT = (
    "a .safetensors file is a weights export: read it with haliax.state_dict.load_state_dict and "
    "from_state_dict"
)


class Checkpoint(NamedTuple, Generic[T]):
    """What `restore_checkpoint` returns: the step, the restored tree and the saved metadata."""

    step: int
    tree: T
    metadata: dict[str, Any]


def _orbax(op: str) -> Any:
    try:
        import orbax.checkpoint as ocp
    except ModuleNotFoundError as e:
        raise ImportError(
            f"{op}: checkpoints need orbax-checkpoint, which is not installed; install it with "
            f"`pip install 'haliax-partitioning[checkpoint]'` (or `pip install haliax` for the full stack)",
            name="orbax.checkpoint",
        ) from e
    return ocp


# ----- the directory: complete steps, interrupted saves, foreign entries -----
class _Listing(NamedTuple):
    complete: list[int]
    incomplete: list[str]
    foreign: list[str]


def _list(directory: pathlib.Path) -> _Listing:
    complete: list[int] = []
    incomplete: list[str] = []
    foreign: list[str] = []
    for entry in sorted(os.scandir(directory), key=lambda e: e.name):
        name = entry.name
        if name.isdigit() and entry.is_dir():
            if os.path.exists(os.path.join(entry.path, _COMMIT_MARKER)):
                complete.append(int(name))
            else:
                incomplete.append(name)
        elif _TMP_MARK in name:
            incomplete.append(name)
        elif not name.startswith((".", "_")):  # orbax's own root files and hidden files are not foreign
            foreign.append(name)
    return _Listing(sorted(complete), incomplete, foreign)


def _quoted(names: list[str], limit: int = 4) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _not_a_directory(op: str, where: str) -> StateDictError:
    hint = (
        _SAFETENSORS_HINT
        if where.endswith(".safetensors")
        else "pass the directory that save_checkpoint wrote"
    )
    return StateDictError(f"{op}: {where!r} is a file, not a checkpoint directory; {hint}")


def _foreign(op: str, where: str, listing: _Listing) -> StateDictError:
    hint = (
        _SAFETENSORS_HINT
        if any(n.endswith(".safetensors") for n in listing.foreign)
        else "pass the directory that save_checkpoint wrote (it holds one numbered directory per step)"
    )
    return StateDictError(
        f"{op}: {where!r} is not a checkpoint directory: it holds {_quoted(listing.foreign)} and no "
        f"complete step; {hint}"
    )


def _complete_steps(op: str, directory: pathlib.Path) -> _Listing | None:
    """The listing of ``directory`` (None if it does not exist); raises for a file or a foreign directory."""
    where = str(directory)
    if not directory.exists():
        return None
    if not directory.is_dir():
        raise _not_a_directory(op, where)
    listing = _list(directory)
    if not listing.complete and listing.foreign:
        raise _foreign(op, where, listing)
    return listing


def checkpoint_steps(directory: str | os.PathLike[str]) -> list[int]:
    """The complete steps saved in ``directory``, in increasing order (none if it does not exist).

    Steps whose save is still running or was interrupted are not complete and never count.

    Raises:
        StateDictError: ``directory`` is a file, or holds other files and no checkpoint step
            (a safetensors export, another tool's output).
    """
    listing = _complete_steps("checkpoint_steps", pathlib.Path(directory).absolute())
    return [] if listing is None else listing.complete


def latest_checkpoint_step(directory: str | os.PathLike[str]) -> int | None:
    """The last complete step saved in ``directory``; None if it does not exist or holds none yet.

    Steps whose save is still running or was interrupted are not complete and never count.

    Raises:
        StateDictError: ``directory`` is a file, or holds other files and no checkpoint step
            (a safetensors export, another tool's output).
    """
    listing = _complete_steps("latest_checkpoint_step", pathlib.Path(directory).absolute())
    return listing.complete[-1] if listing and listing.complete else None


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
        "format": _FORMAT,
        "version": _VERSION,
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
        ocp = _orbax("CheckpointManager")
        from orbax.checkpoint import checkpoint_managers

        self.directory = pathlib.Path(directory).absolute()
        if self.directory.exists() and not self.directory.is_dir():
            raise _not_a_directory("CheckpointManager", str(self.directory))
        options = ocp.CheckpointManagerOptions(
            save_interval_steps=save_interval_steps,
            preservation_policy=None if max_to_keep is None else checkpoint_managers.LatestN(max_to_keep),
            create=True,
            cleanup_tmp_directories=True,
            enable_async_checkpointing=async_,
        )
        self._ocp = ocp
        self._manager = ocp.CheckpointManager(self.directory, options=options, item_names=(_ARRAYS, _RECORD))

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
        items = {_RECORD: self._ocp.args.JsonSave(record)}
        if arrays:
            items[_ARRAYS] = self._ocp.args.PyTreeSave(arrays)
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
        return _restore("CheckpointManager.restore", self.directory, template, step, mesh, axis_mapping)

    def latest_step(self) -> int | None:
        """The last complete step (saves still running are not complete)."""
        steps = self.all_steps()
        return steps[-1] if steps else None

    def all_steps(self) -> list[int]:
        """Every complete step, in increasing order."""
        return _list(self.directory).complete if self.directory.is_dir() else []

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


# ----- restoring -----
class _Slot:
    """An array's stand-in while finding the layout of each state-dict key: shape, dtype, sharding, axes.

    A layer stack writes one key per layer by indexing its leading axis; indexing a slot drops
    that axis from the shape, the partition spec and the axes, so a per-layer key gets its slice's layout.
    """

    __slots__ = ("axes", "dtype", "shape", "sharding")

    def __init__(self, shape: tuple[int, ...], dtype: Any, sharding: Any, axes: tuple[Axis, ...] | None):
        self.shape = shape
        self.dtype = dtype
        self.sharding = sharding
        self.axes = axes

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __getitem__(self, index: Any) -> _Slot:
        if not isinstance(index, int) or not self.shape:
            raise TypeError("only a leading integer index is supported")
        sharding = self.sharding
        if isinstance(sharding, NamedSharding):
            sharding = NamedSharding(sharding.mesh, PartitionSpec(*tuple(sharding.spec)[1:]))
        elif not isinstance(sharding, SingleDeviceSharding):
            raise TypeError(f"cannot slice a {type(sharding).__name__}")
        return _Slot(self.shape[1:], self.dtype, sharding, None if self.axes is None else self.axes[1:])


def _own_sharding(array: Any) -> Any:
    if isinstance(array, jax.core.Tracer):
        return None
    sharding = getattr(array, "sharding", None)
    return sharding if isinstance(sharding, jax.sharding.Sharding) else None


def _layout(mapped: Any, array: Any, mesh: Mesh | None) -> jax.sharding.Sharding:
    """Where a restored leaf goes: the mapping's sharding, else the template's own, else replicated."""
    if isinstance(mapped, NamedSharding):
        return mapped
    own = _own_sharding(array)
    if mesh is not None:
        if isinstance(own, NamedSharding) and own.mesh == mesh:
            return own
        return NamedSharding(mesh, PartitionSpec())
    if own is not None:
        return own
    return SingleDeviceSharding(jax.local_devices()[0])


def _array_like(x: Any) -> bool:
    return hasattr(x, "shape") and hasattr(x, "dtype")


def _targets(
    op: str, template: Any, mesh: MeshLike | None, mapping: ResourceMapping | None
) -> tuple[Any, Any]:
    """The template with each array as a `_Slot` (to find per-key layouts) and as a ShapeDtypeStruct."""
    if mesh is not None and not isinstance(mesh, Mesh):
        raise PartitioningError(
            f"{op}: only an abstract mesh is active, which cannot hold restored arrays; restore outside "
            f"jit, with a concrete mesh entered by `with hax.set_mesh(mesh):` or passed as mesh="
        )
    leaves, treedef = jax.tree.flatten(template, is_leaf=is_named_array)
    mapped: list[Any] = [None] * len(leaves)
    if mesh is not None and mapping is not None:
        partitions = infer_resource_partitions(
            template, mapping, preserve_existing_shardings=False, mesh=mesh
        )
        mapped = treedef.flatten_up_to(partitions)
    slots, shapes = [], []
    for leaf, sharding in zip(leaves, mapped, strict=True):
        named = isinstance(leaf, NamedArray)
        array = leaf.array if named else leaf
        if not _array_like(array):
            slots.append(leaf)
            shapes.append(leaf)
            continue
        layout = _layout(sharding, array, mesh)
        shape, dtype = tuple(array.shape), array.dtype
        slot = _Slot(shape, dtype, layout, tuple(leaf.axes) if named else None)
        struct = jax.ShapeDtypeStruct(shape, dtype, sharding=layout)
        slots.append(named_unchecked(slot, leaf.axes) if named else slot)
        shapes.append(named_unchecked(struct, leaf.axes) if named else struct)
    return treedef.unflatten(slots), treedef.unflatten(shapes)


def _wanted(slot_tree: Any, struct_tree: Any, mesh: Mesh | None) -> dict[str, Any]:
    """``{key: _Slot or number}`` for every entry the template reads."""
    try:
        return to_state_dict(slot_tree)
    except (TypeError, AttributeError, IndexError):
        # A module whose to_state_dict does more than index its arrays: take the keys and shapes
        # from an abstract evaluation, and restore those keys replicated (from_state_dict then lays
        # the result out as the template asks).
        arrays, rest = eqx.partition(struct_tree, lambda x: isinstance(x, jax.ShapeDtypeStruct))
        flat = jax.eval_shape(lambda a: to_state_dict(eqx.combine(a, rest)), arrays)
        replicated = (
            SingleDeviceSharding(jax.local_devices()[0])
            if mesh is None
            else NamedSharding(mesh, PartitionSpec())
        )
        return {
            k: _Slot(tuple(v.shape), v.dtype, replicated, None) if isinstance(v, jax.ShapeDtypeStruct) else v
            for k, v in flat.items()
        }


def _read_record(op: str, ocp: Any, step_dir: pathlib.Path, where: str, step: int) -> dict[str, Any]:
    foreign = (
        f"{op}: step {step} in {where!r} was not written by haliax.partitioning.save_checkpoint "
        f"(no readable {_RECORD!r} record"
    )
    if not (step_dir / _RECORD).is_dir():
        raise StateDictError(f"{foreign}); restore it with orbax-checkpoint directly")
    try:
        restored = ocp.Checkpointer(ocp.CompositeCheckpointHandler()).restore(
            step_dir, args=ocp.args.Composite(**{_RECORD: ocp.args.JsonRestore()})
        )
        record = restored[_RECORD]
    except Exception as e:  # any failure to read the record means the step is not ours or is damaged
        raise StateDictError(f"{foreign}: {type(e).__name__}: {str(e)[:200]}); restore another step") from e
    if not isinstance(record, dict) or record.get("format") != _FORMAT:
        raise StateDictError(f"{foreign}); restore it with orbax-checkpoint directly")
    if record.get("version") != _VERSION:
        raise StateDictError(
            f"{op}: step {step} in {where!r} has checkpoint format version {record.get('version')!r}, "
            f"and this haliax reads version {_VERSION}; restore it with the haliax that wrote it"
        )
    return record


def _dtype_kind(dtype: Any) -> str:
    return "f" if jnp.issubdtype(jnp.dtype(dtype), jnp.inexact) else "i"


def _check_entry(op: str, key: str, slot: _Slot, saved: Mapping[str, Any], where: str, step: int) -> None:
    shape = tuple(saved["shape"])
    named = "" if slot.axes is None else f" {format_shape(slot.axes)}"
    if shape != slot.shape:
        raise StateDictError(
            f"{op}: key {key!r} has shape {shape} in step {step} of {where!r} but the template expects "
            f"{slot.shape}{named}; check that the model config matches the checkpoint"
        )
    if _dtype_kind(saved["dtype"]) != _dtype_kind(slot.dtype):
        raise StateDictError(
            f"{op}: key {key!r} has dtype {saved['dtype']} in step {step} of {where!r} but the template "
            f"has {jnp.dtype(slot.dtype).name}{named}; integers do not restore into floating-point "
            f"arrays or back: check that the template is the tree that was saved"
        )


def _missing(op: str, key: str, record: Mapping[str, Any], where: str, step: int) -> MissingKeyError:
    saved = [*record["arrays"], *record["numbers"]]
    near = [k for k in saved if k.rsplit(".", 1)[-1] == key.rsplit(".", 1)[-1]][:3]
    hint = f" (keys with the same last part: {_quoted(near)})" if near else ""
    return MissingKeyError(
        f"{op}: key {key!r} is missing from step {step} of {where!r}{hint}; the checkpoint holds another "
        f"tree: check the model config, or restore into a template of what was saved"
    )


def _restore(
    op: str,
    directory: pathlib.Path,
    template: T,
    step: int | None,
    mesh: MeshLike | None,
    axis_mapping: ResourceMapping | None,
) -> Checkpoint[T]:
    ocp = _orbax(op)
    where = str(directory)
    listing = _complete_steps(op, directory)
    if listing is None:
        raise MissingFileError(
            f"{op}: no checkpoint directory at {where!r}; check the path, or save a step there with "
            f"save_checkpoint first"
        )
    unfinished = (
        f" ({_quoted(listing.incomplete)}: a save that is still running or was interrupted, never restored)"
        if listing.incomplete
        else ""
    )
    if step is None:
        if not listing.complete:
            raise MissingFileError(
                f"{op}: {where!r} holds no complete checkpoint{unfinished}; wait for running saves "
                f"(wait_for_checkpoints) or start from scratch"
            )
        step = listing.complete[-1]
    elif step not in listing.complete:
        have = ", ".join(map(str, listing.complete)) or "none"
        raise MissingFileError(
            f"{op}: step {step} is not a complete checkpoint in {where!r} (complete steps: {have}){unfinished}; "
            f"pass one of the complete steps, or step=None for the latest"
        )
    step_dir = directory / str(step)
    record = _read_record(op, ocp, step_dir, where, step)

    found_mesh = resolve_mesh(op, mesh)
    mapping = _mapping.current_thread_local_mapping() if axis_mapping is None else axis_mapping
    slot_tree, struct_tree = _targets(op, template, found_mesh, mapping)
    concrete_mesh = found_mesh if isinstance(found_mesh, Mesh) else None
    targets: dict[str, jax.ShapeDtypeStruct] = {}
    values: dict[str, Any] = {}
    for key, slot in _wanted(slot_tree, struct_tree, concrete_mesh).items():
        if isinstance(slot, _Slot):
            saved = record["arrays"].get(key)
            if saved is None:
                raise _missing(op, key, record, where, step)
            _check_entry(op, key, slot, saved, where, step)
            targets[key] = jax.ShapeDtypeStruct(slot.shape, jnp.dtype(saved["dtype"]), sharding=slot.sharding)
        elif key in record["numbers"]:
            values[key] = record["numbers"][key]
        elif key not in record["arrays"]:
            raise _missing(op, key, record, where, step)
        else:  # a number in the template, an array in the checkpoint: read it whole onto one device
            saved = record["arrays"][key]
            one = SingleDeviceSharding(jax.local_devices()[0])
            targets[key] = jax.ShapeDtypeStruct(
                tuple(saved["shape"]), jnp.dtype(saved["dtype"]), sharding=one
            )
    if targets:
        try:
            args = ocp.args.PyTreeRestore(
                targets,
                restore_args=ocp.checkpoint_utils.construct_restore_args(targets),
                partial_restore=True,
            )
            restored = ocp.Checkpointer(ocp.CompositeCheckpointHandler()).restore(
                step_dir, args=ocp.args.Composite(**{_ARRAYS: args})
            )[_ARRAYS]
        except Exception as e:  # orbax/tensorstore raise many kinds; all mean the files are unreadable
            others = [s for s in listing.complete if s != step]
            earlier = f" (other complete steps: {', '.join(map(str, others))})" if others else ""
            raise StateDictError(
                f"{op}: could not read the arrays of step {step} in {where!r} ({type(e).__name__}: "
                f"{str(e)[:300]}); its files are damaged or incomplete: restore another step with step={earlier}"
            ) from e
        values.update(restored)
    tree = from_state_dict(struct_tree, values)
    return Checkpoint(step, tree, dict(record.get("metadata") or {}))


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
    return _restore("restore_checkpoint", directory, template, step, mesh, axis_mapping)
