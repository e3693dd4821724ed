"""Counting jax devices and building meshes over them, for tests.

jax is imported inside the functions: the pytest plugin imports this module while pytest starts,
before a project's ``conftest.py`` has had a chance to configure jax (simulated CPU devices,
platforms), and asking for devices here would initialise jax's backends too early.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported lazily at run time (see above)
    from jax.sharding import Mesh


def device_count() -> int:
    """How many jax devices this process sees (simulated CPU devices included)."""
    import jax

    return jax.device_count()


def make_test_mesh(shape: Mapping[str, int]) -> Mesh:
    """A `jax.sharding.Mesh` with the given ``{axis name: size}`` over the first devices.

    The mesh uses ``prod(shape.values())`` devices, which must not exceed `device_count`; its axes
    are of the ``Auto`` type, so ``with_sharding_constraint`` and ``NamedSharding`` behave as in
    Haliax.
    """
    import jax

    names = tuple(shape)
    sizes = tuple(int(s) for s in shape.values())
    needed = math.prod(sizes)
    available = jax.devices()
    if needed > len(available):
        raise ValueError(
            f"make_test_mesh: a mesh of shape {_format(shape)} needs {needed} devices but only "
            f"{len(available)} are present; simulate more CPU devices with "
            f"XLA_FLAGS=--xla_force_host_platform_device_count={needed} (set before jax starts)"
        )
    axis_types = (jax.sharding.AxisType.Auto,) * len(names)
    return jax.make_mesh(sizes, names, axis_types=axis_types, devices=available[:needed])


def _format(shape: Mapping[str, int]) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in shape.items()) + "}"
