"""A catalogue of bad programs: each must fail loudly, in the words of the op the user called.

Every row is one mistake a user can make with core haliax. The check (`assert_clear_error`) is the
error contract: the typed error class (also a builtin), the message starting with the op the user
called (not an internal helper), the axes or keys involved named with their sizes, and no array
values. Inputs hold the distinctive value 7.25 so that a printed array would show it.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import pytest

import haliax as hax
import haliax.haxtyping as ht
from haliax.errors import (
    AxisNotFoundError,
    AxisSizeError,
    BroadcastError,
    DTypeError,
    DuplicateAxisError,
    NamedIndexError,
    NamedTypeError,
    PatternError,
    ShapeMismatchError,
    ValueRangeError,
)
from haliax.testing import ErrorCase as Case
from haliax.testing import assert_clear_error

VALUE = 7.25
Batch, Embed, Pos = hax.Axis("batch", 4), hax.Axis("embed", 3), hax.Axis("pos", 2)
Batch5, Embed5 = hax.Axis("batch", 5), hax.Axis("embed", 5)
KEY = jax.random.PRNGKey(0)


def x() -> hax.NamedArray:
    return hax.full((Batch, Embed), VALUE)


def y() -> hax.NamedArray:
    return hax.full((Embed, Pos), VALUE)


def full(*axes: hax.Axis, value: Any = VALUE) -> hax.NamedArray:
    return hax.full(axes, value)


CASES = [
    # ----- einsum -----
    Case(
        "einsum-bad-arrow",
        lambda: hax.einsum("batch embed ->-> batch", x()),
        PatternError,
        "einsum",
        ["'batch embed ->-> batch'", "column 15"],
    ),
    Case(
        "einsum-unknown-output-axis",
        lambda: hax.einsum("batch embed, embed pos -> batch heads", x(), y()),
        AxisNotFoundError,
        "einsum",
        ["'heads'"],
    ),
    Case(
        "einsum-arity",
        lambda: hax.einsum("batch embed, embed pos -> batch", x()),
        PatternError,
        "einsum",
        ["number of input specs (2)", "arrays (1)"],
    ),
    Case(
        "einsum-unordered-unknown",
        lambda: hax.einsum("{embd} -> batch", x()),
        AxisNotFoundError,
        "einsum",
        ["'embd'", "{batch: 4, embed: 3}", "did you mean 'embed'?"],
    ),
    Case(
        "einsum-size-mismatch",
        lambda: hax.einsum("batch embed, embed pos -> batch pos", x(), full(Embed5, Pos)),
        AxisSizeError,
        "einsum",
        ["'embed'", "size 3", "5"],
    ),
    Case(
        "einsum-output-twice",
        lambda: hax.einsum("batch embed -> batch batch", x()),
        PatternError,
        "einsum",
        ["'batch'", "multiple times"],
    ),
    Case(
        "einsum-unused-alias",
        lambda: hax.einsum("batch embed -> batch", x(), heads=2),  # type: ignore[arg-type]  # the mistake under test
        PatternError,
        "einsum",
        ["heads"],
    ),
    # ----- rearrange -----
    Case(
        "rearrange-unclosed-group",
        lambda: hax.rearrange(x(), "batch embed -> (batch"),
        PatternError,
        "rearrange",
        ["'(' is never closed", "add ')'"],
    ),
    Case(
        "rearrange-split-not-dividing",
        lambda: hax.rearrange(x(), "(batch: b1 b2) embed -> b1 b2 embed", b1=3),
        AxisSizeError,
        "rearrange",
        ["'b1'", "3", "size 4 of axis 'batch'"],
    ),
    Case(
        "rearrange-split-ambiguous",
        lambda: hax.rearrange(x(), "(batch: b1 b2) embed -> b1 b2 embed"),
        PatternError,
        "rearrange",
        ["'batch' (size 4)", "b1=<size>"],
    ),
    Case(
        "rearrange-drops-axis",
        lambda: hax.rearrange(x(), "batch embed -> batch"),
        PatternError,
        "rearrange",
        ["'embed'", "..."],
    ),
    Case(
        "rearrange-unknown-name",
        lambda: hax.rearrange(x(), "{batch embd} -> embd batch"),
        AxisNotFoundError,
        "rearrange",
        ["'embd'", "{batch: 4, embed: 3}", "did you mean 'embed'?"],
    ),
    Case(
        "rearrange-too-many-lhs",
        lambda: hax.rearrange(x(), "a b c -> c b a"),
        PatternError,
        "rearrange",
        ["{batch: 4, embed: 3}"],
    ),
    Case(
        "rearrange-order-unknown",
        lambda: hax.rearrange(x(), ("embed", "heads")),
        AxisNotFoundError,
        "rearrange",
        ["'heads'", "{batch: 4, embed: 3}"],
    ),
    Case(
        "rearrange-order-twice",
        lambda: hax.rearrange(x(), ("batch", "batch", ...)),
        DuplicateAxisError,
        "rearrange",
        ["'batch'", "twice"],
    ),
    Case(
        "rearrange_for_partial_order-twice",
        lambda: hax.axis.rearrange_for_partial_order(("a", "a"), (Batch,)),
        DuplicateAxisError,
        "rearrange_for_partial_order",
        ["'a'", "twice"],
    ),
    # ----- scan / fold / map / vmap -----
    Case(
        "scan-mismatched-lengths",
        lambda: hax.scan(lambda c, a, b: (c, a), Batch)(0.0, x(), full(Batch5)),
        AxisSizeError,
        "scan",
        ["'batch'", "length 4", "size 5"],
    ),
    Case(
        "scan-bare-carry",
        lambda: hax.scan(lambda c, a: c + a, Batch)(hax.zeros(Embed), x()),
        NamedTypeError,
        "scan",
        ["(carry, output)", "{embed: 3}", "hax.fold"],
    ),
    Case(
        "scan-unknown-axis",
        lambda: hax.scan(lambda c, a: (c, a), "heads")(0.0, x()),
        AxisNotFoundError,
        "scan",
        ["'heads'", "{batch: 4, embed: 3}"],
    ),
    Case(
        "scan-int-axis",
        lambda: hax.scan(lambda c, a: (c, a), 0)(0.0, x()),  # type: ignore[arg-type]  # the mistake under test
        NamedTypeError,
        "scan",
        ["int"],
    ),
    Case(
        "scan-no-scanned-input",
        lambda: hax.scan(lambda c, a: (c, a), "batch")(0.0, VALUE),
        AxisNotFoundError,
        "scan",
        ["'batch'", "hax.Axis('batch', n)"],
    ),
    Case(
        "fold-unknown-axis",
        lambda: hax.fold(lambda c, a: c + a, "heads")(hax.zeros(Embed), x()),
        AxisNotFoundError,
        "fold",
        ["'heads'"],
    ),
    Case(
        "fold-returns-pair",
        lambda: hax.fold(lambda c, a: (c, a), Batch)(hax.zeros(Embed), x()),
        NamedTypeError,
        "fold",
        ["{embed: 3} in", "({embed: 3}, {embed: 3}) out", "use hax.scan"],
    ),
    Case(
        "fold-mismatched-lengths",
        lambda: hax.fold(lambda c, a, b: c, Batch)(0.0, x(), full(Batch5)),
        AxisSizeError,
        "fold",
        ["'batch'", "size 5"],
    ),
    Case(
        "map-unknown-axis", lambda: hax.map(lambda a: a, "heads")(x()), AxisNotFoundError, "map", ["'heads'"]
    ),
    Case(
        "map-mismatched-lengths",
        lambda: hax.map(lambda a, b: a, Batch)(x(), full(Batch5)),
        AxisSizeError,
        "map",
        ["'batch'", "length 4", "size 5"],
    ),
    Case(
        "vmap-unknown-axis",
        lambda: hax.vmap(lambda a: a, "heads")(x()),
        AxisNotFoundError,
        "vmap",
        ["'heads'", "hax.Axis('heads', n)"],
    ),
    Case(
        "vmap-size-mismatch",
        lambda: hax.vmap(lambda a, b: a, Batch)(x(), full(Batch5)),
        AxisSizeError,
        "vmap",
        ["'batch'", "size 4", "size 5"],
    ),
    Case("vmap-int-axis", lambda: hax.vmap(lambda a: a, 0)(x()), NamedTypeError, "vmap", ["got int"]),  # type: ignore[arg-type]  # the mistake under test
    # ----- random -----
    Case(
        "normal-negative-size",
        lambda: hax.random.normal(KEY, hax.Axis("batch", -1)),
        NamedTypeError,
        "normal",
        ["'batch'", "-1", "non-negative integer"],
    ),
    Case(
        "normal-unsized-name",
        lambda: hax.random.normal(KEY, "batch"),  # type: ignore[arg-type]  # the mistake under test
        NamedTypeError,
        "normal",
        ["'batch'", "hax.Axis('batch', n)"],
    ),
    Case("normal-int-shape", lambda: hax.random.normal(KEY, 3), NamedTypeError, "normal", ["got int"]),  # type: ignore[arg-type]  # the mistake under test
    Case(
        "uniform-negative-dict-size",
        lambda: hax.random.uniform(KEY, {"batch": -4}),
        NamedTypeError,
        "uniform",
        ["'batch'", "-4"],
    ),
    Case(
        "randint-raw-array-bounds",
        lambda: hax.random.randint(KEY, Batch, jnp.full((4,), VALUE), 10),
        BroadcastError,
        "randint",
        ["{batch: 4}", "(4,)", "hax.named"],
    ),
    Case(
        "randint-bound-size-mismatch",
        lambda: hax.random.randint(KEY, (Batch,), full(Batch5, value=1), 10),
        AxisSizeError,
        "randint",
        ["'batch'", "5", "4"],
    ),
    Case(
        "randint-bound-extra-axis",
        lambda: hax.random.randint(KEY, (Batch,), x(), 10),
        BroadcastError,
        "randint",
        ["['embed']", "{batch: 4}"],
    ),
    Case(
        "uniform-parameter-extra-axis",
        lambda: hax.random.uniform(KEY, (Batch,), minval=x()),
        BroadcastError,
        "uniform",
        ["['embed']", "{batch: 4, embed: 3}"],
    ),
    Case(
        "bernoulli-p-extra-axis",
        lambda: hax.random.bernoulli(KEY, (Batch,), full(Pos, value=0.5)),
        BroadcastError,
        "bernoulli",
        ["['pos']"],
    ),
    Case(
        "choice-unknown-axis",
        lambda: hax.random.choice(KEY, (Batch,), x(), "heads"),
        AxisNotFoundError,
        "choice",
        ["'heads'"],
    ),
    Case(
        "categorical-unknown-axis",
        lambda: hax.random.categorical(KEY, x(), "heads"),
        AxisNotFoundError,
        "categorical",
        ["'heads'"],
    ),
    # ----- typing -----
    Case(
        "f32-non-spec",
        lambda: ht.f32[hax.NamedArray, 3],
        NamedTypeError,
        "f32[...]",
        ["'batch embed'", "got 3"],
    ),
    Case(
        "f32-duplicate-name",
        lambda: ht.f32[hax.NamedArray, "batch batch"],
        NamedTypeError,
        "f32[...]",
        ["'batch'", "twice"],
    ),
    Case(
        "Named-three-entries",
        lambda: ht.Named[hax.NamedArray, "batch", "embed"],
        NamedTypeError,
        "Named[...]",
        ["3 entries", "Named[NamedArray, 'batch embed']"],
    ),
    Case(
        "Named-two-ellipses",
        lambda: ht.Named[hax.NamedArray, "batch ... embed ..."],
        NamedTypeError,
        "Named[...]",
        ["'...'"],
    ),
    Case("matches_axes-non-spec", lambda: x().matches_axes(3), NamedTypeError, "matches_axes", ["got 3"]),
    # ----- creation -----
    Case(
        "zeros-negative-size",
        lambda: hax.zeros(hax.Axis("batch", -2)),
        NamedTypeError,
        "zeros",
        ["'batch'", "-2"],
    ),
    Case("zeros-float-size", lambda: hax.zeros({"batch": 2.5}), NamedTypeError, "zeros", ["'batch'", "2.5"]),  # type: ignore[arg-type]  # the mistake under test
    Case("zeros-bool-size", lambda: hax.ones(hax.Axis("batch", True)), NamedTypeError, "ones", ["'batch'"]),
    Case("zeros-unsized", lambda: hax.zeros("batch"), NamedTypeError, "zeros", ["'batch'", "needs a size"]),  # type: ignore[arg-type]  # the mistake under test
    Case(
        "full-negative-size",
        lambda: hax.full({"batch": -1}, VALUE),
        NamedTypeError,
        "full",
        ["'batch'", "-1"],
    ),
    Case(
        "arange-negative-size",
        lambda: hax.arange(hax.Axis("batch", -3)),
        NamedTypeError,
        "arange",
        ["'batch'", "-3"],
    ),
    Case(
        "named-wrong-rank",
        lambda: hax.named(jnp.full((4, 3), VALUE), ("batch",)),
        ShapeMismatchError,
        "named",
        ["(4, 3)", "{batch: ?}"],
    ),
    Case(
        "named-wrong-size",
        lambda: hax.named(jnp.full((2,), VALUE), Batch),
        ShapeMismatchError,
        "named",
        ["'batch'", "size 4", "2"],
    ),
    Case("named-int-axes", lambda: hax.named(jnp.full((3,), VALUE), 3), NamedTypeError, "named", ["got int"]),  # type: ignore[arg-type]  # the mistake under test
    Case(
        "NamedArray-wrong-size",
        lambda: hax.NamedArray(jnp.full((3,), VALUE), (Batch,)),
        ShapeMismatchError,
        "NamedArray",
        ["'batch'", "size 4", "3"],
    ),
    # ----- shape ops -----
    Case("rename-to-size", lambda: x().rename({"batch": 3}), NamedTypeError, "rename", ["'batch'", "int 3"]),  # type: ignore[arg-type]  # the mistake under test
    Case(
        "rename-unknown",
        lambda: x().rename({"batc": "b"}),
        AxisNotFoundError,
        "rename",
        ["'batc'", "{batch: 4, embed: 3}", "did you mean 'batch'?"],
    ),
    Case(
        "rename-onto-existing",
        lambda: x().rename({"batch": "embed"}),
        DuplicateAxisError,
        "rename",
        ["'embed'"],
    ),
    Case(
        "rename-resizing-axis",
        lambda: x().rename({"batch": hax.Axis("b", 5)}),
        AxisSizeError,
        "rename",
        ["'batch'", "4", "5"],
    ),
    Case(
        "broadcast_axis-other-size",
        lambda: hax.broadcast_axis(x(), Batch5),
        AxisSizeError,
        "broadcast_axis",
        ["'batch'", "4", "5"],
    ),
    Case(
        "broadcast_axis-repeated-name",
        lambda: hax.broadcast_axis(x(), (Pos, hax.Axis("pos", 3))),
        DuplicateAxisError,
        "broadcast_axis",
        ["'pos'", "{pos: 2, pos: 3}"],
    ),
    Case(
        "broadcast_to-drops-axis",
        lambda: hax.broadcast_to(x(), (Batch,)),
        BroadcastError,
        "broadcast_to",
        ["['embed']", "{batch: 4}"],
    ),
    Case("Axis-int-name", lambda: hax.Axis(3, 4), NamedTypeError, "Axis", ["int 3", "hax.Axis('batch', 4)"]),  # type: ignore[arg-type]  # the mistake under test
    Case(
        "flatten_axes-unknown",
        lambda: hax.flatten_axes(x(), ("batch", "embd"), "be"),
        AxisNotFoundError,
        "flatten_axes",
        ["'embd'", "did you mean 'embed'?"],
    ),
    Case(
        "flatten_axes-existing-name",
        lambda: hax.flatten_axes(full(Batch, Embed, Pos), ("batch", "pos"), "embed"),
        DuplicateAxisError,
        "flatten_axes",
        ["'embed'", "{embed: 8, embed: 3}"],
    ),
    Case("ravel-int-name", lambda: hax.ravel(x(), 3), NamedTypeError, "ravel", ["got int"]),  # type: ignore[arg-type]  # the mistake under test
    Case(
        "unflatten_axis-wrong-product",
        lambda: hax.unflatten_axis(x(), "batch", (hax.Axis("a", 3), hax.Axis("b", 2))),
        AxisSizeError,
        "unflatten_axis",
        ["{a: 3, b: 2}", "6", "'batch'", "4"],
    ),
    Case(
        "split-wrong-sum",
        lambda: hax.split(x(), "batch", [hax.Axis("a", 3), hax.Axis("b", 2)]),
        AxisSizeError,
        "split",
        ["{a: 3, b: 2}", "5", "'batch'", "4"],
    ),
    Case("split-unsized", lambda: hax.split(x(), "batch", [1, 2]), NamedTypeError, "split", ["Axis"]),  # type: ignore[arg-type]  # the mistake under test
    Case(
        "concatenate-other-size",
        lambda: hax.concatenate("embed", [x(), full(Batch5, Embed)]),
        AxisSizeError,
        "concatenate",
        ["'batch'", "4", "5"],
    ),
    Case(
        "concatenate-unknown-axis",
        lambda: hax.concatenate("heads", [x(), x()]),
        AxisNotFoundError,
        "concatenate",
        ["'heads'"],
    ),
    Case(
        "concatenate-other-axes",
        lambda: hax.concatenate("batch", [x(), full(Batch, Pos)]),
        ShapeMismatchError,
        "concatenate",
        ["{batch: 4, embed: 3}", "{batch: 4, pos: 2}"],
    ),
    Case(
        "stack-existing-axis",
        lambda: hax.stack("batch", [x(), x()]),
        DuplicateAxisError,
        "stack",
        ["'batch'"],
    ),
    Case(
        "replace_axis-array",
        lambda: hax.replace_axis(x(), "batch", hax.Axis("embed", 4)),  # type: ignore[arg-type]  # the mistake under test
        NamedTypeError,
        "replace_axis",
        ["NamedArray"],
    ),
    Case("repeat-int-axis", lambda: hax.repeat(x(), "heads", 2), NamedTypeError, "repeat", ["got int"]),  # type: ignore[arg-type]  # the mistake under test
    Case("tile-negative", lambda: hax.tile(x(), {"batch": -1}), ValueRangeError, "tile", ["'batch'", "-1"]),
    Case("pad-negative", lambda: hax.pad(x(), {"batch": (-5, 0)}), AxisSizeError, "pad", ["'batch'"]),
    Case(
        "top_k-too-big",
        lambda: hax.top_k(x(), "embed", 5),
        AxisSizeError,
        "top_k",
        ["k=5", "'embed'", "{batch: 4, embed: 3}"],
    ),
    # ----- reductions -----
    Case(
        "mean-where-wrong-size",
        lambda: hax.mean(x(), "embed", where=full(Batch5, value=True)),
        AxisSizeError,
        "mean",
        ["'batch'", "5", "4"],
    ),
    Case(
        "mean-where-extra-axis",
        lambda: hax.mean(x(), "embed", where=full(Pos, value=True)),
        BroadcastError,
        "mean",
        ["{pos: 2}", "{batch: 4, embed: 3}"],
    ),
    Case(
        "mean-where-float-mask",
        lambda: hax.mean(x(), "embed", where=full(Batch)),
        DTypeError,
        "mean",
        ["{batch: 4}", "float32", "boolean"],
        builtin=ValueError,
    ),
    Case(
        "sum-where-raw-mask",
        lambda: hax.sum(x(), "embed", where=jnp.ones((2,), bool)),
        BroadcastError,
        "sum",
        ["{batch: 4, embed: 3}", "(2,)"],
    ),
    Case(
        "std-where-extra-axis",
        lambda: hax.std(x(), "embed", where=full(Pos, value=True)),
        BroadcastError,
        "std",
        ["{pos: 2}"],
    ),
    Case(
        "sum-unknown-axis", lambda: hax.sum(x(), "embd"), AxisNotFoundError, "sum", ["'embd'", "did you mean"]
    ),
    Case("sum-int-axis", lambda: hax.sum(x(), 0), NamedTypeError, "sum", ["got int"]),  # type: ignore[arg-type]  # the mistake under test
    Case(
        "argmax-two-axes",
        lambda: hax.argmax(x(), ("batch", "embed")),
        NamedTypeError,
        "argmax",
        ["['batch', 'embed']"],
    ),
    Case(
        "argmax-where",
        lambda: hax.argmax(x(), "embed", where=full(Batch, Embed, value=True)),
        NamedTypeError,
        "argmax",
        ["where="],
    ),
    Case("cumsum-unknown-axis", lambda: hax.cumsum(x(), "heads"), AxisNotFoundError, "cumsum", ["'heads'"]),
    # ----- indexing -----
    Case(
        "at-add-wrong-shape",
        lambda: x().at["batch", 0].add(full(Embed5)),
        AxisSizeError,
        "at[...].add",
        ["'embed'", "5", "3"],
    ),
    Case(
        "at-set-extra-axis",
        lambda: x().at["batch", 0].set(full(Pos)),
        NamedIndexError,
        "at[...].set",
        ["{pos: 2}", "{embed: 3}"],
    ),
    Case(
        "at-add-raw-update",
        lambda: x().at["batch", 0].add(jnp.full((3,), VALUE)),
        NamedIndexError,
        "at[...].add",
        ["(3,)", "{embed: 3}"],
    ),
    Case(
        "at-get-past-end",
        lambda: x().at["batch", 9].get(),
        NamedIndexError,
        "at[...].get",
        ["9", "'batch'", "size 4"],
    ),
    Case("index-past-end", lambda: x()["batch", 7], NamedIndexError, "index", ["7", "'batch'", "size 4"]),
    Case("index-unknown-axis", lambda: x()["heads", 0], AxisNotFoundError, "index", ["'heads'"]),
    Case("index-positional", lambda: x()[0], NamedIndexError, "index", ["x['batch', i]"]),  # pyright: ignore[reportArgumentType]
    Case("index-float", lambda: x()["batch", 1.5], NamedIndexError, "index", ["'batch'", "float"]),  # pyright: ignore[reportArgumentType]
    Case(
        "index-float-array", lambda: x()["batch", full(Pos)], NamedIndexError, "index", ["'batch'", "float32"]
    ),
    Case("index-zero-step", lambda: x()["batch", ::0], NamedIndexError, "index", ["'batch'", "zero"]),
    Case(
        "dslice-negative-size", lambda: x()["batch", hax.dslice(0, -1)], NamedIndexError, "index", ["'batch'"]
    ),
    Case(
        "dslice-traced-size",
        lambda: jax.jit(lambda n: x()["batch", hax.dslice(0, n)])(2),
        NamedIndexError,
        "index",
        ["'batch'", "static"],
    ),
    Case(
        "slice-past-end",
        lambda: hax.slice(x(), "batch", start=2, length=5),
        NamedIndexError,
        "slice",
        ["'batch'", "size 4"],
    ),
    Case(
        "updated_slice-past-end",
        lambda: hax.updated_slice(x(), {"batch": 3}, full(hax.Axis("batch", 2), Embed)),
        NamedIndexError,
        "updated_slice",
        ["'batch'", "size 4"],
    ),
    # ----- dot -----
    Case(
        "dot-no-axis",
        lambda: hax.dot(x(), y()),
        AxisNotFoundError,
        "dot",
        ["axis='embed'"],
        builtin=ValueError,
    ),
    Case(
        "dot-unknown-axis",
        lambda: hax.dot(x(), y(), axis="heads"),
        AxisNotFoundError,
        "dot",
        ["'heads'", "{batch: 4, embed: 3}", "{embed: 3, pos: 2}"],
    ),
    Case(
        "dot-size-mismatch",
        lambda: hax.dot(x(), full(Embed5), axis="embed"),
        AxisSizeError,
        "dot",
        ["'embed'", "3", "5"],
    ),
    Case(
        "dot-raw-operand",
        lambda: hax.dot(x(), jnp.full((3,), VALUE), axis="embed"),  # type: ignore[arg-type]  # the mistake under test
        NamedTypeError,
        "dot",
        ["operand 1", "hax.named"],
    ),
    Case(
        "dot-out_axes-twice",
        lambda: hax.dot(x(), y(), axis="embed", out_axes=("batch", "batch")),
        DuplicateAxisError,
        "dot",
        ["out_axes", "'batch'", "twice"],
    ),
    Case(
        "dot-out_axes-partial",
        lambda: hax.dot(x(), y(), axis="embed", out_axes=("batch",)),
        AxisSizeError,
        "dot",
        ["out_axes", "['pos']", "{batch: 4, pos: 2}", "'...'"],
    ),
    Case(
        "dot-out_axes-unknown",
        lambda: hax.dot(x(), y(), axis="embed", out_axes=("heads", ...)),
        AxisNotFoundError,
        "dot",
        ["out_axes", "'heads'", "{batch: 4, pos: 2}"],
    ),
    Case("matmul-operator", lambda: x() @ y(), NamedTypeError, "@", ["hax.dot"]),
    # ----- elementwise and conversions -----
    Case(
        "add-disjoint-axes",
        lambda: x() + full(Pos),
        BroadcastError,
        "add",
        ["{batch: 4, embed: 3}", "{pos: 2}", "broadcast_axis"],
    ),
    Case("add-size-mismatch", lambda: x() + full(Batch5), AxisSizeError, "add", ["'batch'", "4", "5"]),
    Case(
        "where-disjoint-condition",
        lambda: hax.where(full(Pos, value=True), x(), 0.0),
        BroadcastError,
        "where",
        ["{pos: 2}"],
    ),
    Case(
        "bool-of-array",
        lambda: bool(x()),
        AxisSizeError,
        "bool",
        ["{batch: 4, embed: 3}", "hax.any"],
        builtin=ValueError,
    ),
    Case(
        "float-of-array",
        lambda: float(x()),
        NamedTypeError,
        "float",
        ["{batch: 4, embed: 3}"],
        builtin=TypeError,
    ),
    Case(
        "int-of-array", lambda: int(x()), NamedTypeError, "int", ["{batch: 4, embed: 3}"], builtin=TypeError
    ),
    Case(
        "item-of-array",
        lambda: x().item(),
        AxisSizeError,
        "item",
        ["{batch: 4, embed: 3}"],
        builtin=ValueError,
    ),
    Case("iter-of-array", lambda: list(x()), NamedTypeError, "iter", ["{batch: 4, embed: 3}", "unbind"]),
    Case("astype-unknown-dtype", lambda: x().astype("notadtype"), NamedTypeError, "astype", ["'notadtype'"]),
    Case("unbind-int-axis", lambda: hax.unbind(x(), 0), NamedTypeError, "unbind", ["got int"]),  # type: ignore[arg-type]  # the mistake under test
    Case(
        "roll-named-shift",
        lambda: hax.roll(x(), full(Batch, value=1), "batch"),
        NamedTypeError,
        "roll",
        ["{batch: 4}"],
    ),
]


def test_the_catalogue_is_large_and_ids_are_unique() -> None:
    ids = [c.name for c in CASES]
    assert len(ids) >= 40
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_bad_program_fails_loudly_in_the_callers_words(case: Case) -> None:
    case.check(forbidden=[str(VALUE)])


def test_a_hand_written_outline_of_a_carry_shows_shapes_not_values() -> None:
    # A carry holding a raw array and a Python float: the outline shows dtype and shape only.
    def step(carry: Any, a: Any) -> Any:
        return (carry, a)

    carry = {"raw": jnp.full((2,), VALUE), "named": hax.zeros(Embed)}
    err = assert_clear_error(
        lambda: hax.fold(step, Batch)(carry, x()), NamedTypeError, op="fold", forbidden=[str(VALUE)]
    )
    assert "float32[2]" in str(err) and "{embed: 3}" in str(err)
