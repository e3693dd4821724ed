"""visualize_sharding: the mesh and each array's blocks, from real shardings or from a mapping."""

from __future__ import annotations

import re

import jax
import numpy as np
import pytest

import haliax as hax
import haliax.partitioning as hp
from haliax.errors import NamedTypeError, PartitioningError

Embed, Mlp = hax.Axis("embed", 8), hax.Axis("mlp", 16)


def mesh_2x4() -> jax.sharding.Mesh:
    return jax.sharding.Mesh(np.array(jax.devices()[:8]).reshape(2, 4), ("data", "model"))


def test_text_shows_the_mesh_and_each_block_with_its_devices() -> None:
    mesh = mesh_2x4()
    with hp.set_mesh(mesh):
        tree = hp.shard({"w": hax.ones((Embed, Mlp)), "b": hax.ones(Mlp)}, {"embed": "data", "mlp": "model"})
    assert hp.visualize_sharding(tree) == (
        "mesh {data: 2, model: 4}: device ids\n"
        "          model=0  model=1  model=2  model=3\n"
        "  data=0  0        1        2        3\n"
        "  data=1  4        5        6        7\n"
        "['b'] {mlp: 16} f32: mlp->model\n"
        "    mlp[0:4]  mlp[4:8]  mlp[8:12]  mlp[12:16]\n"
        "    0,4       1,5       2,6        3,7\n"
        "['w'] {embed: 8, mlp: 16} f32: embed->data, mlp->model\n"
        "              mlp[0:4]  mlp[4:8]  mlp[8:12]  mlp[12:16]\n"
        "  embed[0:4]  0         1         2          3\n"
        "  embed[4:8]  4         5         6          7\n"
    )


def test_unsharded_arrays_are_laid_out_by_the_mapping_on_the_given_mesh() -> None:
    abstract = jax.eval_shape(lambda: hax.ones((Embed, Mlp)))
    text = hp.visualize_sharding(abstract, mesh_2x4(), mapping={"mlp": ("data", "model")})
    assert "array {embed: 8, mlp: 16} f32: mlp->data*model" in text
    assert text.rstrip().endswith(
        "embed[0:8]  0         1         2         3         4          5           6           7"
    )


def test_svg_draws_one_rect_per_device_stripe_and_labels_blocks() -> None:
    with hp.set_mesh(mesh_2x4()):
        w = hp.shard(hax.ones((Embed, Mlp)), {"mlp": "model"})
    svg = hp.visualize_sharding(w, format="svg")
    assert svg.startswith("<svg ") and svg.endswith("</svg>")
    labels = re.findall(r">([0-9,\-]+)</text>", svg)
    # 8 mesh cells, then 4 blocks each held by the 2 devices of one model column
    assert labels == [*map(str, range(8)), "0,4", "1,5", "2,6", "3,7"]
    assert "embed \u2193" in svg and "mlp \u2192" in svg and "mlp-&gt;model" in svg


def test_errors_name_the_op_and_the_fix() -> None:
    with pytest.raises(NamedTypeError, match=r"^visualize_sharding: format='png'"):
        hp.visualize_sharding(hax.ones(Embed), format="png")  # type: ignore[arg-type]  # a wrong value on purpose
    with pytest.raises(NamedTypeError, match=r"^visualize_sharding: the tree holds no arrays"):
        hp.visualize_sharding({"a": 1})
    with pytest.raises(PartitioningError, match=r"^visualize_sharding: array has no sharding"):
        hp.visualize_sharding(jax.eval_shape(lambda: hax.ones(Embed)))
