"""Meshes: entering one compatibly with JAX's own mesh context, and finding the active one.

`set_mesh` (alias `mesh_context`) enters JAX's mesh context (``jax.set_mesh`` where present,
``jax.sharding.use_mesh`` on versions that have that instead) and also records the concrete mesh
in a thread-local stack, because JAX only hands out the *abstract* mesh inside ``jit``. A mesh
entered with ``jax.set_mesh`` directly is found too, and so is one entered with the legacy
``with mesh:`` block, which JAX records in a separate place.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Mapping
from typing import Any, TypeAlias

import jax
import jax._src.core as _jax_core  # trace_state_clean: whether any transformation is tracing
import jax._src.mesh as _jax_mesh  # thread_resources: where the legacy `with mesh:` block records its mesh
import jax.core  # jax.core.Tracer; the submodule is not re-exported by `import jax` for type checkers
from jax.sharding import AbstractMesh, Mesh

from haliax.errors import PartitioningError

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
        check_mesh("set_mesh", mesh)
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


def is_tracing() -> bool:
    """Whether a JAX transformation (``jit``, ``grad``, ``vmap``, ...) is tracing right now."""
    clean = getattr(_jax_core, "trace_state_clean", None)
    if clean is not None:
        return not clean()
    return isinstance(jax.numpy.zeros(()), jax.core.Tracer)  # older JAX: a traced constant


def _jax_context_mesh() -> MeshLike | None:
    """The mesh in JAX's own context: concrete outside jit, abstract inside; None when empty."""
    try:
        mesh: MeshLike = jax.sharding.get_mesh()
    except ValueError:  # inside jit JAX only hands out the abstract mesh
        mesh = jax.sharding.get_abstract_mesh()
    return None if mesh.empty else mesh


def _legacy_mesh() -> Mesh | None:
    """The mesh of an enclosing legacy ``with mesh:`` block (JAX keeps it apart from jax.set_mesh's)."""
    resources = getattr(_jax_mesh, "thread_resources", None)
    mesh = getattr(getattr(resources, "env", None), "physical_mesh", None)
    return None if mesh is None or mesh.empty else mesh


def check_mesh(op: str, mesh: object) -> None:
    """Raise unless ``mesh`` is a ``jax.sharding.Mesh`` or ``AbstractMesh``."""
    if isinstance(mesh, (Mesh, AbstractMesh)):
        return
    shown = f"the string {mesh!r}" if isinstance(mesh, str) else f"a {type(mesh).__name__}"
    hint = (
        f"; to split an axis over mesh axis {mesh!r}, map it in the axis mapping "
        f"(e.g. {{'batch': {mesh!r}}}) and enter the mesh with `with hax.set_mesh(mesh):`"
        if isinstance(mesh, str)
        else ""
    )
    raise PartitioningError(
        f"{op}: expected a jax.sharding.Mesh as the mesh, got {shown}; build one with "
        f"jax.make_mesh(shape, axis_names) or jax.sharding.Mesh(devices, axis_names){hint}"
    )


def current_mesh(mesh: MeshLike | None = None) -> MeshLike | None:
    """The mesh to use: ``mesh`` if given, else the innermost active one, else None.

    Active meshes are those entered with `set_mesh`, ``jax.set_mesh`` or a legacy ``with mesh:``
    block, looked up in that order.
    """
    if mesh is not None:
        return mesh
    if _state.stack:
        return _state.stack[-1]
    found = _jax_context_mesh()
    if found is not None:
        return found
    return _legacy_mesh()


def resolve_mesh(op: str, mesh: object | None) -> MeshLike | None:
    """`current_mesh` for ``op``, after checking that a ``mesh`` it was passed is a mesh."""
    if mesh is not None:
        check_mesh(op, mesh)
        return mesh  # type: ignore[return-value]  # check_mesh narrowed it to a mesh
    return current_mesh()


def _get_mesh() -> MeshLike | None:
    """Deprecated: the active mesh or None; use `current_mesh` (or ``jax.sharding.get_abstract_mesh``)."""
    warnings.warn(
        "haliax.partitioning._get_mesh is deprecated; use haliax.partitioning.current_mesh() "
        "or jax.sharding.get_abstract_mesh()",
        DeprecationWarning,
        stacklevel=2,
    )
    return current_mesh()


def mesh_shape(mesh: MeshLike) -> Mapping[str, int]:
    """``{mesh axis name: size}`` for a concrete or abstract mesh."""
    return dict(mesh.shape)


def format_mesh(mesh: MeshLike) -> str:
    """A mesh as a named shape: ``{data: 2, model: 4}``."""
    return "{" + ", ".join(f"{name}: {size}" for name, size in mesh_shape(mesh).items()) + "}"
