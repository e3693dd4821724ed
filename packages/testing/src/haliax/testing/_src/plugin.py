"""The pytest hooks and fixtures of haliax.testing: a test mesh, a PRNG key, a compile-only GPU mesh, ``needs_devices``.

`haliax.testing.pytest_plugin` (the ``pytest11`` entry point) re-exports these names; pytest
finds hooks and fixtures by name on that module.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

import pytest

from .aot import AotUnavailable, compile_only_gpu_mesh
from .devices import device_count, make_test_mesh

DEFAULT_MESH_SHAPE: dict[str, int] = {"data": 4, "model": 2}
"""The shape of the `mesh` fixture unless a test asks for another (8 devices)."""

_MARKER = "needs_devices(n): skip the test when fewer than n jax devices are present"


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``needs_devices`` marker and re-apply jax settings set by ``conftest.py``."""
    config.addinivalue_line("markers", _MARKER)
    _reapply_jax_environment()


def _reapply_jax_environment() -> None:
    """Honour ``JAX_PLATFORMS`` set by a ``conftest.py``.

    pytest imports this plugin (and with it haliax and jax) before it runs any ``conftest.py``,
    and jax reads ``JAX_PLATFORMS`` from the environment when it is imported. A conftest that sets
    ``os.environ["JAX_PLATFORMS"] = "cpu"`` (to test on simulated CPU devices) would otherwise be
    ignored on a machine with an accelerator. Backends are not initialised yet at this point, so
    setting the config still takes effect; a value set explicitly with ``jax.config.update`` wins.
    """
    import jax

    platforms = os.environ.get("JAX_PLATFORMS")
    if platforms and getattr(jax.config, "jax_platforms", None) is None:
        jax.config.update("jax_platforms", platforms)


def _needed_devices(item: pytest.Item) -> int | None:
    needed = None
    for marker in item.iter_markers("needs_devices"):
        if (
            len(marker.args) != 1
            or marker.kwargs
            or not isinstance(marker.args[0], int)
            or marker.args[0] < 1
        ):
            raise pytest.UsageError(
                f"needs_devices: expected one positive int, as in @pytest.mark.needs_devices(4); "
                f"got args={marker.args!r} kwargs={marker.kwargs!r} on {item.nodeid}"
            )
        needed = max(needed or 0, marker.args[0])
    return needed


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip tests marked ``needs_devices(n)`` when fewer than ``n`` devices are present."""
    needed = _needed_devices(item)
    if needed is None:
        return
    have = device_count()
    if have < needed:
        pytest.skip(f"needs_devices: the test needs {needed} devices but {have} are present")


@pytest.fixture
def mesh(request: pytest.FixtureRequest) -> Any:
    """A `jax.sharding.Mesh` over simulated CPU (or real) devices; skips if too few exist.

    The default shape is ``{"data": 4, "model": 2}``. Ask for another with indirect
    parametrisation: ``@pytest.mark.parametrize("mesh", [{"data": 2}], indirect=True)``.
    """
    shape = getattr(request, "param", DEFAULT_MESH_SHAPE)
    if not isinstance(shape, Mapping) or not shape:
        raise pytest.UsageError(
            f"mesh: the fixture's parameter must be a non-empty {{axis name: size}} dict, got {shape!r}"
        )
    needed = math.prod(shape.values())
    have = device_count()
    if have < needed:
        pytest.skip(f"mesh: a mesh of shape {dict(shape)} needs {needed} devices but {have} are present")
    return make_test_mesh(shape)


@pytest.fixture
def prng_key(request: pytest.FixtureRequest) -> Any:
    """A typed jax PRNG key, ``jax.random.key(0)`` unless parametrised indirectly with a seed."""
    import jax

    seed = getattr(request, "param", 0)
    return jax.random.key(seed)


@pytest.fixture
def gpu_aot_mesh(request: pytest.FixtureRequest) -> Any:
    """A one-device mesh of compile-only GPUs (`compile_only_gpu_mesh`), ``"h100"`` unless parametrised.

    Skips the test when deviceless GPU compilation is unavailable: no CUDA plugin, or JAX started
    its backends before the plugin could be configured (run with ``JAX_PLATFORMS=cpu`` then).
    """
    target = getattr(request, "param", "h100")
    try:
        return compile_only_gpu_mesh(target)
    except AotUnavailable as e:
        pytest.skip(str(e))
