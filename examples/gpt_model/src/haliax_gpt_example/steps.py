"""Named and positional GPT training steps, and the program statistics the benchmarks compare.

Shared by ``benchmarks/bench_gpt.py`` and ``tests/test_hlo_regression.py``: one AdamW training step of the
named GPT (``haliax_gpt_example.model``) and of its positional twin (``haliax_gpt_example.positional``), built
the same way (same optimizer, same mixed-precision policy, same donation), plus counters for
jaxpr equations and compiled HLO instructions.
"""

from __future__ import annotations

import collections
import functools
import re
import warnings
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jmp
import optax

import haliax as hax
import haliax.nn as hnn

from . import positional as gpt_positional
from .model import GPT, GPTConfig
from .model import loss_fn as named_loss_fn

# Off GPU the named model's fused_attention falls back to the XLA reference and warns once; the
# benchmarks compare exactly that fallback, so the warning is noise here.
warnings.filterwarnings("ignore", category=hnn.attention.FusedAttentionFallbackWarning)


def optimizer() -> optax.GradientTransformation:
    """AdamW as the example trainer uses it (a fixed learning rate: schedules add nothing here)."""
    return optax.adamw(3e-4, weight_decay=0.1)


def mp_policy(compute: str) -> jmp.Policy:
    """float32 parameters and outputs, ``compute`` (float32 or bfloat16) inside the step."""
    return jmp.get_policy(f"params=float32,compute={compute},output=float32")


def named_step(opt: optax.GradientTransformation, policy: jmp.Policy) -> Callable[..., Any]:
    """``(model, opt_state, window) -> (model, opt_state, loss)`` for the named GPT."""

    def compute_loss(m: Any, window: Any) -> jax.Array:
        return named_loss_fn(policy.cast_to_compute(m), window).astype(jnp.float32)

    def step(m: Any, opt_state: Any, window: Any) -> tuple[Any, Any, jax.Array]:
        loss, grads = jax.value_and_grad(compute_loss)(m, window)
        updates, opt_state = opt.update(grads, opt_state, m)
        return optax.apply_updates(m, updates), opt_state, loss

    return step


def positional_step(
    opt: optax.GradientTransformation, policy: jmp.Policy, kind: str | None = None
) -> Callable[..., Any]:
    """The same step for the positional twin (raw arrays, raw window)."""

    def compute_loss(p: Any, window: Any) -> jax.Array:
        return gpt_positional.loss_fn(policy.cast_to_compute(p), window, kind=kind).astype(jnp.float32)

    def step(p: Any, opt_state: Any, window: Any) -> tuple[Any, Any, jax.Array]:
        loss, grads = jax.value_and_grad(compute_loss)(p, window)
        updates, opt_state = opt.update(grads, opt_state, p)
        return optax.apply_updates(p, updates), opt_state, loss

    return step


def set_named_attention(implementation: str | None) -> None:
    """Make the named GPT's ``fused_attention`` calls use ``implementation`` (None: the default).

    The example model does not expose the choice, so the benchmark rebinds the module attribute
    the model looks up at call time.
    """
    mod = hnn.attention
    orig = getattr(mod, "_bench_original_fused_attention", mod.fused_attention)
    mod._bench_original_fused_attention = orig  # type: ignore[attr-defined]  # benchmark-only bookkeeping
    mod.fused_attention = (
        orig if implementation is None else functools.partial(orig, implementation=implementation)
    )


def abstract_state(config: GPTConfig, batch: int) -> tuple[Any, Any, Any, Any, Any, Any]:
    """Shape-only (model, opt_state, window) for named and positional: enough to trace and compile."""
    opt = optimizer()
    model = eqx.filter_eval_shape(GPT.init, config, key=jax.random.PRNGKey(0))
    params = gpt_positional.strip_names(model)
    n_opt = jax.eval_shape(opt.init, model)
    p_opt = jax.eval_shape(opt.init, params)
    raw_window = jax.ShapeDtypeStruct((batch, config.seq_len + 1), jnp.int32)
    window = hax.NamedArray._new(
        raw_window, (hax.Axis("batch", batch), hax.Axis("window", config.seq_len + 1))
    )
    return model, n_opt, window, params, p_opt, raw_window


def concrete_state(config: GPTConfig, batch: int, seed: int = 0) -> tuple[Any, Any, Any, Any, Any, Any]:
    """Real (model, opt_state, window) for both variants: the same parameter values, separate buffers."""
    opt = optimizer()
    model = GPT.init(config, key=jax.random.PRNGKey(seed))
    # Separate buffers (the steps donate their inputs), same values.
    params = jax.tree.map(jnp.copy, gpt_positional.strip_names(model))
    raw = jax.random.randint(jax.random.PRNGKey(seed + 1), (batch, config.seq_len + 1), 0, config.vocab)
    window = hax.named(raw, (hax.Axis("batch", batch), hax.Axis("window", config.seq_len + 1)))
    return model, opt.init(model), window, params, opt.init(params), raw


def count_jaxpr_eqns(closed: Any) -> int:
    """Equations of a jaxpr, counting those of nested jaxprs (scan, checkpoint, custom_vjp bodies)."""

    def count(jaxpr: Any) -> int:
        n = 0
        for eqn in jaxpr.eqns:
            n += 1
            for v in eqn.params.values():
                for sub in v if isinstance(v, (tuple, list)) else (v,):
                    if hasattr(sub, "eqns"):
                        n += count(sub)
                    elif hasattr(sub, "jaxpr") and hasattr(sub.jaxpr, "eqns"):
                        n += count(sub.jaxpr)
        return n

    return count(closed.jaxpr)


_HLO_INSTR = re.compile(r"^\s*(?:ROOT\s+)?%?[\w.\-]+\s*=\s*(.*)$")
_OPCODE = re.compile(r"(?<![\w.\-%])([a-z][a-z0-9\-]*)\(")


def hlo_opcodes(hlo_text: str) -> collections.Counter[str]:
    """Instruction counts by opcode in an HLO module's text (every computation, fusions included)."""
    ops: collections.Counter[str] = collections.Counter()
    for line in hlo_text.splitlines():
        m = _HLO_INSTR.match(line)
        if not m or line.lstrip().startswith(("HloModule", "//")):
            continue
        op = _OPCODE.search(m.group(1))
        if op:
            ops[op.group(1)] += 1
    return ops


def hlo_op_count(compiled: Any) -> int:
    """Instructions in a compiled executable's optimized HLO, all computations."""
    return sum(hlo_opcodes(compiled.as_text()).values())


def temp_bytes(compiled: Any) -> int:
    """XLA's temporary buffer size for one run of a compiled executable."""
    return int(compiled.memory_analysis().temp_size_in_bytes)


def count_params(model: Any) -> dict[str, int]:
    """Parameter counts: all, the position table, the token table."""
    leaves = jax.tree.leaves(gpt_positional.strip_names(model))
    total = sum(int(x.size) for x in leaves)
    pos = int(model.position_embeddings.weight.array.size)
    tok = int(model.token_embeddings.weight.array.size)
    return {"total": total, "position_table": pos, "token_table": tok}
