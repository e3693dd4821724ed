"""A catalogue of bad quantization programs: each fails loudly, in the caller's words.

Every case pins the typed error class, the op the user called (first in the message), the layer
paths or settings involved, and that no array value leaks (weights hold 7.25, never printed).
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import pytest

import haliax as hax
import haliax.nn as hnn
import haliax.quantization as hq
from haliax.errors import NamedTypeError, QuantizationError
from haliax.quantization._src.fp8 import get_fp8_max
from haliax.testing import ErrorCase as Case

VALUE = 7.25
SHOWN = [str(VALUE)]

Embed, Hidden, Layers = hax.make_axes(embed=4, hidden=8, layers=2)
KEY = jax.random.PRNGKey(0)


def _filled(layer: hnn.Linear) -> hnn.Linear:
    return eqx.tree_at(lambda m: m.weight, layer, hax.full(layer.weight.axes, VALUE))


model = {
    "up": _filled(hnn.Linear.init(Embed, Hidden, key=KEY)),
    "down": _filled(hnn.Linear.init(Hidden, Embed, key=KEY)),
    "norm": hnn.LayerNorm.init(Embed),
}


class Block(eqx.Module):
    up: hnn.Linear

    @staticmethod
    def init(*, key: Any) -> Block:
        return Block(hnn.Linear.init(Embed, Embed.alias("embed2"), key=key))

    def __call__(self, x: hax.NamedArray) -> hax.NamedArray:
        return self.up(x).rename({"embed2": "embed"})


def _stacked_fp8_layer_called_alone() -> Any:
    stack = hnn.Stacked.init(Layers, Block)(key=jax.random.split(KEY, Layers.size))
    q = hq.quantize_linear_layers(stack, hq.QuantizationConfig(fp8=True))
    return q.stacked.up(hax.full((Embed,), VALUE))  # the per-layer state still has the Layers dimension


CASES = [
    Case(
        "target_name_matches_no_linear",
        lambda: hq.quantize_linear_layers(model, hq.QuantizationConfig(targets=["upp"], int8=True)),
        QuantizationError,
        "quantize_linear_layers",
        ("'upp'", "no Linear", "'up'", "'down'"),
    ),
    Case(
        "target_regex_matches_no_linear",
        lambda: hq.quantize_linear_layers(model, hq.QuantizationConfig(targets="blocks\\..*", fp8=True)),
        QuantizationError,
        "quantize_linear_layers",
        ("'blocks\\\\..*'", "'up'", "'down'"),
    ),
    Case(
        "target_matches_a_layer_norm",
        lambda: hq.quantize_linear_layers(model, hq.QuantizationConfig(targets=["norm"], int8=True)),
        QuantizationError,
        "quantize_linear_layers",
        ("'norm'", "LayerNorm", "not a Linear"),
    ),
    Case(
        "target_in_a_model_without_linears",
        lambda: hq.quantize_linear_layers(
            {"norm": model["norm"]}, hq.QuantizationConfig(targets=["up"], int8=True)
        ),
        QuantizationError,
        "quantize_linear_layers",
        ("'up'", "no Linear layers"),
    ),
    Case(
        "config_fp8_and_int8",
        lambda: hq.QuantizationConfig(fp8=True, int8=True),
        QuantizationError,
        "QuantizationConfig",
        ("fp8=True", "int8=True"),
    ),
    Case(
        "config_target_regex_does_not_compile",
        lambda: hq.QuantizationConfig(targets="qkv(", int8=True),
        QuantizationError,
        "QuantizationConfig",
        ("'qkv('", "regular expression", "re.escape"),
    ),
    Case(
        "config_targets_not_names",
        lambda: hq.QuantizationConfig(targets=3, int8=True),  # type: ignore[arg-type]  # the mistake pinned
        NamedTypeError,
        "QuantizationConfig",
        ("int", "targets=['qkv', 'up']"),
    ),
    Case(
        "fp8_history_length_zero",
        lambda: hq.Fp8DotGeneralOp.init(0),
        QuantizationError,
        "Fp8DotGeneralOp.init",
        ("amax_history_length", "0"),
    ),
    Case(
        "fp8_max_of_a_non_fp8_dtype",
        lambda: get_fp8_max(jnp.float16, jnp.float32),
        NamedTypeError,
        "get_fp8_max",
        ("float16", "float8_e4m3fn"),
    ),
    Case(
        "stacked_fp8_layer_called_outside_its_stack",
        _stacked_fp8_layer_called_alone,
        QuantizationError,
        "Linear",
        ("fp8 state", "(2, 1)", "Stacked"),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_quantization_program_fails_loudly(case: Case) -> None:
    case.check(forbidden=SHOWN)


def test_catalogue_cases_have_unique_names() -> None:
    names = [c.name for c in CASES]
    assert len(names) == len(set(names))
