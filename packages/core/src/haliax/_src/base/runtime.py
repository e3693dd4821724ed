"""The jax runtime around a program: tracing state, backend, and multi-host collectives over pytrees."""

from __future__ import annotations

from typing import Any, TypeVar

import jax
import jax.numpy as jnp
from jax.core import Tracer
from jax.experimental import multihost_utils

from .named_array import NamedArray

T = TypeVar("T")


def is_in_jit() -> bool:
    """True when called while jax is tracing (under ``jit``, ``grad``, ``vmap``, ``scan``...)."""
    return isinstance(jnp.zeros(()), Tracer)


def is_on_mac_metal() -> bool:
    """True when the default jax backend is Apple's Metal plugin."""
    return jax.devices()[0].platform.lower() == "metal"


def _unname(tree: Any) -> Any:
    return jax.tree_util.tree_map(
        lambda x: x.array if isinstance(x, NamedArray) else x,
        tree,
        is_leaf=lambda x: isinstance(x, NamedArray),
    )


def assert_equal(in_tree: Any, fail_message: str = "") -> None:
    """Multi-host: raise unless every process holds the same pytree (NamedArrays included)."""
    multihost_utils.assert_equal(_unname(in_tree), fail_message=fail_message)


def broadcast_one_to_all(in_tree: T, is_source: bool | None = None) -> T:
    """Multi-host: every process gets the pytree held by the source process (process 0 by default)."""
    leaves, treedef = jax.tree_util.tree_flatten(in_tree, is_leaf=lambda x: isinstance(x, NamedArray))
    raw = multihost_utils.broadcast_one_to_all(_unname(leaves), is_source=is_source)
    out = [
        NamedArray._new(r, x.axes) if isinstance(x, NamedArray) else r
        for r, x in zip(raw, leaves, strict=True)
    ]
    return jax.tree_util.tree_unflatten(treedef, out)


def sync_global_devices(name: str) -> None:
    """Multi-host: a barrier that every process must reach with the same ``name``."""
    multihost_utils.sync_global_devices(name)
