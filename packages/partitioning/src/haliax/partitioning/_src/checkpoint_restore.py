"""Restoring a checkpoint: each state-dict key read straight into the layout its template asks for."""

from __future__ import annotations

import pathlib
from collections.abc import Mapping
from typing import Any, Generic, NamedTuple, TypeVar

import equinox as eqx
import jax
import jax.core  # jax.core.Tracer; the submodule is not re-exported by `import jax` for type checkers
import jax.numpy as jnp
from jax.sharding import Mesh, NamedSharding, PartitionSpec, SingleDeviceSharding

from haliax import NamedArray, is_named_array
from haliax.axis import Axis
from haliax.errors import MissingFileError, MissingKeyError, PartitioningError, StateDictError
from haliax.extend import format_shape, named_unchecked
from haliax.state_dict import from_state_dict, to_state_dict

from . import mapping as _mapping
from .checkpoint_dir import (
    ARRAYS_ITEM,
    FORMAT,
    FORMAT_VERSION,
    RECORD_ITEM,
    import_orbax,
    quoted,
    read_listing,
)
from .mapping import ResourceMapping
from .mesh import MeshLike, resolve_mesh
from .shard import infer_resource_partitions

T = TypeVar("T")


class Checkpoint(NamedTuple, Generic[T]):
    """What `restore_checkpoint` returns: the step, the restored tree and the saved metadata."""

    step: int
    tree: T
    metadata: dict[str, Any]


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
        f"(no readable {RECORD_ITEM!r} record"
    )
    if not (step_dir / RECORD_ITEM).is_dir():
        raise StateDictError(f"{foreign}); restore it with orbax-checkpoint directly")
    try:
        restored = ocp.Checkpointer(ocp.CompositeCheckpointHandler()).restore(
            step_dir, args=ocp.args.Composite(**{RECORD_ITEM: ocp.args.JsonRestore()})
        )
        record = restored[RECORD_ITEM]
    except Exception as e:  # any failure to read the record means the step is not ours or is damaged
        raise StateDictError(f"{foreign}: {type(e).__name__}: {str(e)[:200]}); restore another step") from e
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise StateDictError(f"{foreign}); restore it with orbax-checkpoint directly")
    if record.get("version") != FORMAT_VERSION:
        raise StateDictError(
            f"{op}: step {step} in {where!r} has checkpoint format version {record.get('version')!r}, "
            f"and this haliax reads version {FORMAT_VERSION}; restore it with the haliax that wrote it"
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
    hint = f" (keys with the same last part: {quoted(near)})" if near else ""
    return MissingKeyError(
        f"{op}: key {key!r} is missing from step {step} of {where!r}{hint}; the checkpoint holds another "
        f"tree: check the model config, or restore into a template of what was saved"
    )


def restore_step(
    op: str,
    directory: pathlib.Path,
    template: T,
    step: int | None,
    mesh: MeshLike | None,
    axis_mapping: ResourceMapping | None,
) -> Checkpoint[T]:
    ocp = import_orbax(op)
    where = str(directory)
    listing = read_listing(op, directory)
    if listing is None:
        raise MissingFileError(
            f"{op}: no checkpoint directory at {where!r}; check the path, or save a step there with "
            f"save_checkpoint first"
        )
    unfinished = (
        f" ({quoted(listing.incomplete)}: a save that is still running or was interrupted, never restored)"
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
                step_dir, args=ocp.args.Composite(**{ARRAYS_ITEM: args})
            )[ARRAYS_ITEM]
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
