"""Meshes: entering one compatibly with JAX's own mesh context, and finding the active one.

`set_mesh` (alias `mesh_context`) enters JAX's mesh context (``jax.set_mesh`` where present,
``jax.sharding.use_mesh`` on versions that have that instead) and also records the concrete mesh
in a thread-local stack, because JAX only hands out the *abstract* mesh inside ``jit``. A mesh
entered with ``jax.set_mesh`` directly is found too.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, TypeAlias

import jax
from jax.sharding import AbstractMesh, Mesh

from haliax._src.errors import PartitioningError

MeshLike: TypeAlias = Mesh | AbstractMesh
"""A concrete `jax.sharding.Mesh` or an `AbstractMesh` (what JAX gives inside ``jit``)."""


class ResourceAxis:
    """Conventional names of physical mesh axes."""

    MODEL = "model"
    DATA = "data"
    REPLICA = "replica"


class _MeshState(threading.local):
    def __init__(self) -> None:
        self.stack: list[MeshLike] = []


_state = _MeshState()


def _enter_jax_mesh(mesh: Mesh) -> Any:
    """Enter JAX's own mesh context; returns the object whose ``__exit__`` leaves it."""
    set_mesh_fn = getattr(jax, "set_mesh", None)
    if set_mesh_fn is not None:
        ctx = set_mesh_fn(mesh)  # sets the mesh on construction; __exit__ restores the previous one
    else:  # JAX versions with jax.sharding.use_mesh but no jax.set_mesh
        ctx = jax.sharding.use_mesh(mesh)  # type: ignore[attr-defined]  # present on those versions only
    ctx.__enter__()
    return ctx


class set_mesh:
    """Make ``mesh`` the active mesh: as a context manager, or (called bare) for the rest of the thread.

    Like ``jax.set_mesh``, it works both ways: ``with hax.set_mesh(mesh): ...`` restores the
    previous mesh on exit; a bare ``hax.set_mesh(mesh)`` leaves it set. The mesh is also entered
    in JAX's mesh context, so JAX APIs that take a bare ``PartitionSpec`` see it. Call it outside
    ``jit``.

    Examples:
        >>> import jax, numpy as np
        >>> import haliax as hax
        >>> mesh = jax.sharding.Mesh(np.array(jax.devices()[:1]), ("data",))
        >>> with hax.partitioning.set_mesh(mesh):
        ...     hax.partitioning.current_mesh() is mesh
        True
    """

    def __init__(self, mesh: MeshLike):
        """Enter ``mesh``; leaving happens in ``__exit__`` (or never, for a bare call)."""
        check_auto_axes("set_mesh", mesh)
        self.mesh = mesh
        self._jax_ctx = _enter_jax_mesh(mesh) if isinstance(mesh, Mesh) else None
        _state.stack.append(mesh)

    def __enter__(self) -> MeshLike:
        return self.mesh

    def __exit__(self, *exc: object) -> None:
        if _state.stack and _state.stack[-1] is self.mesh:
            _state.stack.pop()
        if self._jax_ctx is not None:
            self._jax_ctx.__exit__(*exc)


mesh_context = set_mesh


class _TraceMesh:
    """Push a mesh on the thread-local stack only (usable while tracing, unlike jax.set_mesh)."""

    def __init__(self, mesh: MeshLike):
        self.mesh = mesh

    def __enter__(self) -> MeshLike:
        _state.stack.append(self.mesh)
        return self.mesh

    def __exit__(self, *exc: object) -> None:
        _state.stack.pop()


def _jax_context_mesh() -> MeshLike | None:
    """The mesh in JAX's own context: concrete outside jit, abstract inside; None when empty."""
    try:
        mesh: MeshLike = jax.sharding.get_mesh()
    except ValueError:  # inside jit JAX only hands out the abstract mesh
        mesh = jax.sharding.get_abstract_mesh()
    return None if mesh.empty else mesh


def current_mesh(mesh: MeshLike | None = None) -> MeshLike | None:
    """The mesh to use: ``mesh`` if given, else the innermost active one, else None."""
    if mesh is not None:
        return mesh
    if _state.stack:
        return _state.stack[-1]
    return _jax_context_mesh()


def mesh_shape(mesh: MeshLike) -> Mapping[str, int]:
    """``{mesh axis name: size}`` for a concrete or abstract mesh."""
    return dict(mesh.shape)


def format_mesh(mesh: MeshLike) -> str:
    """A mesh as a named shape: ``{data: 2, model: 4}``."""
    return "{" + ", ".join(f"{name}: {size}" for name, size in mesh_shape(mesh).items()) + "}"


def check_auto_axes(op: str, mesh: MeshLike) -> None:
    """Raise if ``mesh`` has Explicit or Manual axes (haliax places arrays with Auto axes)."""
    types = getattr(mesh, "axis_types", None)
    if not types:
        return
    auto = jax.sharding.AxisType.Auto
    bad = [name for name, t in zip(mesh.axis_names, types, strict=True) if t != auto]
    if bad:
        raise PartitioningError(
            f"{op}: mesh axis {bad[0]!r} of the mesh {format_mesh(mesh)} is not an Auto axis; "
            f"haliax.partitioning places arrays with sharding constraints, which need Auto mesh axes: "
            f"build the mesh with jax.make_mesh(shape, names, axis_types=(jax.sharding.AxisType.Auto,) * "
            f"{len(mesh.axis_names)})"
        )
