"""A small transformer-ish model and training step shared by the partitioning tests.

Run as a script it is one process of the two-process test: ``python _partitioning_model.py
<coordinator> <process_id> <steps>`` trains the FSDP step under ``jax.distributed`` and prints
the losses as JSON from process 0.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import equinox as eqx
import jax
import numpy as np

import haliax as hax
import haliax.partitioning as hp
from haliax.registry import get_sharding_strategy

Batch = hax.Axis("batch", 16)
Feat = hax.Axis("feat", 8)
Embed = hax.Axis("embed", 16)
Mlp = hax.Axis("mlp", 32)
Out = hax.Axis("out", 8)
LR = 0.1


class Linear(eqx.Module):
    """A named linear map: contracts ``In`` and adds ``Out`` (no bias)."""

    weight: hax.NamedArray
    In: hax.Axis = eqx.field(static=True)

    @staticmethod
    def init(In: hax.Axis, Out: hax.Axis, key: Any) -> Linear:
        w = jax.random.normal(key, (In.size, Out.size)) / np.sqrt(In.size)
        return Linear(hax.named(w, (In, Out)), In)

    def __call__(self, x: hax.NamedArray) -> hax.NamedArray:
        return hax.dot(x, self.weight, axis=self.In.name)


class Model(eqx.Module):
    """Input projection, a residual MLP block with a normalisation, and an output head."""

    inp: Linear
    up: Linear
    down: Linear
    head: Linear

    @staticmethod
    def init(key: Any) -> Model:
        k = jax.random.split(key, 4)
        return Model(
            Linear.init(Feat, Embed, k[0]),
            Linear.init(Embed, Mlp, k[1]),
            Linear.init(Mlp, Embed, k[2]),
            Linear.init(Embed, Out, k[3]),
        )

    def __call__(self, x: hax.NamedArray) -> hax.NamedArray:
        h = self.inp(x)
        h = h + self.down(hax.tanh(self.up(h)))
        centred = h - h.mean("embed")
        h = centred / hax.sqrt((centred * centred).mean("embed") + 1e-5)
        return self.head(h)


def loss_fn(model: Model, x: hax.NamedArray, y: hax.NamedArray) -> hax.NamedArray:
    err = model(x) - y
    return (err * err).mean()


def train_step(model: Model, x: hax.NamedArray, y: hax.NamedArray) -> tuple[Any, Model]:
    loss, grads = jax.value_and_grad(lambda m: loss_fn(m, x, y).array)(model)
    new = jax.tree.map(lambda p, g: p - LR * g, model, grads)
    return loss, new


def data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((Batch.size, Feat.size)).astype(np.float32)
    y = rng.standard_normal((Batch.size, Out.size)).astype(np.float32)
    return x, y


def _main(coordinator: str, process_id: int, steps: int) -> None:
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(coordinator, num_processes=2, process_id=process_id)
    assert jax.device_count() == 8 and jax.local_device_count() == 4
    mesh = jax.sharding.Mesh(np.array(jax.devices()), ("data",))
    params, compute = get_sharding_strategy("fsdp")(None, mesh)
    with hp.set_mesh(mesh):
        model = hp.shard(Model.init(jax.random.PRNGKey(0)), params)
        x_host, y_host = data()
        # Each process loads only its own rows of the global batch.
        rows = Batch.size // jax.process_count()
        mine = slice(process_id * rows, (process_id + 1) * rows)
        batch_sharding = hp.sharding_for_axis((Batch, Feat), params)
        x = hax.named(jax.make_array_from_process_local_data(batch_sharding, x_host[mine]), (Batch, Feat))
        y_sharding = hp.sharding_for_axis((Batch, Out), params)
        y = hax.named(jax.make_array_from_process_local_data(y_sharding, y_host[mine]), (Batch, Out))
        step = hp.fsdp(train_step, params, compute)
        losses = []
        for _ in range(steps):
            loss, model = step(model, x, y)
            losses.append(float(np.asarray(loss.addressable_shards[0].data)))
    if process_id == 0:
        print("LOSSES " + json.dumps(losses), flush=True)
    jax.distributed.shutdown()


if __name__ == "__main__":
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    _main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
