"""Collectives in the compiled GPT training step: named FSDP / TP against hand-sharded positional JAX.

On 8 simulated CPU devices, the named step runs under ``hax.fsdp(step, parameter_mapping,
compute_mapping)`` with the mappings of the registered ``fsdp`` and ``tp`` strategies; the
positional twin is ``jax.jit`` with hand-written ``NamedSharding`` in/out shardings for every
parameter, optimizer state leaf and the batch. The table lists each collective kind in the
compiled HLO with its count and bytes (result sizes summed). The target is identical collectives.

Run: ``python benchmarks/bench_sharded.py`` (sets XLA_FLAGS itself before importing jax).
"""

from __future__ import annotations

import collections
import os
import re

_flags = os.environ.get("XLA_FLAGS", "")
if "xla_force_host_platform_device_count" not in _flags:
    os.environ["XLA_FLAGS"] = f"{_flags} --xla_force_host_platform_device_count=8".strip()
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
from haliax_gpt_example.steps import (  # noqa: E402
    GPTConfig,
    concrete_state,
    mp_policy,
    named_step,
    optimizer,
    positional_step,
)
from jax.sharding import NamedSharding  # noqa: E402
from jax.sharding import PartitionSpec as P  # noqa: E402

import haliax as hax  # noqa: E402
import haliax.partitioning as hp  # noqa: E402
from haliax.registry import sharding_strategies  # noqa: E402

CONFIG = GPTConfig(vocab=256, seq_len=64, embed=64, heads=4, layers=2)
BATCH = 8

# Hand-written layouts of the positional parameters (see haliax_gpt_example.positional's table), per strategy.
# fsdp: every embed dimension over "data". tp: heads and mlp over "model".
FSDP_SPECS = {
    ".token_embeddings.weight": P(None, "data"),
    ".position_embeddings.weight": P(None, "data"),
    ".blocks.stacked.ln_1.weight": P(None, "data"),
    ".blocks.stacked.ln_1.bias": P(None, "data"),
    ".blocks.stacked.attn.qkv.weight": P(None, None, None, None, "data"),
    ".blocks.stacked.attn.qkv.bias": P(),
    ".blocks.stacked.attn.out.weight": P(None, "data"),
    ".blocks.stacked.attn.out.bias": P(None, "data"),
    ".blocks.stacked.ln_2.weight": P(None, "data"),
    ".blocks.stacked.ln_2.bias": P(None, "data"),
    ".blocks.stacked.mlp_in.weight": P(None, None, "data"),
    ".blocks.stacked.mlp_in.bias": P(),
    ".blocks.stacked.mlp_out.weight": P(None, "data"),
    ".blocks.stacked.mlp_out.bias": P(None, "data"),
    ".ln_f.weight": P("data"),
    ".ln_f.bias": P("data"),
}
TP_SPECS = {
    ".blocks.stacked.attn.qkv.weight": P(None, None, "model"),
    ".blocks.stacked.attn.qkv.bias": P(None, None, "model"),
    ".blocks.stacked.attn.out.weight": P(None, None, "model"),
    ".blocks.stacked.mlp_in.weight": P(None, "model"),
    ".blocks.stacked.mlp_in.bias": P(None, "model"),
    ".blocks.stacked.mlp_out.weight": P(None, None, "model"),
}

_COLLECTIVES = ("all-reduce", "all-gather", "reduce-scatter", "all-to-all", "collective-permute")
_BYTES = {
    "f64": 8,
    "s64": 8,
    "u64": 8,
    "f32": 4,
    "s32": 4,
    "u32": 4,
    "bf16": 2,
    "f16": 2,
    "s16": 2,
    "u16": 2,
    "s8": 1,
    "u8": 1,
    "pred": 1,
}
_SHAPE = re.compile(r"\b([a-z]+\d*)\[([\d,]*)\]")


