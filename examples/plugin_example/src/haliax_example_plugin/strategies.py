"""A sharding strategy provided through the ``haliax.sharding_strategies`` entry-point group.

A strategy is a callable ``(model, mesh) -> (parameter_mapping, compute_mapping)``; both mappings
send a logical axis name to a mesh axis name (see `haliax.registry.ShardingStrategy`).
"""

from __future__ import annotations

from typing import Any


def replicated(
    model: Any, mesh: Any
) -> tuple[dict[str, str | tuple[str, ...] | None], dict[str, str | tuple[str, ...] | None]]:
    """Replicate every parameter; split the ``batch`` axis of activations over the mesh's data axis.

    The data axis is the mesh axis named ``"data"`` when there is one, else the mesh's first axis.
    """
    names = tuple(getattr(mesh, "axis_names", ()) or ())
    data_axis = "data" if "data" in names or not names else names[0]
    return {}, {"batch": data_axis}
