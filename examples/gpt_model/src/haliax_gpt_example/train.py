"""The trainer behind ``examples/train_gpt.py``: arguments, data, train loop, eval, samples, checkpoints.

jax is imported only after the arguments are read, so ``--mesh`` can ask for simulated CPU devices.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pathlib
import time


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Train a small GPT with haliax on a text corpus.")
    p.add_argument("--text", help="UTF-8 text file to train on (default: Python's bundled reference docs)")
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--seq-len", type=int, default=128)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--embed", type=int, default=128)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--eval-every", type=int, default=200)
    p.add_argument("--sample-tokens", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/gpt", help="directory for the checkpoint, loss.png and samples.txt")
    p.add_argument("--resume", action="store_true", help="continue from the checkpoint in --out")
    p.add_argument(
        "--compute-dtype", choices=["float32", "bfloat16"], help="default: bfloat16 on GPU, float32 on CPU"
    )
    p.add_argument(
        "--checkpointing",
        default="false",
        help="Stacked gradient checkpointing: false, true, offload, nested, ...",
    )
    p.add_argument("--mesh", help="device mesh, e.g. data=4,model=2 (simulated CPU devices when needed)")
    p.add_argument(
        "--strategy", default="dp", help="sharding strategy from the registry: dp, fsdp, tp, fsdp+tp, ..."
    )
    p.add_argument("--no-progress", action="store_true", help="plain log lines instead of a progress bar")
    return p.parse_args(argv)


def parse_mesh(spec: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for part in spec.split(","):
        name, _, size = part.partition("=")
        if not name or not size.isdigit() or int(size) < 1:
            raise SystemExit(f"--mesh: expected name=size pairs like data=4,model=2, got {spec!r}")
        out[name.strip()] = int(size)
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    mesh_shape = parse_mesh(args.mesh) if args.mesh else None
    if mesh_shape:
        n = math.prod(mesh_shape.values())
        flags = os.environ.get("XLA_FLAGS", "")
        if "xla_force_host_platform_device_count" not in flags:
            os.environ["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={n}".strip()

    from . import data

    try:
        text = data.load_text(args.text)
        tokens = data.encode(text)
        train_tokens, eval_tokens = data.split(tokens, args.seq_len)
    except data.DataError as e:
        print(f"error: {e}")
        return 2
    return _train(args, mesh_shape, train_tokens, eval_tokens)


def _train(args, mesh_shape, train_tokens, eval_tokens) -> int:
    import equinox as eqx
    import jax
    import jax.numpy as jnp
    import jmp
    import numpy as np
    import optax

    import haliax as hax
    import haliax.state_dict as hsd

    from . import data
    from .model import GPT, GPTConfig, loss_fn

    on_gpu = jax.default_backend() == "gpu"
    compute = args.compute_dtype or ("bfloat16" if on_gpu else "float32")
    policy = jmp.get_policy(f"params=float32,compute={compute},output=float32")

    config = GPTConfig(
        vocab=256,
        seq_len=args.seq_len,
        embed=args.embed,
        heads=args.heads,
        layers=args.layers,
        gradient_checkpointing=checkpoint_policy_arg(args.checkpointing),
    )
    Batch = hax.Axis("batch", args.batch_size)
    Window = hax.Axis("window", args.seq_len + 1)
    out_dir = pathlib.Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)

    key = jax.random.PRNGKey(args.seed)
    model = GPT.init(config, key=key)
    schedule = optax.warmup_cosine_decay_schedule(
        0.0, args.lr, min(50, args.steps // 10 + 1), args.steps, args.lr * 0.1
    )
    optimizer = optax.chain(
        optax.clip_by_global_norm(1.0), optax.adamw(schedule, weight_decay=args.weight_decay)
    )
    opt_state = optimizer.init(eqx.filter(model, eqx.is_array))
    start_step = 0
    history: list[tuple[int, float]] = []

    ckpt = out_dir / "checkpoint.safetensors"
    meta_path = out_dir / "checkpoint.json"
    if args.resume:
        if not ckpt.exists():
            print(f"error: --resume: no checkpoint at {ckpt}; train once without --resume first")
            return 2
        state = hsd.load_state_dict(str(ckpt))
        model = hsd.from_state_dict(model, state, prefix="model")
        opt_state = hsd.from_state_dict(opt_state, state, prefix="opt")
        meta = json.loads(meta_path.read_text())
        start_step, history = meta["step"], [tuple(h) for h in meta["history"]]
        print(f"resumed from {ckpt} at step {start_step}")

    mesh = None
    compute_mapping: dict = {}
    if mesh_shape:
        from haliax import partitioning as hp
        from haliax.registry import sharding_strategies

        auto = (jax.sharding.AxisType.Auto,) * len(mesh_shape)  # sharding constraints need Auto axes
        mesh = jax.make_mesh(tuple(mesh_shape.values()), tuple(mesh_shape.keys()), axis_types=auto)
        strategy = sharding_strategies.get(args.strategy)
        param_mapping, compute_mapping = strategy(model, mesh)
        with hp.set_mesh(mesh):
            model = hp.shard(model, param_mapping)
            opt_state = hp.shard(opt_state, param_mapping)
        print(
            f"mesh {mesh_shape}, strategy {args.strategy!r}: params {param_mapping}, compute {compute_mapping}"
        )

    def compute_loss(m, batch):
        return loss_fn(policy.cast_to_compute(m), batch).astype(jnp.float32)

    @eqx.filter_jit(donate="all-except-first")
    def train_step(m, opt, batch):
        loss, grads = eqx.filter_value_and_grad(compute_loss)(m, batch)
        updates, opt = optimizer.update(grads, opt, eqx.filter(m, eqx.is_array))
        return eqx.apply_updates(m, updates), opt, loss

    eval_loss = eqx.filter_jit(compute_loss)

    def named_batch(arr):
        return hax.named(jnp.asarray(arr), (Batch, Window))

    def run(fn, *a):
        if mesh is None:
            return fn(*a)
        from haliax import partitioning as hp

        with hp.set_mesh(mesh), hp.axis_mapping(compute_mapping):
            return fn(*a)

    def evaluate() -> float:
        it = data.batches(eval_tokens, args.batch_size, args.seq_len, seed=1234)
        return float(np.mean([float(run(eval_loss, model, named_batch(next(it)))) for _ in range(4)]))

    stream = data.batches(train_tokens, args.batch_size, args.seq_len, seed=args.seed + start_step)
    tokens_per_step = args.batch_size * args.seq_len
    bar = _progress(range(start_step, args.steps), disable=args.no_progress)
    t0, seen = time.perf_counter(), 0
    first_loss = None
    for step in bar:
        model, opt_state, loss = run(train_step, model, opt_state, named_batch(next(stream)))
        loss_v = float(loss)
        first_loss = loss_v if first_loss is None else first_loss
        history.append((step + 1, loss_v))
        if step > start_step:  # the first step compiles; leave it out of the rate
            seen += tokens_per_step
        rate = seen / max(time.perf_counter() - t0, 1e-9)
        if step == start_step:
            t0 = time.perf_counter()
        _report(bar, step + 1, loss_v, rate, args.no_progress)
        if (step + 1) % args.eval_every == 0 or step + 1 == args.steps:
            ev = evaluate()
            _write(bar, f"step {step + 1}: train loss {loss_v:.3f}, eval loss {ev:.3f}")

    state = {**hsd.to_state_dict(model, prefix="model"), **hsd.to_state_dict(opt_state, prefix="opt")}
    hsd.save_state_dict(state, str(ckpt))
    meta_path.write_text(json.dumps({"step": args.steps, "history": history}))
    _plot(history, out_dir / "loss.png")
    sample = _sample(model, config, policy, args.sample_tokens, jax.random.PRNGKey(args.seed + 1))
    (out_dir / "samples.txt").write_text(sample)
    print(f"\nsaved {ckpt}, {out_dir / 'loss.png'}, {out_dir / 'samples.txt'}")
    if first_loss is not None:
        print(f"loss {first_loss:.3f} -> {history[-1][1]:.3f}")
    print("sample:\n" + "\n".join(sample.splitlines()[:6]))
    return 0


def checkpoint_policy_arg(value: str) -> bool | str:
    """A ``--checkpointing`` value as GPTConfig.gradient_checkpointing: False, True or a policy name."""
    v = value.lower()
    if v in ("false", "0", "no", "none"):
        return False
    if v in ("true", "1", "yes"):
        return True
    return v


def _progress(it, disable: bool):
    if disable:
        return it
    try:
        from tqdm.auto import tqdm
    except ImportError:  # the demo extra is not installed: plain log lines
        return it
    return tqdm(it, unit="step", dynamic_ncols=True)


def _report(bar, step: int, loss: float, rate: float, plain: bool) -> None:
    if hasattr(bar, "set_postfix"):
        bar.set_postfix(loss=f"{loss:.3f}", tok_s=f"{rate:,.0f}")
    elif step % 10 == 0:
        print(f"step {step}: loss {loss:.3f}, {rate:,.0f} tokens/s", flush=True)


def _write(bar, line: str) -> None:
    if hasattr(bar, "write"):
        bar.write(line)
    else:
        print(line, flush=True)


def _plot(history, path: pathlib.Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: skipping loss.png")
        return
    steps, losses = zip(*history, strict=True)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(steps, losses, lw=1)
    ax.set_xlabel("step")
    ax.set_ylabel("train loss (nats/byte)")
    ax.set_title("GPT on named tensors")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _sample(model, config, policy, n_tokens: int, key, prompt: str = "The ") -> str:
    import equinox as eqx
    import jax
    import jax.numpy as jnp
    import numpy as np

    import haliax as hax

    from . import data

    buf = np.zeros(config.seq_len, dtype=np.int32)
    ids = list(data.encode(prompt))

    @eqx.filter_jit
    def next_logits(m, tokens, i):
        logits = policy.cast_to_compute(m)(hax.named(tokens, (config.Pos,)))
        return logits["position", i].array.astype(jnp.float32)

    for _ in range(n_tokens):
        window = ids[-config.seq_len :]
        buf[:] = 0
        buf[: len(window)] = window
        logits = next_logits(model, jnp.asarray(buf), len(window) - 1)
        key, sub = jax.random.split(key)
        ids.append(int(jax.random.categorical(sub, logits / 0.8)))
    return data.decode(np.array(ids))
