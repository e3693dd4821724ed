"""Training checkpoints: saved by two processes, restored on another mesh; async; interrupted; clear errors.

Run as a script (``python test_checkpoint.py COORDINATOR PROCESS_ID DIRECTORY``), this file is
one of the two saving processes of the multi-process test.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import sys
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import Mesh, NamedSharding, PartitionSpec

import haliax as hax
import haliax.nn as hnn
import haliax.partitioning as hp
import haliax.testing as ht
from haliax.errors import MissingFileError, MissingKeyError, StateDictError
from haliax.state_dict import ModuleWithStateDictSerialization, save_state_dict, to_state_dict

Vocab = hax.Axis("vocab", 8)
Embed = hax.Axis("embed", 8)
Mlp = hax.Axis("mlp", 16)
Layers = hax.Axis("layers", 2)
SAVE_MAPPING = {"embed": "data", "mlp": "model", "vocab": "model"}


def _tree() -> dict[str, Any]:
    """A small training state: a bfloat16 embedding, a layer stack, an optimizer-like tuple, a number.

    Built from host numpy values (no compilation), the same in every process.
    """
    rng = np.random.default_rng(0)

    def normal(*axes: hax.Axis, dtype: Any = np.float32) -> hax.NamedArray:
        return hax.named(rng.standard_normal(tuple(a.size for a in axes)).astype(dtype), axes)

    def model() -> dict[str, Any]:
        linear = hnn.Linear(normal(Layers, Mlp, Embed), normal(Layers, Mlp), In=Embed, Out=Mlp)
        return {"embed": normal(Vocab, Embed, dtype=jnp.bfloat16), "blocks": hnn.Stacked(linear, Layers)}

    return {"model": model(), "opt": (jnp.asarray(3, jnp.int32), model()), "lr_scale": 0.25}


def _template() -> dict[str, Any]:
    return eqx.filter_eval_shape(_tree)


def _assert_bit_exact(restored: Any, expected: Any) -> None:
    got, want = to_state_dict(restored), to_state_dict(expected)
    assert sorted(got) == sorted(want)
    for key, value in want.items():
        if isinstance(value, float):
            assert got[key] == value and type(got[key]) is float, key
            continue
        a, b = np.asarray(got[key]), np.asarray(value)
        assert a.dtype == b.dtype and a.shape == b.shape, key
        assert a.tobytes() == b.tobytes(), key


def _spec(named: hax.NamedArray) -> PartitionSpec:
    sharding = named.array.sharding
    assert isinstance(sharding, NamedSharding)
    return sharding.spec


# ----- two processes save, one restores on another mesh -----
def _save_from_child(coordinator: str, process_id: int, directory: str) -> None:
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(coordinator, num_processes=2, process_id=process_id)
    assert jax.device_count() == 8 and jax.local_device_count() == 4
    mesh = Mesh(np.array(jax.devices()).reshape(4, 2), ("data", "model"))
    tree = _tree()  # on this process's first device; the optimizer's count stays there (written once)
    with hp.set_mesh(mesh), hp.axis_mapping(SAVE_MAPPING):
        tree = hp.shard(tree)
    assert not tree["model"]["embed"].array.is_fully_addressable and tree["opt"][0].is_fully_addressable
    hp.save_checkpoint(directory, 5, tree, metadata={"data_position": 40, "config": {"layers": 2}})
    hp.wait_for_checkpoints()
    print("SAVED", flush=True)
    jax.distributed.shutdown()


def test_two_processes_save_and_one_process_restores_bit_exact_on_another_mesh(
    tmp_path: pathlib.Path,
) -> None:
    directory = tmp_path / "ckpt"
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu")
    with ht.local_processes(
        lambda pid, coordinator: [sys.executable, __file__, coordinator, str(pid), str(directory)], env=env
    ) as run:
        pass
    assert all("SAVED" in out for out in run.outputs), run.outputs[0][-3000:]
    # Each process wrote the shards it owned.
    assert {p.name for p in (directory / "5" / "arrays").glob("ocdbt.process_*")} == {
        "ocdbt.process_0",
        "ocdbt.process_1",
    }

    # One process, a 2x2 mesh instead of 4x2, and another mapping: every array is resharded on load.
    mesh = Mesh(np.array(jax.devices()[:4]).reshape(2, 2), ("data", "model"))
    with hp.set_mesh(mesh), hp.axis_mapping({"embed": "model", "mlp": "data"}):
        ck = hp.restore_checkpoint(directory, _template())
    assert ck.step == 5
    assert ck.metadata == {"data_position": 40, "config": {"layers": 2}}
    _assert_bit_exact(ck.tree, _tree())
    assert _spec(ck.tree["model"]["embed"]) == PartitionSpec(None, "model")
    weight = ck.tree["model"]["blocks"].stacked.weight
    assert _spec(weight) == PartitionSpec(
        *(("data" if a.name == "mlp" else "model" if a.name == "embed" else None) for a in weight.axes)
    )
    assert ck.tree["opt"][0].sharding.mesh == mesh


# ----- one process -----
def test_async_save_returns_and_survives_the_arrays_being_deleted(tmp_path: pathlib.Path) -> None:
    tree = _tree()
    hp.save_checkpoint(tmp_path, 1, tree, metadata={"data_position": 3})
    # A training step that donates its inputs frees them while the save may still be writing.
    for leaf in jax.tree.leaves(tree):
        if isinstance(leaf, jax.Array):
            leaf.delete()
    hp.wait_for_checkpoints(tmp_path)
    assert hp.checkpoint_steps(tmp_path) == [1] and hp.latest_checkpoint_step(tmp_path) == 1
    ck = hp.restore_checkpoint(tmp_path, _template())
    _assert_bit_exact(ck.tree, _tree())
    assert ck.metadata == {"data_position": 3}


def test_restore_without_a_mesh_follows_the_template_and_shares_the_state_dict_keys(
    tmp_path: pathlib.Path,
) -> None:
    hp.save_checkpoint(tmp_path, 2, _tree(), async_=False)
    keys = hp.restore_checkpoint(tmp_path, _template()).tree
    assert sorted(to_state_dict(keys)) == sorted(to_state_dict(_tree()))
    assert "model.blocks.0.weight" in to_state_dict(_tree())  # the per-layer layout of a safetensors export
    # Restoring only the model from a checkpoint of the whole state reads just its keys.
    model = hp.restore_checkpoint(tmp_path, {"model": _template()["model"]}).tree["model"]
    _assert_bit_exact(model, _tree()["model"])
    assert model["embed"].array.sharding.device_set == {jax.devices()[0]}


def test_manager_keeps_the_latest_steps_on_its_interval(tmp_path: pathlib.Path) -> None:
    small = {"w": hax.arange(Embed)}
    with hp.CheckpointManager(tmp_path, save_interval_steps=2, max_to_keep=2) as manager:
        saved = [manager.save(step, small, metadata={"step": step}) for step in range(1, 8)]
        manager.wait_until_finished()
        assert saved == [True, True, False, True, False, True, False]  # the first step is always saved
        assert manager.all_steps() == [4, 6] and manager.latest_step() == 6
        ck = manager.restore({"w": hax.zeros(Embed, dtype=jnp.int32)})
    assert ck.step == 6 and ck.metadata == {"step": 6}
    assert (ck.tree["w"] == hax.arange(Embed)).all()


def test_an_interrupted_save_is_never_restored(tmp_path: pathlib.Path) -> None:
    hp.save_checkpoint(tmp_path, 1, _tree(), async_=False)
    # A save killed before orbax finalized it: its temporary directory is left behind; and a step
    # directory without its commit marker (a copy cut short, a filesystem without atomic renames).
    shutil.copytree(tmp_path / "1", tmp_path / "2.orbax-checkpoint-tmp")
    shutil.copytree(tmp_path / "1", tmp_path / "3")
    (tmp_path / "3" / "commit_success.txt").unlink()
    assert hp.checkpoint_steps(tmp_path) == [1] and hp.latest_checkpoint_step(tmp_path) == 1
    assert hp.restore_checkpoint(tmp_path, _template()).step == 1
    with pytest.raises(MissingFileError) as info:
        hp.restore_checkpoint(tmp_path, _template(), step=3)
    assert str(info.value) == (
        f"restore_checkpoint: step 3 is not a complete checkpoint in {str(tmp_path)!r} (complete steps: 1) "
        "('2.orbax-checkpoint-tmp', '3': a save that is still running or was interrupted, never restored); "
        "pass one of the complete steps, or step=None for the latest"
    )
    # Saving into the directory again clears the interrupted save's temporary directory.
    with hp.CheckpointManager(tmp_path) as manager:
        manager.save(4, {"w": jnp.zeros(2)})
    assert not (tmp_path / "2.orbax-checkpoint-tmp").exists() and hp.checkpoint_steps(tmp_path) == [1, 4]


def test_a_directory_with_only_an_interrupted_save_has_no_checkpoint(tmp_path: pathlib.Path) -> None:
    (tmp_path / "7.orbax-checkpoint-tmp" / "arrays").mkdir(parents=True)
    assert hp.latest_checkpoint_step(tmp_path) is None
    with pytest.raises(MissingFileError, match=r"holds no complete checkpoint \('7.orbax-checkpoint-tmp'"):
        hp.restore_checkpoint(tmp_path, _template())


# ----- errors -----
def test_missing_directory(tmp_path: pathlib.Path) -> None:
    where = tmp_path / "nowhere"
    assert hp.latest_checkpoint_step(where) is None and hp.checkpoint_steps(where) == []
    with pytest.raises(MissingFileError) as info:
        hp.restore_checkpoint(where, _template())
    assert isinstance(info.value, FileNotFoundError)
    assert str(info.value) == (
        f"restore_checkpoint: no checkpoint directory at {str(where)!r}; check the path, or save a step "
        "there with save_checkpoint first"
    )


def test_a_safetensors_export_is_not_a_checkpoint(tmp_path: pathlib.Path) -> None:
    save_state_dict(to_state_dict(_tree()["model"]), tmp_path / "model.safetensors")
    (tmp_path / "notes.txt").write_text("hello")
    for call in (
        lambda: hp.restore_checkpoint(tmp_path, _template()),
        lambda: hp.latest_checkpoint_step(tmp_path),
    ):
        with pytest.raises(
            StateDictError,
            match=r"is not a checkpoint directory: it holds 'model.safetensors', "
            r"'notes.txt' and no complete step; a .safetensors file is a weights export: read it "
            r"with haliax.state_dict.load_state_dict",
        ):
            call()
    with pytest.raises(StateDictError, match=r"model.safetensors' is a file, not a checkpoint directory"):
        hp.restore_checkpoint(tmp_path / "model.safetensors", _template())


def test_template_keys_and_shapes_are_checked_against_the_checkpoint(tmp_path: pathlib.Path) -> None:
    hp.save_checkpoint(tmp_path, 4, _tree(), async_=False)
    extra = {**_template(), "head": hax.zeros((Embed, Vocab))}
    with pytest.raises(
        MissingKeyError,
        match=r"restore_checkpoint: key 'head' is missing from step 4 of .*; the "
        r"checkpoint holds another tree",
    ):
        hp.restore_checkpoint(tmp_path, extra)
    wider = {**_template(), "model": {**_template()["model"], "embed": hax.zeros((Vocab, Embed.resize(4)))}}
    with pytest.raises(StateDictError) as info:
        hp.restore_checkpoint(tmp_path, wider)
    assert str(info.value) == (
        f"restore_checkpoint: key 'model.embed' has shape (8, 8) in step 4 of {str(tmp_path)!r} but the template "
        "expects (8, 4) {vocab: 8, embed: 4}; check that the model config matches the checkpoint"
    )
    ints = {
        **_template(),
        "model": {**_template()["model"], "embed": hax.zeros((Vocab, Embed), dtype=jnp.int32)},
    }
    with pytest.raises(StateDictError, match=r"key 'model.embed' has dtype bfloat16 .* template has int32"):
        hp.restore_checkpoint(tmp_path, ints)


# After a failed read, tensorstore's reader may still post callbacks to orbax's already-closed event
# loop; they surface as unraisable-exception warnings at garbage collection, not as our error.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_damaged_files_and_foreign_orbax_checkpoints_are_reported(tmp_path: pathlib.Path) -> None:
    import orbax.checkpoint as ocp

    hp.save_checkpoint(tmp_path, 1, _tree(), async_=False)
    hp.save_checkpoint(tmp_path, 2, _tree(), async_=False)
    for chunk in (tmp_path / "2" / "arrays").rglob("d/*"):
        chunk.write_bytes(b"not a chunk")
    with pytest.raises(
        StateDictError,
        match=r"could not read the arrays of step 2 in .*; its files are damaged or "
        r"incomplete: restore another step with step= \(other complete steps: 1\)",
    ):
        hp.restore_checkpoint(tmp_path, _template())
    assert hp.restore_checkpoint(tmp_path, _template(), step=1).step == 1

    other = tmp_path / "other"
    with ocp.CheckpointManager(other) as manager:
        manager.save(3, args=ocp.args.StandardSave({"w": np.zeros(3)}))
    with pytest.raises(
        StateDictError, match=r"step 3 in .* was not written by haliax.partitioning.save_checkpoint"
    ):
        hp.restore_checkpoint(other, {"w": jnp.zeros(3)})


def test_save_rejects_values_it_cannot_store(tmp_path: pathlib.Path) -> None:
    with pytest.raises(StateDictError, match=r"save_checkpoint: metadata cannot be written as JSON"):
        hp.save_checkpoint(tmp_path, 1, {"w": jnp.zeros(2)}, metadata={"f": object()})
    with pytest.raises(
        StateDictError, match=r"key 'w' holds a ShapeDtypeStruct, which has no values to save"
    ):
        hp.save_checkpoint(tmp_path, 1, {"w": jax.ShapeDtypeStruct((2,), jnp.float32)})
    hp.save_checkpoint(tmp_path, 1, {"w": jnp.zeros(2)}, async_=False)
    with pytest.raises(StateDictError, match=r"step 1 is already saved in .*; save under a new step"):
        hp.save_checkpoint(tmp_path, 1, {"w": jnp.zeros(2)})


def test_without_orbax_the_error_names_the_extra_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    monkeypatch.setitem(sys.modules, "orbax.checkpoint", None)  # as if orbax-checkpoint were not installed
    with pytest.raises(ImportError, match=r"pip install 'haliax-partitioning\[checkpoint\]'"):
        hp.CheckpointManager(tmp_path)


class _Transposed(ModuleWithStateDictSerialization):
    """Stores its weight transposed: a to_state_dict that does more than index its arrays."""

    weight: hax.NamedArray

    def to_state_dict(self, prefix: str | None = None) -> dict[str, Any]:
        return {f"{prefix}.weight": self.weight.array.T}

    def from_state_dict(self, state_dict: Any, prefix: str | None = None) -> _Transposed:
        return _Transposed(hax.named(state_dict[f"{prefix}.weight"].T, self.weight.axes))


def test_modules_with_their_own_state_dict_layout_round_trip(tmp_path: pathlib.Path) -> None:
    module = _Transposed(hax.named(jnp.arange(6.0).reshape(2, 3), ("a", "b")))
    hp.save_checkpoint(tmp_path, 1, {"m": module}, async_=False)
    back = hp.restore_checkpoint(tmp_path, {"m": _Transposed(hax.zeros({"a": 2, "b": 3}))}).tree["m"]
    assert back.weight.axes == module.weight.axes and (back.weight == module.weight).all()


if __name__ == "__main__":
    _save_from_child(sys.argv[1], int(sys.argv[2]), sys.argv[3])