def collectives(hlo_text: str) -> dict[str, tuple[int, int]]:
    """``{kind: (count, bytes)}`` of the collectives in an HLO module (async ``-start`` halves counted once)."""
    out: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    for line in hlo_text.splitlines():
        if " = " not in line:
            continue
        rhs = line.split(" = ", 1)[1]
        for kind in _COLLECTIVES:
            m = re.search(rf"\s{kind}(-start)?\(", rhs)
            if m:
                result_type = rhs[: m.start()]
                nbytes = 0
                for dtype, dims in _SHAPE.findall(result_type):
                    n = 1
                    for d in filter(None, dims.split(",")):
                        n *= int(d)
                    nbytes += n * _BYTES.get(dtype, 4)
                if m.group(1):  # (operand, result) tuple of an async start: count the result half
                    nbytes //= 2
                out[kind][0] += 1
                out[kind][1] += nbytes
                break
    return {k: (v[0], v[1]) for k, v in sorted(out.items())}


def _specs_for(tree: object, specs: dict[str, P], mesh: jax.sharding.Mesh) -> object:
    """NamedShardings for a positional params tree or optimizer state (matched by path suffix)."""

    def one(path: tuple, leaf: object) -> NamedSharding:
        key = jax.tree_util.keystr(path)
        for suffix, spec in specs.items():
            if key.endswith(suffix):
                return NamedSharding(mesh, spec)
        return NamedSharding(mesh, P())

    return jax.tree_util.tree_map_with_path(one, tree)


def compiled_pair(strategy: str, mesh: jax.sharding.Mesh, specs: dict[str, P]) -> tuple[str, str]:
    """Optimized HLO text of the named and positional steps under ``strategy``."""
    policy = mp_policy("float32")
    model, n_opt, window, params, p_opt, raw = concrete_state(CONFIG, BATCH)
    param_mapping, compute_mapping = sharding_strategies.get(strategy)(model, mesh)
    with hax.set_mesh(mesh):
        named = hp.fsdp(named_step(optimizer(), policy), param_mapping, compute_mapping)
        n_text = named.lower(model, n_opt, window).compile().as_text()
    p_shard = _specs_for(params, specs, mesh)
    o_shard = _specs_for(p_opt, specs, mesh)
    batch_shard = NamedSharding(mesh, P(compute_mapping["batch"]))
    positional = jax.jit(
        positional_step(optimizer(), policy, "xla"),
        in_shardings=(p_shard, o_shard, batch_shard),
        out_shardings=(p_shard, o_shard, NamedSharding(mesh, P())),
    )
    p_text = positional.lower(params, p_opt, raw).compile().as_text()
    return n_text, p_text


def report(title: str, n_text: str, p_text: str) -> tuple[str, bool]:
    n, p = collectives(n_text), collectives(p_text)
    lines = [
        f"### {title}",
        "",
        "| collective | named count | positional count | named bytes | positional bytes | same |",
        "| --- | ---: | ---: | ---: | ---: | :---: |",
    ]
    same_all = True
    for kind in sorted(set(n) | set(p)):
        nc, nb = n.get(kind, (0, 0))
        pc, pb = p.get(kind, (0, 0))
        same = (nc, nb) == (pc, pb)
        same_all &= same
        lines.append(f"| {kind} | {nc} | {pc} | {nb:,} | {pb:,} | {'yes' if same else 'NO'} |")
    if not n and not p:
        lines.append("| (none) | 0 | 0 | 0 | 0 | yes |")
    return "\n".join(lines), same_all


def main() -> None:
    print(f"jax {jax.__version__}, {jax.device_count()} {jax.default_backend()} devices\n")
    auto = jax.sharding.AxisType.Auto
    cases = [
        ("fsdp", jax.make_mesh((8,), ("data",), axis_types=(auto,)), FSDP_SPECS, "FSDP, mesh {data: 8}"),
        (
            "tp",
            jax.make_mesh((2, 4), ("data", "model"), axis_types=(auto, auto)),
            TP_SPECS,
            "TP, mesh {data: 2, model: 4}",
        ),
    ]
    c = CONFIG
    for strategy, mesh, specs, label in cases:
        n_text, p_text = compiled_pair(strategy, mesh, specs)
        title = (
            f"Collectives: {label}, GPT {c.layers}L/{c.embed}d/{c.heads}h seq {c.seq_len} vocab {c.vocab}, "
            f"batch {BATCH}, AdamW step"
        )
        text, same = report(title, n_text, p_text)
        print(text)
        print(f"\nidentical collectives: {'yes' if same else 'NO'}\n")


if __name__ == "__main__":
    main()
