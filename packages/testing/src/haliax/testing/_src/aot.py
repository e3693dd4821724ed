"""Compile for a GPU this machine does not have, and read what XLA produced.

`compile_only_gpu_mesh` gives a one-device mesh of JAX *compile-only* devices described by a
target config (SM count, clock, caches, memory, CUDA/cuDNN versions), so ``jax.jit(f).lower(...)
.compile()`` runs XLA's whole GPU pipeline (GEMM rewriting, fusion, scheduling) on a CPU-only
host, e.g. in CI. Nothing can run and ``cost_analysis()`` is empty, but the optimized HLO is the
program the device would execute: `hlo_gemms` and `hlo_kernels` read it. Needs the CUDA plugin
(``pip install "jax[cuda12]"``), not a GPU. GEMM autotuning needs a device, so it is off: where
XLA would choose among GEMM back-ends (Triton, cuBLAS) by timing them, the program shows its
untuned default.

The device descriptions are the published figures of the SXM parts.
"""

from __future__ import annotations

import collections
import os
import re
from typing import TYPE_CHECKING, Any

from haliax.errors import HaliaxError

if TYPE_CHECKING:
    from jax.sharding import Mesh

# SM count, clock, caches and limits of the Hopper SXM parts (compute capability 9.0); memory size
# and bandwidth differ: H100 80 GB HBM3 at 3.35 TB/s, H200 141 GB HBM3e at 4.8 TB/s.
_HOPPER = """
gpu_device_info {{
  threads_per_block_limit: 1024
  threads_per_warp: 32
  shared_memory_per_block: 49152
  shared_memory_per_core: 233472
  threads_per_core_limit: 2048
  core_count: 132
  fpus_per_core: 128
  block_dim_limit_x: 2147483647
  block_dim_limit_y: 65535
  block_dim_limit_z: 65535
  memory_bandwidth: {bandwidth}
  l2_cache_size: 52428800
  clock_rate_ghz: 1.98
  device_memory_size: {memory}
  shared_memory_per_block_optin: 232448
  cuda_compute_capability {{ major: 9 }}
  registers_per_core_limit: 65536
  registers_per_block_limit: 65536
}}
platform_name: "CUDA"
dnn_version_info {{ major: 9 minor: 8 }}
runtime_version {{ major: 12 minor: 9 }}
device_description_str: "{name}"
"""

GPU_TARGETS: dict[str, str] = {
    "h100": _HOPPER.format(bandwidth=3352320000000, memory=84929347584, name="NVIDIA H100 80GB HBM3"),
    "h200": _HOPPER.format(bandwidth=4800000000000, memory=150754820096, name="NVIDIA H200"),
}
"""XLA GPU target configs (text protos) by name, for `compile_only_gpu_mesh`."""


class AotUnavailable(HaliaxError, RuntimeError):
    """Deviceless GPU compilation cannot run in this process; the message says why."""


def compile_only_gpu_mesh(target: str = "h100", axis_name: str = "data") -> Mesh:
    """A one-device mesh of compile-only ``target`` GPUs, for ahead-of-time compilation without one.

    Call it before JAX starts its backends (before the first array is made): on a host without a
    GPU the CUDA plugin fails to start, so it sets ``jax_platforms`` to ``cpu`` unless
    ``JAX_PLATFORMS`` is set, and it turns GEMM autotuning off through ``XLA_FLAGS``. Put
    arguments on the mesh with `abstract_like`; inside ``with haliax.partitioning.set_mesh(mesh)``
    haliax picks kernels for the mesh's GPU devices (cuDNN attention) rather than the host's CPU.

    Args:
        target: a key of `GPU_TARGETS` (``"h100"``, ``"h200"``).
        axis_name: the mesh's one axis.

    Raises:
        AotUnavailable: the CUDA plugin is not installed, or JAX started before it could be
            configured (the message names the fix), or ``target`` is unknown.

    Examples:
        >>> from haliax.testing import AotUnavailable, compile_only_gpu_mesh
        >>> try:
        ...     mesh = compile_only_gpu_mesh("h100")
        ... except AotUnavailable:
        ...     mesh = None  # no CUDA plugin here: tests that need it skip
    """
    config = GPU_TARGETS.get(target)
    if config is None:
        raise AotUnavailable(
            f"compile_only_gpu_mesh: unknown target {target!r}; known: {', '.join(sorted(GPU_TARGETS))}"
        )
    import jax

    if not os.environ.get("JAX_PLATFORMS"):
        jax.config.update("jax_platforms", "cpu")
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_gpu_autotune_level" not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} --xla_gpu_autotune_level=0".strip()
    try:
        from jax.experimental import topologies

        topology = topologies.get_topology_desc(platform="cuda", target_config=config, topology="1x1x1")
    except Exception as e:  # no plugin, a plugin that failed to start, or an older API
        raise AotUnavailable(
            f"compile_only_gpu_mesh: cannot describe a {target} without the CUDA plugin "
            f"({type(e).__name__}: {e}); install it with pip install 'jax[cuda12]' and call this "
            f"before JAX starts (or run with JAX_PLATFORMS=cpu)"
        ) from e
    return topologies.make_mesh(topology, (1,), (axis_name,))


