"""One small model trained under 1-device, DP, FSDP, TP and FSDP+TP layouts, and under two processes."""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from pathlib import Path
from typing import Any

import jax
import numpy as np
import pytest
from jax.sharding import PartitionSpec

import haliax as hax
import haliax.partitioning as hp
import haliax.testing as ht
from haliax.registry import get_sharding_strategy

_MODEL_FILE = Path(__file__).with_name("_partitioning_model.py")
_spec = importlib.util.spec_from_file_location("_partitioning_model", _MODEL_FILE)
assert _spec is not None and _spec.loader is not None
pm = importlib.util.module_from_spec(_spec)
sys.modules["_partitioning_model"] = pm
_spec.loader.exec_module(pm)

STEPS = 3
LAYOUTS = {
    "dp": (8,),
    "fsdp": (8,),
    "tp": (2, 4),
    "fsdp+tp": (2, 4),
}
# Expected spec of each weight (inp [feat, embed], up [embed, mlp], down [mlp, embed], head [embed, out]).
EXPECTED_SPECS = {
    "dp": [PartitionSpec(None, None)] * 4,
    "fsdp": [
        PartitionSpec(None, "data"),
        PartitionSpec("data", None),
        PartitionSpec(None, "data"),
        PartitionSpec("data", None),
    ],
    "tp": [
        PartitionSpec(None, None),
        PartitionSpec(None, "model"),
        PartitionSpec("model", None),
        PartitionSpec(None, None),
    ],
    "fsdp+tp": [
        PartitionSpec(None, "data"),
        PartitionSpec("data", "model"),
        PartitionSpec("model", "data"),
        PartitionSpec("data", None),
    ],
}


def _mesh(shape: tuple[int, ...]) -> jax.sharding.Mesh:
    names = ("data",) if len(shape) == 1 else ("data", "model")
    return jax.sharding.Mesh(np.array(jax.devices()[: int(np.prod(shape))]).reshape(shape), names)


def _batch() -> tuple[hax.NamedArray, hax.NamedArray]:
    x, y = pm.data()
    return hax.named(x, (pm.Batch, pm.Feat)), hax.named(y, (pm.Batch, pm.Out))


@pytest.fixture(scope="module")
def reference_losses() -> list[float]:
    model = pm.Model.init(jax.random.PRNGKey(0))
    x, y = _batch()
    step = jax.jit(pm.train_step)
    losses = []
    for _ in range(STEPS):
        loss, model = step(model, x, y)
        losses.append(float(loss))
    return losses


def _train(layout: str) -> tuple[list[float], Any]:  # Any: pm.Model, from a module loaded at run time
    mesh = _mesh(LAYOUTS[layout])
    params, compute = get_sharding_strategy(layout)(None, mesh)
    with hp.set_mesh(mesh):
        model = hp.shard(pm.Model.init(jax.random.PRNGKey(0)), params)
        x, y = _batch()
        step = hp.fsdp(pm.train_step, params, compute)
        losses = []
        for _ in range(STEPS):
            loss, model = step(model, x, y)
            losses.append(float(loss))
    return losses, model


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_layout_trains_to_the_single_device_losses_with_mapped_shardings(
    layout: str, reference_losses: list[float]
) -> None:
    losses, model = _train(layout)
    np.testing.assert_allclose(losses, reference_losses, rtol=1e-5)
    weights = [model.inp.weight, model.up.weight, model.down.weight, model.head.weight]
    for w, expected in zip(weights, EXPECTED_SPECS[layout], strict=True):
        sharding = w.array.sharding
        assert isinstance(sharding, jax.sharding.NamedSharding)
        assert sharding.is_equivalent_to(jax.sharding.NamedSharding(sharding.mesh, expected), 2), (
            w.axes,
            sharding.spec,
        )


def _compiled_text(layout: str) -> tuple[str, list[tuple[int, ...]], list[tuple[int, ...]]]:
    mesh = _mesh(LAYOUTS[layout])
    params, compute = get_sharding_strategy(layout)(None, mesh)
    with hp.set_mesh(mesh):
        model = hp.shard(pm.Model.init(jax.random.PRNGKey(0)), params)
        x, y = _batch()
        text = hp.fsdp(pm.train_step, params, compute).lower(model, x, y).compile().as_text()
    full = [
        tuple(w.array.shape)
        for w in (model.inp.weight, model.up.weight, model.down.weight, model.head.weight)
    ]
    local = [
        tuple(w.array.sharding.shard_shape(w.array.shape))
        for w in (model.inp.weight, model.up.weight, model.down.weight, model.head.weight)
    ]
    return text, full, local


def _count(text: str, op: str) -> int:
    return len(re.findall(rf"\b{op}(?:-start)?\(", text))


def _entry_signature(text: str) -> str:
    match = re.search(r"^ENTRY .*$", text, re.MULTILINE)
    assert match is not None
    return match.group(0)


def _shape_text(shape: tuple[int, ...]) -> str:
    return "f32[" + ",".join(map(str, shape)) + "]"


def test_fsdp_step_gathers_parameters_and_reduces_gradients_without_a_replicated_parameter() -> None:
    text, full, local = _compiled_text("fsdp")
    gathers = re.findall(r"= (f32\[[\d,]*\])\S* all-gather(?:-start)?\(", text)
    # Every sharded parameter is all-gathered to its full shape for the forward pass.
    assert sorted(gathers) == sorted(_shape_text(s) for s in full)
    # Gradients are reduced over the data axis: a reduce-scatter where XLA forms one (TPU/GPU);
    # XLA:CPU keeps the all-reduce and slices each device's shard out of it.
    assert _count(text, "reduce-scatter") + _count(text, "all-reduce") >= 1
    # The step takes and returns only shards of the parameters: no replicated copy crosses the boundary.
    signature = _entry_signature(text)
    for f, loc in zip(full, local, strict=True):
        assert _shape_text(loc) in signature
        assert _shape_text(f) not in signature


def test_tp_step_all_reduces_activations_and_never_gathers_sharded_weights() -> None:
    text, full, local = _compiled_text("tp")
    assert _count(text, "all-gather") == 0
    # One all-reduce of the down projection's partial sums forward, one for its input gradient
    # backward, plus the data-parallel reduction of gradients.
    assert _count(text, "all-reduce") >= 3
    signature = _entry_signature(text)
    assert _shape_text(local[1]) in signature and _shape_text(full[1]) not in signature  # up: [embed, mlp/4]
    assert (
        _shape_text(local[2]) in signature and _shape_text(full[2]) not in signature
    )  # down: [mlp/4, embed]


def test_two_processes_train_the_fsdp_step_to_the_single_process_losses(
    reference_losses: list[float],
) -> None:
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu")
    with ht.local_processes(
        lambda pid, coordinator: [sys.executable, str(_MODEL_FILE), coordinator, str(pid), str(STEPS)],
        env=env,
    ) as run:
        pass
    outputs = run.outputs
    line = next(line for line in outputs[0].splitlines() if line.startswith("LOSSES "))
    losses = [float(v) for v in line.removeprefix("LOSSES ").strip("[]").split(",")]
    np.testing.assert_allclose(losses, reference_losses, rtol=1e-5)
