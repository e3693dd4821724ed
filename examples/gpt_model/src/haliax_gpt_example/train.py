"""The trainer behind ``examples/train_gpt.py``: run directory, data, train loop, eval, samples, checkpoints.

One process or many: under ``jax.distributed`` every process runs this same code on its own
devices, reads only its rows of each batch, and process 0 alone logs and writes files. JAX is
imported only after the flags are read, so ``--mesh`` can ask for simulated CPU devices.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import pathlib
import time
import warnings

from . import cli

DEFAULT_OUT = pathlib.Path("runs/gpt")
RUN_CONFIG = "config.json"  # marks a run directory; the run's settings
HISTORY = "history.json"  # [[step, train loss], ...] up to the last checkpoint
# Files a run writes (``--overwrite`` deletes these and nothing else).
RUN_FILES = (
    RUN_CONFIG,
    HISTORY,
    "checkpoints",
    "model.safetensors",
    "loss.png",
    "samples.txt",
)


def main(argv: list[str] | None = None) -> int:
    """Run the trainer with command-line arguments ``argv``; returns the exit status."""
    parser, args, given = cli.parse(argv)
    mesh_shape = cli.parse_mesh(parser, args.mesh) if args.mesh else None
    run_dir = _run_dir(parser, args, given)

    from . import data, processes

    try:
        text = data.load_text(args.text)
        tokens = data.encode(text)
        train_tokens, eval_tokens = data.split(tokens, args.seq_len)
    except data.DataError as e:
        print(f"error: {e}")
        return 2
    processes.simulate_cpu_devices(mesh_shape, args.num_processes)
    try:
        distributed = processes.initialize(args)
    except (RuntimeError, ValueError) as e:
        if not args.distributed:
            raise
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        parser.error(
            f"--distributed: JAX found no cluster to join ({first}); "
            "on other machines pass --coordinator, --num-processes and --process-id"
        )
    try:
        return _train(parser, args, mesh_shape, run_dir, train_tokens, eval_tokens)
    finally:
        if distributed:
            processes.shutdown()


def _run_dir(parser: argparse.ArgumentParser, args: argparse.Namespace, given: set[str]) -> pathlib.Path:
    """The run directory, checked against ``--resume``/``--overwrite``; on resume, ``args`` takes the stored settings.

    Only reads the filesystem: every process of a job reaches the same answer before any writes.
    """
    if args.resume:
        run_dir = pathlib.Path(args.out) if args.out else _latest_run()
        if run_dir is None or not (run_dir / RUN_CONFIG).exists():
            where = run_dir or f"{DEFAULT_OUT}*"
            parser.error(f"--resume: no run in {where}; train once without --resume first")
        stored = json.loads((run_dir / RUN_CONFIG).read_text())
        for flag, key in cli.RUN_DEFINING.items():
            mine = getattr(args, key)
            if key == "text" and mine is not None:
                mine = str(pathlib.Path(mine).resolve())
            if flag in given and mine != stored[key]:
                parser.error(
                    f"{flag} {getattr(args, key)} conflicts with the run in {run_dir} ({key}={stored[key]}); "
                    f"drop {flag} to resume it, or start a new run with another --out"
                )
            setattr(args, key, stored[key])
        if "--steps" not in given:
            args.steps = stored["steps"]
        return run_dir
    if args.out is not None:
        run_dir = pathlib.Path(args.out)
        if (run_dir / RUN_CONFIG).exists() and not args.overwrite:
            parser.error(
                f"--out {run_dir} holds a run already; pass --resume to continue it, "
                "--overwrite to replace it, or another --out"
            )
        return run_dir
    # No --out: runs/gpt, or the first of runs/gpt-2, runs/gpt-3, ... that holds no run.
    run_dir, n = DEFAULT_OUT, 1
    while (run_dir / RUN_CONFIG).exists() and not args.overwrite:
        n += 1
        run_dir = DEFAULT_OUT.with_name(f"{DEFAULT_OUT.name}-{n}")
    return run_dir


def _latest_run() -> pathlib.Path | None:
    runs = [p.parent for p in DEFAULT_OUT.parent.glob(f"{DEFAULT_OUT.name}*/{RUN_CONFIG}")]
    return max(runs, key=lambda p: (p / RUN_CONFIG).stat().st_mtime, default=None)


def _run_config(args: argparse.Namespace) -> dict:
    """The settings stored with the run: what ``--resume`` reuses (model shape, data, optimizer)."""
    out = {key: getattr(args, key) for key in cli.RUN_DEFINING.values()}
    if out["text"] is not None:
        out["text"] = str(pathlib.Path(out["text"]).resolve())
    return {**out, "steps": args.steps, "vocab": 256}


def _train(
    parser: argparse.ArgumentParser,
    args: argparse.Namespace,
    mesh_shape: dict[str, int] | None,
    run_dir: pathlib.Path,
    train_tokens,
    eval_tokens,
) -> int:
    import equinox as eqx
    import jax
    import jax.numpy as jnp
    import jmp
    import numpy as np
    import optax

    import haliax as hax
    import haliax.nn as hnn

    # Training state: orbax (sharded, multi-host, async); weights.py: the safetensors export.
    from . import checkpoint as checkpoints
    from . import data, processes, sampling, weights
    from .model import GPT, GPTConfig, loss_fn

    main_process = processes.is_main()

    def say(line: str) -> None:
        if main_process:
            print(line, flush=True)

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
    run_config = _run_config(args)
    Batch = hax.Axis("batch", args.batch_size)
    Window = hax.Axis("window", args.seq_len + 1)

    mesh, param_mapping, compute_mapping = _mesh(parser, args, mesh_shape, config)

    def run(fn, *a):
        """``fn(*a)`` under the mesh and the compute axis mapping (when there is a mesh)."""
        if mesh is None:
            return fn(*a)
        from haliax import partitioning as hp

        with hp.set_mesh(mesh), hp.axis_mapping(compute_mapping):
            return fn(*a)

    warmup = min(50, args.steps // 10 + 1)
    schedule = optax.warmup_cosine_decay_schedule(
        0.0, args.lr, warmup, max(args.steps, warmup + 1), args.lr * 0.1
    )
    optimizer = optax.chain(
        optax.clip_by_global_norm(1.0), optax.adamw(schedule, weight_decay=args.weight_decay)
    )

    def init_state():
        model = GPT.init(config, key=jax.random.PRNGKey(args.seed))
        return model, optimizer.init(eqx.filter(model, eqx.is_array))

    def place(tree):
        """``tree``'s arrays laid out by the parameter mapping (no-op without a mesh)."""
        if mesh is None:
            return tree
        from haliax import partitioning as hp

        with hp.set_mesh(mesh):
            return hp.shard(tree, param_mapping)

    n_params = sum(
        x.size for x in jax.tree.leaves(eqx.filter_eval_shape(GPT.init, config, key=jax.random.PRNGKey(0)))
    )
    say(
        f"{run_dir}: {n_params / 1e6:.2f}M parameters, {args.batch_size}x{args.seq_len} tokens a step, "
        f"{args.steps} steps on {jax.device_count()} {jax.default_backend()} device(s)"
        + (f" in {jax.process_count()} processes" if jax.process_count() > 1 else "")
    )
    say("initializing the model...")
    if mesh is None:
        model, opt_state = eqx.filter_jit(init_state)()
    else:
        from haliax import partitioning as hp

        # Each device computes only its own blocks of the initial weights.
        with hp.set_mesh(mesh):
            model, opt_state = hp.named_jit(init_state, out_axis_resources=param_mapping)()

    start_step, history = 0, []
    if args.resume:
        restored = checkpoints.restore_latest(run_dir, model, opt_state)
        if restored is None:
            parser.error(
                f"--resume: {run_dir} has no checkpoint yet (the run stopped before its first save); "
                "start it again with --overwrite"
            )
        start_step, model, opt_state, _, _ = restored
        model, opt_state = place(model), place(opt_state)
        history = [tuple(h) for h in _read_json(run_dir / HISTORY, []) if h[0] <= start_step]
        if start_step >= args.steps:
            say(
                f"--resume: the run in {run_dir} already finished {start_step} of {args.steps} steps; "
                f"pass --steps N with N > {start_step} to train further"
            )
            return 0
        say(f"resumed {run_dir} at step {start_step} of {args.steps}")
    elif main_process:
        run_dir.mkdir(parents=True, exist_ok=True)
        for name in RUN_FILES:
            _remove(run_dir / name)
        (run_dir / RUN_CONFIG).write_text(json.dumps(run_config, indent=1))
    if args.resume and main_process:  # longer --steps on resume: the stored target follows
        (run_dir / RUN_CONFIG).write_text(json.dumps(run_config, indent=1))

    def compute_loss(m, batch):
        return loss_fn(policy.cast_to_compute(m), batch).astype(jnp.float32)

    @eqx.filter_jit(donate="all-except-first")
    def train_step(m, opt, batch):
        loss, grads = eqx.filter_value_and_grad(compute_loss)(m, batch)
        updates, opt = optimizer.update(grads, opt, eqx.filter(m, eqx.is_array))
        return eqx.apply_updates(m, updates), opt, loss

    eval_loss = eqx.filter_jit(compute_loss)
    batch_sharding = None
    if mesh is not None:
        from haliax import partitioning as hp

        batch_sharding = hp.sharding_for_axis((Batch, Window), compute_mapping, mesh)

    def make_batch(stream: np.ndarray, starts: np.ndarray) -> hax.NamedArray:
        """The global batch whose windows start at ``starts``; this process reads only its rows."""
        if batch_sharding is None:
            return hax.named(jnp.asarray(data.windows(stream, starts, args.seq_len)), (Batch, Window))
        arr = processes.global_batch(
            lambda a, b: data.windows(stream, starts[a:b], args.seq_len),
            (Batch.size, Window.size),
            batch_sharding,
        )
        return hax.named(arr, (Batch, Window))

    def train_batch(step: int) -> hax.NamedArray:
        starts = data.window_starts(len(train_tokens), args.batch_size, args.seq_len, args.seed, step)
        return make_batch(train_tokens, starts)

    def evaluate(m) -> float:
        losses = []
        for i in range(4):
            starts = data.window_starts(len(eval_tokens), args.batch_size, args.seq_len, 1234, i)
            losses.append(_scalar(run(eval_loss, m, make_batch(eval_tokens, starts))))
        return float(np.mean(losses))

    def save(step: int, wait: bool = False) -> None:
        checkpoints.save(run_dir, step, model, opt_state, config=run_config, data_position=step, wait=wait)
        if main_process:
            (run_dir / HISTORY).write_text(json.dumps(history))

    tokens_per_step = args.batch_size * args.seq_len
    step = start_step
    with warnings.catch_warnings():  # the filters set below end with the run
        # The first compile announces an attention-kernel fallback (cuDNN needs a GPU) once, before
        # the progress bar; later compiles (eval, sampling) stay quiet about it.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", hnn.attention.FusedAttentionFallbackWarning)
            say("compiling the train step" + (" and the eval step..." if args.eval_every else "..."))
            t = time.perf_counter()
            ev0 = evaluate(model) if args.eval_every else None
            model, opt_state, loss = run(train_step, model, opt_state, train_batch(step))
            first_loss = _scalar(loss)
        for w in caught:
            if issubclass(w.category, hnn.attention.FusedAttentionFallbackWarning):
                say(f"note: {w.message}")
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        warnings.simplefilter("ignore", hnn.attention.FusedAttentionFallbackWarning)
        step += 1
        history.append((step, first_loss))
        say(
            f"step {step}: train loss {first_loss:.3f}"
            + (f", eval loss before it {ev0:.3f}" if ev0 is not None else "")
            + f" (compiled in {time.perf_counter() - t:.1f}s)"
        )

        bar = _progress(args.steps, step, disable=args.no_progress or not main_process)
        t0, seen = time.perf_counter(), 0
        try:
            while step < args.steps:
                batch = train_batch(step)
                # The new state and its step number move together, so Ctrl-C saves a consistent pair.
                model, opt_state, loss = run(train_step, model, opt_state, batch)
                step += 1
                loss_v = _scalar(loss)
                history.append((step, loss_v))
                seen += tokens_per_step
                rate = seen / max(time.perf_counter() - t0, 1e-9)
                if main_process:
                    _report(bar, step, loss_v, rate)
                if args.eval_every and (step % args.eval_every == 0 or step == args.steps):
                    ev = evaluate(model)
                    if main_process:
                        _write(bar, f"step {step}: train loss {loss_v:.3f}, eval loss {ev:.3f}")
                if args.save_every and step % args.save_every == 0 and step < args.steps:
                    save(step)
        except KeyboardInterrupt:
            _close(bar)
            say(f"\ninterrupted at step {step}: saving a checkpoint to {run_dir} ...")
            try:
                save(step, wait=True)
                checkpoints.wait_until_finished(run_dir)
                say(f"saved; continue with --resume --out {run_dir}")
            except Exception as e:  # interrupted inside a step whose inputs were already donated
                say(f"could not save step {step} ({type(e).__name__}); the last saved checkpoint stands")
            return 130
        _close(bar)

        say(f"saving the checkpoint and model.safetensors to {run_dir} ...")
        save(step, wait=True)
        weights.export_weights(model, run_dir / "model.safetensors")
        if main_process:
            _plot(history, run_dir / "loss.png")
        sample = ""
        if args.sample_tokens:
            say(f"sampling {args.sample_tokens} tokens...")
            sample = sampling.sample(model, args.sample_tokens, args.seed + 1, policy=policy, run=run)
        checkpoints.wait_until_finished(run_dir)
    if main_process:
        (run_dir / "samples.txt").write_text(sample)
        print(f"saved {run_dir}/: checkpoint, model.safetensors, loss.png, samples.txt")
        print(f"loss {history[0][1]:.3f} -> {history[-1][1]:.3f}")
        if sample:
            print("sample:\n" + "\n".join(sample.splitlines()[:6]))
    return 0


