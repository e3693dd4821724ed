"""Finding the active mesh, and the names Haliax 1.4 code imports from haliax.partitioning."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import haliax.partitioning as hp


def mesh_2x4() -> jax.sharding.Mesh:
    return jax.sharding.Mesh(np.array(jax.devices()).reshape(2, 4), ("data", "model"))


def test_mesh_and_get_mesh_resolve_as_in_haliax() -> None:
    assert hp.Mesh is jax.sharding.Mesh
    mesh = mesh_2x4()
    with hp.set_mesh(mesh), pytest.warns(DeprecationWarning, match="_get_mesh is deprecated"):
        assert hp._get_mesh() is mesh
    with pytest.warns(DeprecationWarning):
        assert hp._get_mesh() is None


@pytest.mark.filterwarnings("ignore:.*context manager has been deprecated:DeprecationWarning")
def test_current_mesh_finds_a_legacy_mesh_block_inside_and_outside_jit() -> None:
    mesh = mesh_2x4()
    seen = []
    with mesh:
        assert hp.current_mesh() is mesh
        jax.jit(lambda x: seen.append(hp.current_mesh()) or x)(1.0)
    assert seen and seen[0] is not None and dict(seen[0].shape) == {"data": 2, "model": 4}
    assert hp.current_mesh() is None


def test_set_mesh_accepts_meshes_with_explicit_axes() -> None:
    mesh = jax.make_mesh((2, 4), ("data", "model"), axis_types=(jax.sharding.AxisType.Explicit,) * 2)
    with hp.set_mesh(mesh):
        assert hp.current_mesh() is mesh
