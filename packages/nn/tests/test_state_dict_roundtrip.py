"""Every array-holding module of `haliax.nn` round-trips bit-exactly through its state dict.

The matrix is case x dtype {float32, bfloat16} x path {safetensors file, torch-compatible layout}
x placement {one device, sharded on an 8-device CPU mesh}. Bit-exact means: the same tree
structure (so static fields such as ``In``/``Out``, ``unroll``, the checkpoint policy and a
missing bias survive), and every leaf equal bit for bit with the same dtype and axes.

`test_every_exported_module_is_in_the_matrix` walks the ``haliax.nn`` manifest, so a module
added there later fails until it gets a case here (or a reason in `NOT_IN_MATRIX`).
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import inspect
import pkgutil
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import haliax as hax
import haliax.nn as hnn
from haliax.partitioning import shard
from haliax.state_dict import (
    from_state_dict,
    from_torch_compatible_state_dict,
    load_state_dict,
    save_state_dict,
    to_numpy_state_dict,
    to_state_dict,
    to_torch_compatible_state_dict,
)
from haliax.testing import make_test_mesh

# Sizes divide the mesh axes they are mapped to; muP layers have power-of-two ``In`` sizes so
# that scaling the weight by ``1/In`` on export and back on import is exact.
Embed, Hidden, Heads, HeadDim, Vocab, Layers, Experts, Height, Width = hax.make_axes(
    embed=8, hidden=4, heads=2, head_dim=4, vocab=16, layers=2, experts=2, height=5, width=4
)
Out = Embed.alias("out")
# embed over 'model' (4), hidden and vocab over 'data' (2): every case has a sharded parameter.
MAPPING = {"embed": "model", "hidden": "data", "vocab": "data"}


class _Block(eqx.Module):
    """A layer for the stacks: a multi-axis Linear (flattened on export) and a multi-axis norm."""

    proj: hnn.Linear
    norm: hnn.RmsNorm

    @staticmethod
    def init(*, key: Any) -> _Block:
        return _Block(hnn.Linear.init((Heads, HeadDim), Embed, key=key), hnn.RmsNorm.init((Heads, HeadDim)))


def _key(i: int = 0) -> jax.Array:
    return jax.random.PRNGKey(i)


def _layer_keys() -> jax.Array:
    return jax.random.split(_key(), Layers.size)


POLICY = hax.ScanCheckpointPolicy(save_carries=True, save_inputs=True, prevent_cse=True)

CASES: dict[str, tuple[type, Callable[[], Any]]] = {
    "linear": (hnn.Linear, lambda: hnn.Linear.init(Embed, Hidden, key=_key())),
    "linear_in_first_no_bias": (
        hnn.Linear,
        lambda: hnn.Linear.init(Embed, Hidden, key=_key(), out_first=False, use_bias=False),
    ),
    "linear_multi_in": (hnn.Linear, lambda: hnn.Linear.init((Heads, HeadDim), Embed, key=_key())),
    "linear_multi_out_in_first": (
        hnn.Linear,
        lambda: hnn.Linear.init(Embed, (Heads, HeadDim), key=_key(), out_first=False),
    ),
    "linear_multi_both_no_bias": (
        hnn.Linear,
        lambda: hnn.Linear.init((Hidden, HeadDim), (Heads, Embed), key=_key(), use_bias=False),
    ),
    "linear_mup_input": (
        hnn.Linear,
        lambda: hnn.Linear.init(Embed, Hidden, key=_key(), reparam_cls=hnn.Linear.input_reparam()),
    ),
    "linear_mup_hidden": (
        hnn.Linear,
        lambda: hnn.Linear.init(Embed, Hidden, key=_key(), reparam_cls=hnn.Linear.hidden_reparam()),
    ),
    "linear_mup_output": (
        hnn.Linear,
        lambda: hnn.Linear.init(Embed, Vocab, key=_key(), reparam_cls=hnn.Linear.output_reparam()),
    ),
    "embedding": (hnn.Embedding, lambda: hnn.Embedding.init(Vocab, Embed, key=_key())),
    "embedding_multi_embed": (hnn.Embedding, lambda: hnn.Embedding.init(Vocab, (Heads, Embed), key=_key())),
    "embedding_mup": (
        hnn.Embedding,
        lambda: hnn.Embedding.init(Vocab, Embed, key=_key(), reparam_cls=hnn.mup.EmbeddingMup),
    ),
    "moe_linear": (hnn.MoELinear, lambda: hnn.MoELinear.init(Experts, Embed, Hidden, key=_key())),
    "moe_linear_out_first_no_bias": (
        hnn.MoELinear,
        lambda: hnn.MoELinear.init(Experts, Embed, Hidden, key=_key(), out_first=True, use_bias=False),
    ),
    "mlp": (hnn.MLP, lambda: hnn.MLP.init(Embed, Out, width=Hidden.size, depth=2, key=_key())),
    "conv": (hnn.Conv, lambda: hnn.Conv.init((Height, Width), Embed, Hidden, kernel_size=3, key=_key())),
    "conv_transpose": (
        hnn.ConvTranspose,
        lambda: hnn.ConvTranspose.init((Height, Width), Embed, Hidden, kernel_size=2, key=_key()),
    ),
    "layer_norm": (hnn.LayerNorm, lambda: hnn.LayerNorm.init(Embed)),
    "layer_norm_no_bias": (hnn.LayerNorm, lambda: hnn.LayerNorm.init(Embed, use_bias=False)),
    "rms_norm_multi_axis": (hnn.RmsNorm, lambda: hnn.RmsNorm.init((Heads, Embed))),
    "stacked_unroll_2": (
        hnn.Stacked,
        lambda: hnn.Stacked.init(Layers, _Block, gradient_checkpointing=POLICY, unroll=2)(key=_layer_keys()),
    ),
    "stacked_mup_output_multi_in": (
        hnn.Stacked,
        lambda: hnn.Stacked.init(Layers, hnn.Linear)(
            (Heads, HeadDim), Vocab, key=_layer_keys(), reparam_cls=hnn.Linear.output_reparam()
        ),
    ),
    "block_seq": (
        hnn.BlockSeq,
        lambda: hnn.BlockSeq.init(Layers, _Block, gradient_checkpointing=True)(key=_layer_keys()),
    ),
    "dropout": (hnn.Dropout, lambda: hnn.Dropout(0.1, broadcast_axes=Embed, inference=True)),
}

# Exported eqx.Module classes with non-static fields that have no case, and why.
NOT_IN_MATRIX: dict[type, str] = {
    hnn.normalization.LayerNormBase: "the shared base of LayerNorm and RmsNorm (both in the matrix); it has no __call__",
}


# ----- the manifest check -----
def _exported_modules() -> dict[type, str]:
    """Every public eqx.Module class reachable from haliax.nn or one of its public submodules."""
    modules = [hnn] + [
        importlib.import_module(f"haliax.nn.{m.name}")
        for m in pkgutil.iter_modules(hnn.__path__)
        if not m.name.startswith("_")
    ]
    found: dict[type, str] = {}
    for module in modules:
        for name, obj in vars(module).items():
            if not name.startswith("_") and inspect.isclass(obj) and issubclass(obj, eqx.Module):
                found.setdefault(obj, f"{module.__name__}.{name}")
    return found


def _has_dynamic_fields(cls: type) -> bool:
    return any(not f.metadata.get("static", False) for f in dataclasses.fields(cls))


def test_every_exported_module_is_in_the_matrix():
    covered = {cls for cls, _ in CASES.values()}
    missing = [
        where
        for cls, where in _exported_modules().items()
        if _has_dynamic_fields(cls) and cls not in covered and cls not in NOT_IN_MATRIX
    ]
    assert not missing, f"exported modules without a state-dict round-trip case: {missing}"


# ----- helpers -----
def _randomize(model: Any, dtype: Any) -> Any:
    """Random values in every float array (so a template's values can never pass for the model's), cast to dtype."""
    rng = np.random.default_rng(7)
    return jax.tree_util.tree_map(
        lambda x: (
            jnp.asarray(rng.standard_normal(x.shape, np.float32), dtype) if eqx.is_inexact_array(x) else x
        ),
        model,
    )


@functools.cache
def _build(case: str) -> Any:
    cls, make = CASES[case]
    model = make()
    assert type(model) is cls
    return model


def _zeroed(model: Any) -> Any:
    """The same structure and placement, with every float value zero (``x * 0`` keeps the sharding)."""
    return jax.tree_util.tree_map(lambda x: x * 0 if eqx.is_inexact_array(x) else x, model)


def _bits(x: Any) -> np.ndarray:
    a = np.asarray(x)
    return a.view(f"u{a.dtype.itemsize}") if a.dtype.kind == "f" or a.dtype.name == "bfloat16" else a


def _assert_bit_exact(back: Any, model: Any) -> None:
    # the tree structure holds the static fields (axes, In/Out, unroll, policy, a missing bias)
    assert jax.tree_util.tree_structure(back) == jax.tree_util.tree_structure(model)
    for (path, b), m in zip(
        jax.tree_util.tree_flatten_with_path(back)[0],
        jax.tree_util.tree_leaves(model),
        strict=True,
    ):
        where = jax.tree_util.keystr(path)
        assert type(b) is type(m), where
        if eqx.is_array(m):
            assert b.dtype == m.dtype and b.shape == m.shape, where
            np.testing.assert_array_equal(_bits(b), _bits(m), err_msg=where)
        else:
            assert b == m, where


def _round_trip(path: str, model: Any, template: Any, tmp_path: Any) -> Any:
    if path == "safetensors":
        save_state_dict(to_state_dict(model, prefix="model"), tmp_path / "m.safetensors")
        return from_state_dict(
            template, load_state_dict(tmp_path / "m.safetensors"), prefix="model", strict=True
        )
    sd = to_torch_compatible_state_dict(model, prefix="model")
    return from_torch_compatible_state_dict(template, sd, prefix="model", strict=True)


@pytest.fixture(scope="module")
def mesh():
    return make_test_mesh({"data": 2, "model": 4})


def _is_sharded(x: Any) -> bool:
    return isinstance(x, jax.Array) and not x.sharding.is_fully_replicated


# ----- the matrix -----
@pytest.mark.parametrize("placement", ["one_device", "sharded"])
@pytest.mark.parametrize("path", ["safetensors", "torch"])
@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16], ids=["f32", "bf16"])
@pytest.mark.parametrize("case", list(CASES))
def test_state_dict_round_trip_is_bit_exact(case, dtype, path, placement, tmp_path, request):
    model = _randomize(_build(case), dtype)
    template = _zeroed(model)
    if placement == "one_device":
        _assert_bit_exact(_round_trip(path, model, template, tmp_path), model)
        return
    arrays = [x for x in jax.tree_util.tree_leaves(model) if eqx.is_array(x)]
    if not arrays:
        pytest.skip(f"{case} holds no arrays to shard")
    mesh = request.getfixturevalue("mesh")
    sharded = shard(model, MAPPING, mesh)
    sharded_template = _zeroed(sharded)
    assert any(_is_sharded(x) for x in jax.tree_util.tree_leaves(sharded)), "the mapping shards nothing"
    # the sharded model writes the same entries, bit for bit, as the unsharded one
    export = to_numpy_state_dict if path == "safetensors" else to_torch_compatible_state_dict
    whole, gathered = export(model), export(sharded)
    assert list(gathered) == list(whole)
    for k in whole:
        np.testing.assert_array_equal(_bits(gathered[k]), _bits(whole[k]), err_msg=k)
    back = _round_trip(path, sharded, sharded_template, tmp_path)
    _assert_bit_exact(back, model)  # the unsharded original's values
    # and the loaded arrays are laid out as the template's
    for b, t in zip(
        jax.tree_util.tree_leaves(back), jax.tree_util.tree_leaves(sharded_template), strict=True
    ):
        if eqx.is_array(t):
            assert b.sharding.is_equivalent_to(t.sharding, t.ndim), (b.sharding, t.sharding)


def test_mup_output_linear_with_a_non_power_of_two_in_comes_back_within_one_ulp():
    # The file holds the effective weight weight/In.size in the parameter's dtype (as in Haliax);
    # for In.size = 3 that rounding cannot always be undone, but it never moves a value by more than an ulp.
    In3 = hax.Axis("in3", 3)
    layer = _randomize(
        hnn.Linear.init(In3, Hidden, key=_key(), reparam_cls=hnn.Linear.output_reparam()), jnp.float32
    )
    back = layer.from_state_dict(layer.to_state_dict())
    w, b = np.asarray(layer.weight.array), np.asarray(back.weight.array)
    assert back.weight.axes == layer.weight.axes and b.dtype == w.dtype
    assert np.all(np.abs(b - w) <= np.spacing(np.abs(w)))