def _mesh(
    parser: argparse.ArgumentParser, args: argparse.Namespace, mesh_shape: dict[str, int] | None, config
):
    """The mesh and the strategy's (parameter, compute) mappings; flag-level errors for misfits."""
    import equinox as eqx
    import jax

    if mesh_shape is None and jax.process_count() > 1:
        mesh_shape = {"data": jax.device_count()}  # several processes and no --mesh: data parallel
    if mesh_shape is None:
        return None, {}, {}
    import math

    from haliax.errors import HaliaxError
    from haliax.registry import sharding_strategies

    spec = args.mesh or ",".join(f"{k}={v}" for k, v in mesh_shape.items())
    n = math.prod(mesh_shape.values())
    # One process may use the first n of its devices; a job of several processes uses all of them.
    if n > jax.device_count() or (n < jax.device_count() and jax.process_count() > 1):
        parser.error(
            f"--mesh {spec} needs {n} devices; this job has {jax.device_count()} {jax.default_backend()} "
            f"device(s); use a mesh of {jax.device_count()} devices"
        )
    name = args.strategy or "dp"
    try:
        strategy = sharding_strategies.get(name)
    except LookupError as e:
        parser.error(
            f"--strategy: {str(e).split('. To add', 1)[0].removeprefix('haliax.sharding_strategies: ')}"
        )
    auto = (jax.sharding.AxisType.Auto,) * len(mesh_shape)  # sharding constraints need Auto axes
    mesh = jax.make_mesh(
        tuple(mesh_shape.values()), tuple(mesh_shape.keys()), axis_types=auto, devices=jax.devices()[:n]
    )
    from .model import GPT

    abstract = eqx.filter_eval_shape(GPT.init, config, key=jax.random.PRNGKey(0))
    try:
        param_mapping, compute_mapping = strategy(abstract, mesh)
    except HaliaxError as e:
        parser.error(f"--mesh {spec} --strategy {name}: {str(e).splitlines()[0]}")
    compute_mapping = dict(compute_mapping)
    if "seq" in mesh_shape:
        if args.seq_len % mesh_shape["seq"]:
            parser.error(
                f"--seq-len {args.seq_len} does not split over seq={mesh_shape['seq']}; use a multiple"
            )
        compute_mapping["position"] = "seq"
    batch_axes = compute_mapping.get("batch")
    batch_axes = (batch_axes,) if isinstance(batch_axes, str) else tuple(batch_axes or ())
    split = math.prod(mesh_shape[a] for a in batch_axes)
    if args.batch_size % split:
        parser.error(
            f"--batch-size {args.batch_size} does not split over the batch axes "
            f"{'x'.join(f'{a}={mesh_shape[a]}' for a in batch_axes)} of --mesh {spec}; use a multiple of {split}"
        )
    if jax.process_index() == 0:
        print(f"mesh {spec}, strategy {name!r}: params {param_mapping}, compute {compute_mapping}")
    return mesh, param_mapping, compute_mapping


