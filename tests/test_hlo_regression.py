"""Names must cost nothing under jit: the named GPT's compiled step against its positional twin.

Compiles one AdamW training step of the named reference GPT (haliax_gpt_example.model) and of the
hand-written positional twin (haliax_gpt_example.positional) on CPU at a tiny size, and fails if
the named program drifts above the positional one by more than the allowances below. Nothing
is timed: instruction counts and XLA's temp-buffer size are deterministic for a given jax/XLA.

Allowances: the two programs are the same math, and today the named one is no larger (it was
2735 vs 2759 HLO instructions, equal temp bytes, at the benchmark size). 2% leaves room for
XLA's fusion decisions shifting between versions, not for a real extra op per layer.
"""

from __future__ import annotations

import warnings

import jax
import pytest
from haliax_gpt_example import positional as gpt_positional
from haliax_gpt_example import steps as gpt_steps

OPS_ALLOWANCE = 1.02
TEMP_ALLOWANCE = 1.02

CONFIG = gpt_steps.GPTConfig(vocab=64, seq_len=16, embed=32, heads=4, layers=2)


def _compiled(config):
    policy = gpt_steps.mp_policy("float32")
    model, n_opt, window, params, p_opt, raw = gpt_steps.concrete_state(config, batch=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fused_attention's once-only CPU fallback warning
        named = jax.jit(gpt_steps.named_step(gpt_steps.optimizer(), policy), donate_argnums=(0, 1))
        n_comp = named.lower(model, n_opt, window).compile()
    positional = jax.jit(
        gpt_steps.positional_step(gpt_steps.optimizer(), policy, "xla"), donate_argnums=(0, 1)
    )
    p_comp = positional.lower(params, p_opt, raw).compile()
    return n_comp, p_comp, model, window


@pytest.fixture(scope="module")
def compiled():
    if jax.default_backend() != "cpu":
        pytest.skip("the allowances are calibrated on CPU")
    return _compiled(CONFIG)


def test_named_gpt_step_has_no_more_hlo_ops_than_positional_twin(compiled):
    n_comp, p_comp, _, _ = compiled
    n_ops, p_ops = gpt_steps.hlo_op_count(n_comp), gpt_steps.hlo_op_count(p_comp)
    assert n_ops <= p_ops * OPS_ALLOWANCE, (
        f"named GPT step compiles to {n_ops} HLO instructions, positional twin {p_ops} "
        f"(allowance {OPS_ALLOWANCE:.2f}x); names are adding ops"
    )


def test_named_gpt_step_needs_no_more_temp_memory_than_positional_twin(compiled):
    n_comp, p_comp, _, _ = compiled
    n_tmp, p_tmp = gpt_steps.temp_bytes(n_comp), gpt_steps.temp_bytes(p_comp)
    assert n_tmp <= p_tmp * TEMP_ALLOWANCE, (
        f"named GPT step needs {n_tmp} temp bytes, positional twin {p_tmp} (allowance {TEMP_ALLOWANCE:.2f}x)"
    )


def test_positional_twin_computes_the_named_loss_and_grads():
    model, _, window, _, _, _ = gpt_steps.concrete_state(CONFIG, batch=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gpt_positional.check_agreement(model, window)


def test_hlo_opcode_counter_reads_instructions_of_every_computation():
    text = """HloModule m

%fused (p: f32[4]) -> f32[4] {
  %p = f32[4]{0} parameter(0)
  ROOT %e = f32[4]{0} exponential(%p)
}

ENTRY %main (a: f32[4]) -> (f32[4], s32[]) {
  %a = f32[4]{0} parameter(0)
  %f = f32[4]{0} fusion(%a), kind=kLoop, calls=%fused
  %c = s32[] constant(0)
  ROOT %t = (f32[4]{0}, s32[]) tuple(%f, %c)
}
"""
    ops = gpt_steps.hlo_opcodes(text)
    assert dict(ops) == {"parameter": 2, "exponential": 1, "fusion": 1, "constant": 1, "tuple": 1}
