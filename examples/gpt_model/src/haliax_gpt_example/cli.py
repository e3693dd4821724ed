"""The trainer's command line: options, their help, and the checks that need no JAX.

Every check here ends in ``parser.error``: one line naming the flag and the fix, exit status 2.
Checks that need the model or the devices (a mesh that does not divide the model, an unknown
strategy) run later in the trainer, through the same parser.
"""

from __future__ import annotations

import argparse
import math

#: Mesh axis names the demo knows: the strategies' batch and model axes, and ``seq`` for
#: sequence (context) parallelism.
MESH_AXES = ("replica", "data", "model", "seq")

#: Options that define a run. ``--resume`` takes them from the stored run config; giving one
#: with another value is an error (flag -> key in the stored config).
RUN_DEFINING = {
    "--text": "text",
    "--batch-size": "batch_size",
    "--seq-len": "seq_len",
    "--layers": "layers",
    "--embed": "embed",
    "--heads": "heads",
    "--lr": "lr",
    "--weight-decay": "weight_decay",
    "--seed": "seed",
}


def _positive_int(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return n


def _non_negative_int(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {value!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {value}")
    return n


def build_parser(*, suppress_defaults: bool = False) -> argparse.ArgumentParser:
    """The argument parser. With ``suppress_defaults`` the namespace holds only the flags given."""

    def default(value):
        return argparse.SUPPRESS if suppress_defaults else value

    p = argparse.ArgumentParser(
        prog="train_gpt.py",
        description="Train a small byte-level GPT with haliax on a text corpus.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    g = p.add_argument_group("data and model")
    g.add_argument(
        "--text",
        default=default(None),
        help="UTF-8 text file to train on (default: Python's bundled reference docs)",
    )
    g.add_argument("--seq-len", type=_positive_int, default=default(128), help="tokens (bytes) per sequence")
    g.add_argument("--layers", type=_positive_int, default=default(4), help="transformer blocks")
    g.add_argument("--embed", type=_positive_int, default=default(128), help="model width")
    g.add_argument(
        "--heads", type=_positive_int, default=default(4), help="attention heads; must divide --embed"
    )
    g = p.add_argument_group("training")
    g.add_argument(
        "--steps", type=_positive_int, default=default(400), help="total optimizer steps of the run"
    )
    g.add_argument(
        "--batch-size", type=_positive_int, default=default(16), help="global batch size (sequences per step)"
    )
    g.add_argument("--lr", type=float, default=default(3e-3), help="peak learning rate (warmup, then cosine)")
    g.add_argument("--weight-decay", type=float, default=default(0.1), help="AdamW weight decay")
    g.add_argument(
        "--seed", type=int, default=default(0), help="seed for the initial weights and the data order"
    )
    g.add_argument(
        "--compute-dtype",
        choices=["float32", "bfloat16"],
        default=default(None),
        help="compute precision (default: bfloat16 on GPU, float32 on CPU)",
    )
    g.add_argument(
        "--checkpointing",
        default=default("false"),
        help="gradient checkpointing of the Stacked blocks: false, true, offload, nested, ...",
    )
    g = p.add_argument_group("outputs and checkpoints")
    g.add_argument(
        "--out",
        default=default(None),
        help="run directory (default: runs/gpt, or runs/gpt-2, -3, ... when it holds an earlier run)",
    )
    g.add_argument(
        "--resume",
        action="store_true",
        default=default(False),
        help="continue the run in --out (default: the latest runs/gpt*) from its last checkpoint",
    )
    g.add_argument(
        "--overwrite",
        action="store_true",
        default=default(False),
        help="start a new run in --out even if it holds one (the old run is deleted)",
    )
    g.add_argument(
        "--save-every",
        type=_non_negative_int,
        default=default(200),
        help="save a checkpoint every N steps (0: only at the end and on Ctrl-C)",
    )
    g.add_argument(
        "--eval-every",
        type=_non_negative_int,
        default=default(200),
        help="report the eval loss every N steps, at the start and at the end (0: never)",
    )
    g.add_argument(
        "--sample-tokens",
        type=_non_negative_int,
        default=default(200),
        help="bytes of text to sample at the end",
    )
    g.add_argument(
        "--no-progress",
        action="store_true",
        default=default(False),
        help="plain log lines instead of a progress bar",
    )
    g = p.add_argument_group("devices and processes")
    g.add_argument(
        "--mesh",
        default=default(None),
        help="device mesh, e.g. data=4,model=2 or data=2,seq=4 (simulated CPU devices when needed); "
        f"axes: {', '.join(MESH_AXES)}",
    )
    g.add_argument(
        "--strategy",
        default=default(None),
        help="sharding strategy from the registry (dp, fsdp, tp, fsdp+tp, ...); needs --mesh (default: dp)",
    )
    g.add_argument(
        "--coordinator",
        default=default(None),
        metavar="ADDR:PORT",
        help="jax.distributed coordinator (process 0's address); with --num-processes and --process-id",
    )
    g.add_argument(
        "--num-processes", type=_positive_int, default=default(None), help="number of processes in the job"
    )
    g.add_argument(
        "--process-id", type=_non_negative_int, default=default(None), help="this process's index, 0 .. N-1"
    )
    g.add_argument(
        "--distributed",
        action="store_true",
        default=default(False),
        help="call jax.distributed.initialize() with no arguments: JAX detects SLURM, TPU pods, ...",
    )
    return p


def parse_mesh(parser: argparse.ArgumentParser, spec: str) -> dict[str, int]:
    """``data=4,model=2`` as ``{"data": 4, "model": 2}``; a bad spec is a ``--mesh`` error."""
    out: dict[str, int] = {}
    for part in spec.split(","):
        name, _, size = part.partition("=")
        name = name.strip()
        if not name or not size.strip().isdigit() or int(size) < 1:
            parser.error(f"--mesh: expected name=size pairs like data=4,model=2, got {spec!r}")
        if name not in MESH_AXES:
            parser.error(f"--mesh: unknown axis {name!r} in {spec!r}; use {', '.join(MESH_AXES)}")
        if name in out:
            parser.error(f"--mesh: axis {name!r} appears twice in {spec!r}")
        out[name] = int(size)
    return out


def parse(argv: list[str] | None) -> tuple[argparse.ArgumentParser, argparse.Namespace, set[str]]:
    """The parser, the options (defaults filled in) and the set of flags given explicitly."""
    parser = build_parser()
    args = parser.parse_args(argv)
    given = {"--" + k.replace("_", "-") for k in vars(build_parser(suppress_defaults=True).parse_args(argv))}
    check(parser, args, given)
    return parser, args, given


def check(parser: argparse.ArgumentParser, args: argparse.Namespace, given: set[str]) -> None:
    """The checks that need neither JAX nor the run directory."""
    if args.embed % args.heads:
        parser.error(
            f"--heads {args.heads} does not divide --embed {args.embed}; "
            f"pick heads among {_divisors(args.embed)} or change --embed"
        )
    if args.resume and args.overwrite:
        parser.error("--resume and --overwrite contradict each other; pass one of them")
    explicit = {"--coordinator", "--num-processes", "--process-id"} & given
    if explicit and explicit != {"--coordinator", "--num-processes", "--process-id"}:
        parser.error(
            "--coordinator, --num-processes and --process-id go together; also give "
            + ", ".join(sorted({"--coordinator", "--num-processes", "--process-id"} - explicit))
        )
    if explicit and args.distributed:
        parser.error(
            "--distributed detects the cluster itself; drop it or drop --coordinator/--num-processes/--process-id"
        )
    if args.coordinator is not None:
        host, _, port = args.coordinator.rpartition(":")
        if not host or not port.isdigit():
            parser.error(f"--coordinator: expected ADDR:PORT like 10.0.0.1:1234, got {args.coordinator!r}")
        if args.process_id >= args.num_processes:
            parser.error(
                f"--process-id {args.process_id} is out of range for --num-processes {args.num_processes}"
            )
    distributed = args.distributed or args.coordinator is not None
    if args.strategy is not None and args.mesh is None and not distributed:
        parser.error(f"--strategy {args.strategy} needs a device mesh: add e.g. --mesh data=4")
    if args.mesh is not None:
        shape = parse_mesh(parser, args.mesh)
        n = math.prod(shape.values())
        if args.num_processes is not None and n % args.num_processes:
            parser.error(
                f"--mesh {args.mesh} has {n} devices, which --num-processes {args.num_processes} does not divide; "
                "give each process the same number of devices"
            )


def _divisors(n: int) -> str:
    return ", ".join(str(d) for d in range(1, n + 1) if n % d == 0 and d <= 64)
