"""One trainer, many processes: device setup, ``jax.distributed``, and global batches from local rows.

The functions before ``initialize`` run before JAX starts its backends (simulated CPU devices are
an XLA flag read at backend start); everything else is ordinary JAX multi-controller code: every
process runs the same program on its own devices, and arrays span all of them.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import jax


def simulate_cpu_devices(mesh_shape: dict[str, int] | None, num_processes: int | None) -> None:
    """Ask XLA for enough CPU devices for this process's share of the mesh (a no-op on GPU/TPU).

    Call before JAX creates its backends. An ``xla_force_host_platform_device_count`` already in
    ``XLA_FLAGS`` wins.
    """
    if not mesh_shape:
        return
    per_process = math.prod(mesh_shape.values()) // (num_processes or 1)
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_force_host_platform_device_count" not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={per_process}".strip()


def initialize(args: argparse.Namespace) -> bool:
    """Join the ``jax.distributed`` job the flags describe; True when there is one."""
    import jax

    if args.coordinator is None and not args.distributed:
        return False
    # CPU devices of different processes talk through gloo (GPUs and TPUs use their own fabric).
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    if args.distributed:
        jax.distributed.initialize()
    else:
        jax.distributed.initialize(
            args.coordinator, num_processes=args.num_processes, process_id=args.process_id
        )
    return True


def shutdown() -> None:
    """Leave the ``jax.distributed`` job (safe to call when there is none)."""
    import jax

    with contextlib.suppress(Exception):  # already down, or never up: nothing to release
        jax.distributed.shutdown()


def is_main() -> bool:
    """Whether this is process 0, the one that logs, plots and writes files."""
    import jax

    return jax.process_index() == 0


def agree(value: int) -> int:
    """Process 0's ``value`` on every process (e.g. a decision taken by looking at the filesystem)."""
    import jax

    if jax.process_count() == 1:
        return value
    from jax.experimental import multihost_utils

    return int(multihost_utils.broadcast_one_to_all(np.int32(value)))


def local_row_blocks(sharding, shape: tuple[int, ...]) -> list[tuple[int, int]]:
    """The blocks of rows (first dimension) of a ``shape`` array that this process's devices hold.

    Sorted and without repeats: the order ``jax.make_array_from_process_local_data`` expects its
    process-local rows in.
    """
    blocks = set()
    for index in sharding.addressable_devices_indices_map(shape).values():
        rows = index[0] if index else slice(None)
        start, stop, _ = rows.indices(shape[0])
        blocks.add((start, stop))
    return sorted(blocks)


def global_batch(read_rows: Callable[[int, int], np.ndarray], shape: tuple[int, int], sharding) -> jax.Array:
    """A global ``shape`` array with ``sharding``, built from the rows this process reads.

    ``read_rows(start, stop)`` returns rows ``start:stop`` of the global batch; each process calls
    it only for the rows its own devices hold.
    """
    import jax

    blocks = local_row_blocks(sharding, shape)
    local = np.concatenate([read_rows(a, b) for a, b in blocks])
    return jax.make_array_from_process_local_data(sharding, local, shape)