def checkpoint_policy_arg(value: str) -> bool | str:
    """A ``--checkpointing`` value as GPTConfig.gradient_checkpointing: False, True or a policy name."""
    v = value.lower()
    if v in ("false", "0", "no", "none"):
        return False
    if v in ("true", "1", "yes"):
        return True
    return v


def _scalar(x) -> float:
    """A replicated scalar's value (any device's copy; works for arrays spanning processes)."""
    import numpy as np

    return float(np.asarray(x.addressable_data(0)))


def _read_json(path: pathlib.Path, default):
    return json.loads(path.read_text()) if path.exists() else default


def _remove(path: pathlib.Path) -> None:
    import shutil

    if path.is_dir():
        shutil.rmtree(path)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _progress(total: int, initial: int, disable: bool):
    if disable:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # the demo extra is not installed: plain log lines
        return None
    return tqdm(total=total, initial=initial, unit="step", dynamic_ncols=True)


def _report(bar, step: int, loss: float, rate: float) -> None:
    if bar is not None:
        bar.update(1)
        bar.set_postfix(loss=f"{loss:.3f}", tok_s=f"{rate:,.0f}", refresh=False)
    elif step % 10 == 0:
        print(f"step {step}: loss {loss:.3f}, {rate:,.0f} tokens/s", flush=True)


def _write(bar, line: str) -> None:
    if bar is not None:
        bar.write(line)
    else:
        print(line, flush=True)


def _close(bar) -> None:
    if bar is not None:
        bar.close()


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