def abstract_like(tree: Any, mesh: Mesh) -> Any:
    """``tree`` with every array or ``ShapeDtypeStruct`` replaced by a replicated ShapeDtypeStruct on ``mesh``.

    NamedArrays keep their axes (their ``.array`` becomes the struct), so
    ``jax.jit(f).lower(*abstract_like(args, mesh))`` lowers ``f`` for ``mesh``'s devices.
    """
    import jax
    from jax.sharding import NamedSharding, PartitionSpec

    replicated = NamedSharding(mesh, PartitionSpec())

    def one(x: Any) -> Any:
        if isinstance(x, (jax.Array, jax.ShapeDtypeStruct)):
            return jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=replicated)
        return x

    return jax.tree.map(one, tree)


# ----- reading optimized HLO text (compiled.as_text()) -----
_INSTRUCTION = re.compile(
    r"^\s*(?:ROOT\s+)?%?([\w.\-]+)\s*=\s*\(?([a-z0-9]+)\[[^=]*?\s([a-z][a-z0-9\-]*)\((.*)$"
)
_OPERAND = re.compile(r"%([\w.\-]+)")
_TARGET = re.compile(r'custom_call_target="([^"]+)"')
_COMPUTATION = re.compile(r"^(?:ENTRY\s+)?%?([\w.\-]+)\s.*\{\s*$")
_BODY = re.compile(r"body=%([\w.\-]+)")
_ENTRY = re.compile(r"^ENTRY\s+%?([\w.\-]+)", re.MULTILINE)
# Instructions that launch nothing: bookkeeping, aliasing, control flow (whose bodies are counted).
_NOT_KERNELS = frozenset(
    [
        "parameter",
        "constant",
        "get-tuple-element",
        "tuple",
        "bitcast",
        "while",
        "conditional",
        "call",
        "after-all",
        "partition-id",
        "replica-id",
        "opt-barrier",
    ]
)


def _call_target(line: str) -> str:
    """The target of a custom-call instruction line ("" when it names none)."""
    target = _TARGET.search(line)
    return target.group(1) if target else ""


def hlo_gemms(hlo_text: str) -> dict[str, dict[str, int]]:
    """The GEMMs of an optimized HLO module, by the element types of their operands.

    A ``dot`` (inside a fusion or not), or a ``custom-call`` whose target names a matmul or GEMM
    (cuBLAS, cuBLASLt, oneDNN), is counted under the sorted set of its operands' element types:
    ``"f8e4m3fn"``, ``"f8e4m3fn+f8e5m2"``, ``"bf16"``, ``"s8"``. Returns ``{"by_operand_types":
    {...}, "library_calls": {target: count}}``. An fp8 model whose GEMMs really take bf16
    operands shows up as zero f8 entries.
    """
    types: dict[str, str] = {}
    gemms: list[tuple[str, str, str]] = []
    for line in hlo_text.splitlines():
        m = _INSTRUCTION.match(line)
        if not m:
            continue
        name, elem, opcode, rest = m.groups()
        types[name] = elem
        if opcode in ("dot", "custom-call"):
            gemms.append((opcode, rest.split(")", 1)[0], line))
    by_types: collections.Counter[str] = collections.Counter()
    calls: collections.Counter[str] = collections.Counter()
    for opcode, operands, line in gemms:
        if opcode == "custom-call":
            call = _call_target(line)
            if not any(word in call.lower() for word in ("matmul", "gemm")):
                continue
            calls[call] += 1
        by_types["+".join(sorted({types.get(o, "?") for o in _OPERAND.findall(operands)}))] += 1
    return {"by_operand_types": dict(by_types), "library_calls": dict(calls)}


def hlo_kernels(hlo_text: str) -> dict[str, collections.Counter[str]]:
    """The launches of an optimized HLO module, per computation that runs on its own.

    Returns ``{"entry": ..., "<while body name>": ...}``, each a Counter of kernel kinds: a fusion
    under its name without the numeric suffix (``gemm_fusion_dot``, ``input_reduce_fusion``), a
    custom call under its target (``__cudnn$fmhaSoftmax``), any other instruction under its
    opcode. A scan over layers is one while body, so its counter is the launches *per layer*.
    """
    entry_match = _ENTRY.search(hlo_text)
    entry = entry_match.group(1) if entry_match else ""
    wanted = {entry, *_BODY.findall(hlo_text)}
    out: dict[str, collections.Counter[str]] = {}
    counter: collections.Counter[str] | None = None  # that of the computation being read
    for line in hlo_text.splitlines():
        if counter is None:
            m = _COMPUTATION.match(line)
            if m and m.group(1) in wanted:
                counter = out.setdefault(m.group(1), collections.Counter())
            continue
        if line.startswith("}"):
            counter = None
            continue
        m = _INSTRUCTION.match(line)
        if not m or m.group(3) in _NOT_KERNELS:
            continue
        name, opcode = m.group(1), m.group(3)
        if opcode == "fusion":
            kind = re.sub(r"[._]\d+$", "", name)
        elif opcode == "custom-call":
            kind = _call_target(line) or "custom-call"
        else:
            kind = opcode
        counter[kind] += 1
    return {("entry" if k == entry else k): v for k, v in out.items()}
