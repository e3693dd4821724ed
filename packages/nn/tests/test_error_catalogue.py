"""A catalogue of bad programs for haliax.nn and state dicts: each fails loudly, in the caller's words.

Every case pins the typed error class, the op the user called (first in the message), the axes or
keys involved (with sizes), and that no array value leaks into the message: inputs hold the
distinctive value 7.25, which must never be printed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import haliax as hax
import haliax.nn as hnn
from haliax.errors import (
    AxisNotFoundError,
    AxisSizeError,
    BroadcastError,
    LayerStackError,
    MissingFileError,
    NamedIndexError,
    NamedTypeError,
    StateDictError,
    ValueRangeError,
)
from haliax.nn.dropout import DropoutKeyError
from haliax.state_dict import from_state_dict, load_state_dict, save_state_dict, to_state_dict
from haliax.testing import ErrorCase as Case

VALUE = 7.25  # held by every input; a message that prints it shows array values
SHOWN = [str(VALUE)]

Batch, Embed, Hidden, Vocab = hax.make_axes(batch=4, embed=3, hidden=5, vocab=6)
Pos, KPos, Head, Heads = hax.make_axes(pos=4, kpos=4, head=8, heads=2)
Height, Width, Chan, Feat = hax.make_axes(height=2, width=2, chan=3, feat=4)
Layers = hax.Axis("layers", 3)
KEY = jax.random.PRNGKey(0)


def full(*axes: hax.Axis, dtype: Any = jnp.float32) -> hax.NamedArray:
    return hax.full(axes, VALUE, dtype=dtype)


def ids(*axes: hax.Axis) -> hax.NamedArray:
    return hax.full(axes, 2, dtype=jnp.int32)


# ----- layers -----
linear = hnn.Linear.init(Embed, Hidden, key=KEY)
embedding = hnn.Embedding.init(Vocab, Embed, key=KEY)
conv = hnn.Conv.init((Height, Width), Chan, Feat, kernel_size=3, key=KEY)
mlp = hnn.MLP.init(Embed, Embed, width=5, depth=2, key=KEY)
layer_norm = hnn.LayerNorm.init(Embed)
rms_norm = hnn.RmsNorm.init(Embed)


class Block(eqx.Module):
    linear: hnn.Linear

    @staticmethod
    def init(*, key: Any) -> Block:
        return Block(hnn.Linear.init(Embed, Embed.alias("embed2"), key=key))

    def __call__(self, x: hax.NamedArray) -> hax.NamedArray:
        return self.linear(x).rename({"embed2": "embed"})


stacked = hnn.Stacked.init(Layers, Block)(key=jax.random.split(KEY, Layers.size))
block_seq = hnn.BlockSeq.init(Layers, Block)(key=jax.random.split(KEY, Layers.size))


class RenamingBlock(Block):
    """A layer whose output has another axis than its input: a carry that changes shape."""

    @staticmethod
    def init(*, key: Any) -> RenamingBlock:
        return RenamingBlock(hnn.Linear.init(Embed, Embed.alias("embed2"), key=key))

    def __call__(self, x: hax.NamedArray) -> hax.NamedArray:
        return self.linear(x)


renaming_stack = hnn.Stacked.init(Layers, RenamingBlock)(key=jax.random.split(KEY, Layers.size))
renaming_seq = hnn.BlockSeq.init(Layers, RenamingBlock)(key=jax.random.split(KEY, Layers.size))


def attention(q: hax.NamedArray, k: hax.NamedArray, v: hax.NamedArray, mask: Any = None) -> Any:
    return hnn.attention.dot_product_attention(KPos, Head, q, k, v, mask=mask)


LAYER_CASES = [
    Case(
        "linear_input_without_in_axis",
        lambda: linear(full(Batch, Hidden)),
        AxisNotFoundError,
        "Linear",
        ("'embed'", "{batch: 4, hidden: 5}"),
    ),
    Case(
        "linear_input_with_wrong_in_size",
        lambda: linear(full(Batch, Embed.resize(7))),
        AxisSizeError,
        "Linear",
        ("'embed'", "3", "7"),
    ),
    Case(
        "linear_raw_array",
        lambda: linear(jnp.full((4, 3), VALUE)),  # type: ignore[arg-type]  # the mistake under test
        NamedTypeError,
        "Linear",
        ("NamedArray",),
    ),
    Case(
        "linear_init_in_equals_out",
        lambda: hnn.Linear.init(Embed, Embed, key=KEY),
        AxisSizeError,
        "Linear.init",
        ("'embed'", "alias"),
    ),
    Case(
        "embedding_float_ids",
        lambda: embedding(full(Batch)),
        NamedTypeError,
        "Embedding",
        ("integers", "float32"),
    ),
    Case(
        "embedding_ids_carry_embed_axis",
        lambda: embedding(ids(Batch, Embed)),
        BroadcastError,
        "Embedding",
        ("'embed'",),
    ),
    Case(
        "embedding_init_bare_string_vocab",
        lambda: hnn.Embedding.init("vocab", Embed, key=KEY),  # type: ignore[arg-type]  # the mistake under test
        NamedTypeError,
        "Embedding.init",
        ("'vocab'", "hax.Axis"),
    ),
    Case(
        "conv_input_smaller_than_kernel",
        lambda: conv(full(Batch, Chan, Height, Width)),
        AxisSizeError,
        "Conv",
        ("'height'", "2", "3"),
    ),
    Case(
        "conv_input_without_in_axis",
        lambda: conv(full(Batch, Feat, Height, Width)),
        AxisNotFoundError,
        "Conv",
        ("'chan'",),
    ),
    Case(
        "conv_init_spatial_axis_is_in",
        lambda: hnn.Conv.init((Height, Chan), Chan, Feat, kernel_size=1, key=KEY),
        ValueError,
        "Conv.init",
        ("'chan'",),
    ),
    Case(
        "conv_init_zero_stride",
        lambda: hnn.Conv.init((Height, Width), Chan, Feat, kernel_size=1, stride=0, key=KEY),
        ValueRangeError,
        "Conv.init",
        ("stride", "at least 1"),
    ),
    Case(
        "conv_transpose_init_zero_kernel",
        lambda: hnn.ConvTranspose.init((Height, Width), Chan, Feat, kernel_size=0, key=KEY),
        ValueRangeError,
        "ConvTranspose.init",
        ("kernel_size", "at least 1"),
    ),
    Case(
        "conv_init_groups_not_dividing_channels",
        lambda: hnn.Conv.init((Height, Width), Chan, Feat, kernel_size=1, groups=2, key=KEY),
        AxisSizeError,
        "Conv.init",
        ("groups=2", "'chan' (3)", "'feat' (4)"),
    ),
    Case(
        "rms_norm_init_bare_string_axis",
        lambda: hnn.RmsNorm.init("embed"),  # type: ignore[arg-type]  # the mistake under test
        NamedTypeError,
        "RmsNorm.init",
        ("'embed'", "hax.Axis"),
    ),
    Case(
        "causal_mask_of_bare_names",
        lambda: hnn.attention.causal_mask("pos", "kpos"),  # type: ignore[arg-type]  # the mistake under test
        NamedTypeError,
        "causal_mask",
        ("'pos'", "hax.Axis"),
    ),
    Case(
        "moe_linear_without_group_sizes",
        lambda: hnn.MoELinear.init(hax.Axis("experts", 2), Embed, Hidden, key=KEY)(full(Batch, Embed), None),  # type: ignore[arg-type]  # the mistake under test
        NamedTypeError,
        "MoELinear",
        ("group_sizes", "'experts': 2", "NoneType"),
    ),
    Case(
        "dropout_pdrop_above_one",
        lambda: hnn.dropout(full(Batch), 1.5, inference=False, key=KEY),
        ValueRangeError,
        "dropout",
        ("pdrop", "[0, 1]", "1.5"),
    ),
    Case(
        "dropout_module_negative_pdrop",
        lambda: hnn.Dropout(pdrop=-0.1),
        ValueRangeError,
        "Dropout",
        ("pdrop", "[0, 1]"),
    ),
    Case(
        "dropout_without_key",
        lambda: hnn.dropout(full(Batch), 0.5, inference=False),
        DropoutKeyError,
        "dropout",
        ("key=",),
    ),
    Case(
        "mlp_input_without_input_axis",
        lambda: mlp(full(Batch, Hidden)),
        AxisNotFoundError,
        "MLP",
        ("'embed'", "{batch: 4, hidden: 5}"),
    ),
    Case(
        "attention_mask_of_wrong_size",
        lambda: attention(
            full(Pos, Head), full(KPos, Head), full(KPos, Head), hax.ones((Pos, KPos.resize(5)), dtype=bool)
        ),
        AxisSizeError,
        "dot_product_attention",
        ("'kpos'", "4", "5"),
    ),
    Case(
        "attention_mask_with_unknown_axis",
        lambda: attention(
            full(Pos, Head), full(KPos, Head), full(KPos, Head), hax.ones((Pos, Batch), dtype=bool)
        ),
        AxisNotFoundError,
        "dot_product_attention",
        ("'batch'",),
    ),
    Case(
        "attention_mismatched_heads",
        lambda: attention(
            full(Heads, Pos, Head), full(Heads.resize(3), KPos, Head), full(Heads.resize(3), KPos, Head)
        ),
        AxisSizeError,
        "dot_product_attention",
        ("'heads'", "2", "3"),
    ),
    Case(
        "attention_query_without_head_axis",
        lambda: attention(full(Pos, Embed), full(KPos, Head), full(KPos, Head)),
        AxisNotFoundError,
        "dot_product_attention",
        ("'head'", "{pos: 4, embed: 3}"),
    ),
    Case(
        "layer_norm_on_missing_axis",
        lambda: layer_norm(full(Batch, Hidden)),
        AxisNotFoundError,
        "LayerNorm",
        ("'embed'", "{batch: 4, hidden: 5}"),
    ),
    Case(
        "rms_norm_on_missing_axis",
        lambda: rms_norm(full(Batch, Hidden)),
        AxisNotFoundError,
        "RmsNorm",
        ("'embed'", "{batch: 4, hidden: 5}"),
    ),
    Case(
        "softmax_on_missing_axis",
        lambda: hnn.softmax(full(Batch, Hidden), "embed"),
        AxisNotFoundError,
        "softmax",
        ("'embed'",),
    ),
    Case(
        "max_pool_window_axis_missing",
        lambda: hnn.max_pool(Embed.resize(2), full(Batch, Hidden)),
        AxisNotFoundError,
        "max_pool",
        ("'embed'", "{batch: 4, hidden: 5}"),
    ),
    Case(
        "mean_pool_window_larger_than_axis",
        lambda: hnn.mean_pool(Hidden.resize(9), full(Batch, Hidden)),
        AxisSizeError,
        "mean_pool",
        ("'hidden'", "9", "5"),
    ),
    Case(
        "min_pool_bare_string_window",
        lambda: hnn.min_pool("hidden", full(Batch, Hidden)),  # type: ignore[arg-type]  # the mistake under test
        NamedTypeError,
        "min_pool",
        ("'hidden'",),
    ),
    Case(
        "max_pool_stride_count_mismatch",
        lambda: hnn.max_pool(Hidden.resize(2), full(Batch, Hidden), stride=(1, 2)),
        AxisSizeError,
        "max_pool",
        ("stride", "{hidden: 2}"),
    ),
    Case(
        "max_pool_zero_stride",
        lambda: hnn.max_pool(Hidden.resize(2), full(Batch, Hidden), stride=0),
        ValueRangeError,
        "max_pool",
        ("stride", "'hidden'", ">= 1"),
    ),
    Case(
        "mean_pool_raw_array",
        lambda: hnn.mean_pool(Hidden.resize(2), jnp.full((4, 5), VALUE)),  # type: ignore[arg-type]  # the mistake under test
        NamedTypeError,
        "mean_pool",
        ("NamedArray", "hax.named"),
    ),
    Case(
        "mlp_init_negative_depth",
        lambda: hnn.MLP.init(Embed, Hidden, width=5, depth=-1, key=KEY),
        ValueRangeError,
        "MLP.init",
        ("depth", ">= 0"),
    ),
    Case(
        "mlp_init_input_is_output",
        lambda: hnn.MLP.init(Embed, Embed, width=5, depth=0, key=KEY),
        AxisSizeError,
        "MLP.init",
        ("'embed'", "alias"),
    ),
]

# ----- losses -----
LOSS_CASES = [
    Case(
        "cross_entropy_reduction_by_name",
        lambda: hnn.cross_entropy_loss(full(Batch, Vocab), Vocab, ids(Batch), reduction="mean"),
        NamedTypeError,
        "cross_entropy_loss",
        ("hax.mean",),
    ),
    Case(
        "cross_entropy_label_not_in_logits",
        lambda: hnn.cross_entropy_loss(full(Batch, Embed), Vocab, ids(Batch)),
        AxisNotFoundError,
        "cross_entropy_loss",
        ("'vocab'", "{batch: 4, embed: 3}"),
    ),
    Case(
        "cross_entropy_dense_targets_without_label",
        lambda: hnn.cross_entropy_loss(full(Batch, Vocab), Vocab, full(Batch)),
        AxisNotFoundError,
        "cross_entropy_loss",
        ("'vocab'", "{batch: 4}"),
    ),
    Case(
        "cross_entropy_targets_label_size_mismatch",
        lambda: hnn.cross_entropy_loss(full(Batch, Vocab), Vocab, full(Batch, Vocab.resize(7))),
        AxisSizeError,
        "cross_entropy_loss",
        ("'vocab'", "6", "7"),
    ),
    Case(
        "cross_entropy_index_targets_with_extra_axis",
        lambda: hnn.cross_entropy_loss(full(Batch, Vocab), Vocab, ids(Batch, Embed)),
        BroadcastError,
        "cross_entropy_loss",
        ("'embed'", "{batch: 4, embed: 3}", "{batch: 4, vocab: 6}"),
    ),
    Case(
        "cross_entropy_reduction_axis_missing",
        lambda: hnn.cross_entropy_loss(full(Batch, Vocab), Vocab, ids(Batch), reduction_axis=Embed),
        AxisNotFoundError,
        "cross_entropy_loss",
        ("'embed'", "{batch: 4}"),
    ),
    Case(
        "cross_entropy_and_log_normalizers_label_missing",
        lambda: hnn.cross_entropy_loss_and_log_normalizers(full(Batch, Embed), Vocab, ids(Batch)),
        AxisNotFoundError,
        "cross_entropy_loss_and_log_normalizers",
        ("'vocab'",),
    ),
    Case(
        "binary_cross_entropy_size_mismatch",
        lambda: hnn.binary_cross_entropy_loss(full(Batch, Vocab), full(Batch.resize(5), Vocab)),
        AxisSizeError,
        "binary_cross_entropy_loss",
        ("'batch'", "4", "5"),
    ),
    Case(
        "binary_cross_entropy_disjoint_axes",
        lambda: hnn.binary_cross_entropy_loss(full(Batch), full(Embed)),
        BroadcastError,
        "binary_cross_entropy_loss",
        ("{batch: 4}", "{embed: 3}"),
    ),
    Case(
        "reduce_loss_where_with_unknown_axis",
        lambda: hnn.reduce_loss(
            full(Batch), where=hax.ones((Batch, Embed), dtype=bool) > 0, reduction_axis=Embed
        ),
        AxisNotFoundError,
        "reduce_loss",
        ("'embed'",),
    ),
]


# ----- stacks of layers -----
def _not_a_pair(layer: Block, carry: hax.NamedArray) -> hax.NamedArray:
    return layer(carry)


STACK_CASES = [
    Case(
        "block_seq_init_more_keys_than_layers",
        lambda: hnn.BlockSeq.init(Layers, Block)(key=jax.random.split(KEY, 5)),
        AxisSizeError,
        "BlockSeq.init",
        ("'layers'", "3", "5"),
    ),
    Case(
        "stacked_init_more_keys_than_layers",
        lambda: hnn.Stacked.init(Layers, Block)(key=jax.random.split(KEY, 5)),
        AxisSizeError,
        "Stacked.init",
        ("'layers'", "3", "5"),
    ),
    Case(
        "stacked_init_unroll_zero",
        lambda: hnn.Stacked.init(Layers, Block, unroll=0),
        LayerStackError,
        "Stacked.init",
        ("unroll",),
    ),
    Case(
        "stacked_fold_unroll_zero",
        lambda: stacked.fold(full(Batch, Embed), unroll=0),
        LayerStackError,
        "Stacked.fold",
        ("unroll",),
    ),
    Case(
        "stacked_scan_step_not_a_pair",
        lambda: stacked.scan_via(_not_a_pair)(full(Batch, Embed)),
        LayerStackError,
        "Stacked.scan_via",
        ("(carry, output)", "{batch: 4, embed: 3}"),
    ),
    Case(
        "stacked_scan_layer_not_a_pair",
        lambda: stacked.scan(full(Batch, Embed)),
        LayerStackError,
        "Stacked.scan",
        ("(carry, output)", "fold"),
    ),
    Case(
        "stacked_fold_layer_changes_carry_axes",
        lambda: renaming_stack.fold(full(Batch, Embed)),
        NamedTypeError,
        "Stacked.fold",
        ("{batch: 4, embed: 3}", "{batch: 4, embed2: 3}"),
    ),
    Case(
        "block_seq_fold_layer_changes_carry_axes",
        lambda: renaming_seq.fold(full(Batch, Embed)),
        AxisNotFoundError,
        "BlockSeq.fold",
        ("'embed'", "{batch: 4, embed2: 3}"),
    ),
    Case(
        "stacked_fold_argument_of_wrong_length",
        lambda: stacked.fold(full(Batch, Embed), full(Layers.resize(2))),
        AxisSizeError,
        "Stacked.fold",
        ("'layers'", "3", "2"),
    ),
    Case(
        "block_seq_fold_argument_of_wrong_length",
        lambda: block_seq.fold(full(Batch, Embed), full(Layers.resize(2))),
        AxisSizeError,
        "BlockSeq.fold",
        ("'layers'", "3", "2"),
    ),
    Case(
        "block_seq_scan_step_not_a_pair",
        lambda: block_seq.scan_via(_not_a_pair)(full(Batch, Embed)),
        LayerStackError,
        "BlockSeq.scan_via",
        ("(carry, output)",),
    ),
    Case(
        "block_seq_get_layer_out_of_range",
        lambda: block_seq.get_layer(-4),
        NamedIndexError,
        "BlockSeq.get_layer",
        ("'layers'", "-4", "-3 to 2"),
    ),
    Case(
        "stacked_fold_input_without_layer_axis",
        lambda: stacked.fold(full(Batch, Hidden)),
        AxisNotFoundError,
        "Stacked.fold",
        ("'embed'", "{batch: 4, hidden: 5}"),
    ),
    Case(
        "stacked_get_layer_out_of_range",
        lambda: stacked.get_layer(3),
        NamedIndexError,
        "Stacked.get_layer",
        ("'layers'", "3"),
    ),
]


# ----- state dicts -----
def _saved(tmp: Path, state: dict[str, Any]) -> Path:
    path = tmp / "model.safetensors"
    save_state_dict(state, path)
    return path


def _truncated(tmp: Path) -> Path:
    path = _saved(tmp, {"weight": np.full((4, 3), VALUE, np.float32)})
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _not_safetensors(tmp: Path) -> Path:
    path = tmp / "notes.txt"
    path.write_text("7.25 is not a safetensors header\n")
    return path


def state_dict_cases(tmp: Path) -> list[Case]:
    good = to_state_dict(linear)
    missing = {k: v for k, v in good.items() if not k.endswith("bias")}
    wrong_shape = {**good, "weight": np.full((7, 3), VALUE, np.float32)}
    ints = {k: np.full(np.shape(v), 7, np.int32) for k, v in good.items()}
    layers = to_state_dict(stacked)
    last_layer_missing = {k: v for k, v in layers.items() if not k.startswith("2.")}
    odd_layer = {**layers, "1.linear.weight": np.full((4, 3), VALUE, np.float32)}
    return [
        Case(
            "stacked_from_state_dict_last_layer_missing",
            lambda: stacked.from_state_dict(last_layer_missing),
            StateDictError,
            "Stacked.from_state_dict",
            ("'2.linear.weight'", "3 layers"),
        ),
        Case(
            "stacked_from_state_dict_one_layer_of_another_shape",
            lambda: stacked.from_state_dict(odd_layer),
            StateDictError,
            "Stacked.from_state_dict",
            ("'1.linear.weight'", "(4, 3)", "(3, 3)"),
        ),
        Case(
            "from_state_dict_missing_key",
            lambda: from_state_dict(linear, missing),
            StateDictError,
            "from_state_dict",
            ("'bias'",),
        ),
        Case(
            "from_state_dict_wrong_shape",
            lambda: from_state_dict(linear, wrong_shape),
            StateDictError,
            "from_state_dict",
            ("'weight'", "(7, 3)", "(5, 3)"),
        ),
        Case(
            "from_state_dict_int_into_float",
            lambda: from_state_dict(linear, ints),
            StateDictError,
            "from_state_dict",
            ("'weight'", "int32", "float32"),
        ),
        Case(
            "save_state_dict_unsupported_value",
            lambda: save_state_dict({"w": "7.25"}, tmp / "x.safetensors"),
            StateDictError,
            "save_state_dict",
            ("'w'", "str"),
        ),
        Case(
            "load_state_dict_truncated_file",
            lambda: load_state_dict(_truncated(tmp)),
            StateDictError,
            "load_state_dict",
            ("model.safetensors",),
        ),
        Case(
            "load_state_dict_not_safetensors",
            lambda: load_state_dict(_not_safetensors(tmp)),
            StateDictError,
            "load_state_dict",
            ("notes.txt",),
        ),
        Case(
            "load_state_dict_no_file",
            lambda: load_state_dict(tmp / "absent.safetensors"),
            MissingFileError,
            "load_state_dict",
            ("absent.safetensors",),
        ),
        Case(
            "module_from_state_dict_missing_key",
            lambda: linear.from_state_dict(missing),
            StateDictError,
            "from_state_dict",
            ("'bias'",),
        ),
    ]


CASES = LAYER_CASES + LOSS_CASES + STACK_CASES


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_program_fails_loudly(case: Case) -> None:
    case.check(forbidden=SHOWN)


STATE_DICT_NAMES = [c.name for c in state_dict_cases(Path(os.devnull))]


@pytest.mark.parametrize("name", STATE_DICT_NAMES)
def test_bad_state_dict_fails_loudly(name: str, tmp_path: Path) -> None:
    case = {c.name: c for c in state_dict_cases(tmp_path)}[name]
    case.check(forbidden=SHOWN)


def test_catalogue_cases_have_unique_names() -> None:
    names = [c.name for c in CASES] + STATE_DICT_NAMES
    assert len(names) == len(set(names))
