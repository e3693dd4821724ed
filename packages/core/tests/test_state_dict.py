from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import haliax as hax
from haliax.state_dict import (
    ModuleWithStateDictSerialization,
    StateDictError,
    flatten_modules_for_export,
    from_state_dict,
    from_torch_compatible_state_dict,
    load_state_dict,
    save_state_dict,
    to_numpy_state_dict,
    to_state_dict,
    to_torch_compatible_state_dict,
    unflatten_modules_from_export,
    with_prefix,
)


def _named(shape: dict[str, int], seed: int = 0, dtype: Any = jnp.float32) -> hax.NamedArray:
    raw = jax.random.normal(jax.random.PRNGKey(seed), tuple(shape.values())).astype(dtype)
    return hax.named(raw, tuple(shape))


class Dense(eqx.Module):
    weight: hax.NamedArray
    bias: hax.NamedArray | None
    activation: str = eqx.field(static=True, default="relu")


class Model(eqx.Module):
    embed: Dense
    layers: list[Dense]
    scale: float


def _model(seed: int = 0) -> Model:
    return Model(
        embed=Dense(_named({"vocab": 5, "embed": 3}, seed), None),
        layers=[
            Dense(_named({"embed": 3, "out": 2}, seed + i + 1), _named({"out": 2}, seed + 10 + i))
            for i in range(2)
        ],
        scale=0.5,
    )


def _assert_bit_exact(a: Any, b: Any) -> None:
    la, lb = jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)
    assert jax.tree_util.tree_structure(a) == jax.tree_util.tree_structure(b)
    for x, y in zip(la, lb, strict=True):
        if hasattr(x, "dtype") and hasattr(y, "dtype"):
            assert x.dtype == y.dtype
            assert np.asarray(x).tobytes() == np.asarray(y).tobytes()
        else:
            assert x == y


def test_with_prefix_joins_optional_parts():
    assert with_prefix("a", "b") == "a.b"
    assert with_prefix(None, "b") == "b"
    assert with_prefix("a", None) == "a"
    assert with_prefix(None, None) is None
    assert with_prefix("a", "") == "a."  # only None is left out, as in Haliax


def test_keys_are_dotted_pytree_paths_named_arrays_are_raw_and_numbers_are_kept():
    sd = to_state_dict(_model())
    assert sorted(sd) == [
        "embed.weight",
        "layers.0.bias",
        "layers.0.weight",
        "layers.1.bias",
        "layers.1.weight",
        "scale",
    ]
    assert not any(isinstance(v, hax.NamedArray) for v in sd.values())
    assert sd["embed.weight"].shape == (5, 3)
    assert sd["scale"] == 0.5
    assert sorted(to_state_dict(_model(), prefix="model"))[0] == "model.embed.weight"


def test_a_number_is_read_back_from_the_state_dict_and_kept_when_absent():
    back = from_state_dict(_model(), {**to_state_dict(_model(3)), "scale": 2.0})
    assert back.scale == 2.0
    sd = to_state_dict(_model(3))
    del sd["scale"]
    assert from_state_dict(_model(), sd).scale == 0.5


class _WithCallable(eqx.Module):
    weight: hax.NamedArray
    fn: Any


def test_a_leaf_that_is_not_an_array_or_number_is_an_error_naming_its_key():
    with pytest.raises(StateDictError, match=r"^to_state_dict: the value at 'm.fn' is a str, .*static"):
        to_state_dict(_WithCallable(_named({"a": 2}), "relu"), prefix="m")


class _Empty(eqx.Module):
    pass


def test_modules_without_arrays_contribute_no_keys():
    tree = {"w": _named({"a": 2}), "op": _Empty(), "none": None}
    assert sorted(to_state_dict(tree)) == ["w"]
    back = from_state_dict(tree, to_state_dict(tree))
    assert isinstance(back["op"], _Empty) and back["none"] is None


def test_round_trip_is_bit_exact():
    model = _model(0)
    back = from_state_dict(_model(7), to_state_dict(model))
    _assert_bit_exact(back, model)
    assert back.embed.weight.axes == model.embed.weight.axes


def test_round_trip_with_prefix_and_eval_shape_template():
    model = _model(0)
    template = eqx.filter_eval_shape(_model, 3)
    back = from_state_dict(template, to_state_dict(model, prefix="m"), prefix="m")
    _assert_bit_exact(back, model)


def test_shape_mismatch_names_the_key_and_both_shapes():
    sd = to_state_dict(_model())
    sd["layers.1.weight"] = np.zeros((2, 3), np.float32)
    with pytest.raises(StateDictError) as e:
        from_state_dict(_model(), sd)
    assert str(e.value) == (
        "from_state_dict: key 'layers.1.weight' has shape (2, 3) in the state dict but the template expects "
        "(3, 2) {embed: 3, out: 2}; check that the model config matches the checkpoint"
    )


def test_missing_key_is_an_error():
    sd = to_state_dict(_model())
    del sd["layers.0.bias"]
    with pytest.raises(
        StateDictError,
        match=r"^from_state_dict: key 'layers.0.bias' is missing from the state dict; "
        r"keys with the same last part: 'layers.1.bias'",
    ):
        from_state_dict(_model(), sd)


def test_extra_keys_are_ignored_unless_strict():
    sd = to_state_dict(_model())
    sd["lm_head.weight"] = np.zeros((3, 5), np.float32)
    _assert_bit_exact(from_state_dict(_model(4), sd), _model())
    with pytest.raises(
        StateDictError, match=r"the state dict has 1 key\(s\) the template does not use: 'lm_head.weight'"
    ):
        from_state_dict(_model(), sd, strict=True)


def test_integer_arrays_do_not_load_into_float_parameters():
    sd = to_state_dict(_model())
    sd["embed.weight"] = np.arange(15, dtype=np.int32).reshape(5, 3)
    with pytest.raises(StateDictError) as e:
        from_state_dict(_model(), sd)
    assert str(e.value).startswith(
        "from_state_dict: key 'embed.weight' has dtype int32 in the state dict but the template has float32 "
        "{vocab: 5, embed: 3}; integers do not load into floating-point parameters"
    )
    sd["embed.weight"] = sd["embed.weight"].astype(np.float32)
    assert from_state_dict(_model(), sd).embed.weight.dtype == jnp.float32


def test_float_checkpoint_keeps_its_own_float_dtype():
    sd = to_state_dict(_model())
    sd["embed.weight"] = sd["embed.weight"].astype(jnp.bfloat16)
    assert from_state_dict(_model(), sd).embed.weight.dtype == jnp.bfloat16


class _MaybeBias(ModuleWithStateDictSerialization):
    weight: hax.NamedArray
    bias: hax.NamedArray | None


def test_a_parameter_the_module_lacks_is_never_read():
    m = _MaybeBias(_named({"out": 2}), None)
    sd = {"weight": np.ones(2, np.float32), "bias": np.ones(2, np.float32)}
    back = from_state_dict(m, sd)
    assert back.bias is None
    np.testing.assert_array_equal(back.weight.array, np.ones(2))


class Renamed(ModuleWithStateDictSerialization):
    w: hax.NamedArray
    inner: Dense

    def _state_dict_key_map(self) -> dict[str, str | None]:
        return {"w": "kernel", "inner": None}


def test_key_map_renames_and_flattens_fields():
    m = Renamed(_named({"a": 2}), Dense(_named({"b": 3}, 1), None))
    sd = to_state_dict(m, prefix="blk")
    assert sorted(sd) == ["blk.kernel", "blk.weight"]
    _assert_bit_exact(
        from_state_dict(Renamed(_named({"a": 2}, 5), Dense(_named({"b": 3}, 6), None)), sd, "blk"), m
    )


class Stack(ModuleWithStateDictSerialization):
    """A toy stack of layers along a leading "block" axis that exports per-layer keys."""

    inner: Dense

    def to_state_dict(self, prefix: str | None = None) -> dict[str, Any]:
        out = {}
        n = self.inner.weight.axis_size("block")
        for i in range(n):
            layer = jax.tree_util.tree_map(
                lambda x, i=i: x.take("block", i), self.inner, is_leaf=hax.is_named_array
            )
            out.update(to_state_dict(layer, with_prefix(prefix, str(i))))
        return out

    def from_state_dict(self, state_dict: Any, prefix: str | None = None) -> "Stack":
        n = self.inner.weight.axis_size("block")
        template = jax.tree_util.tree_map(
            lambda x: x.take("block", 0), self.inner, is_leaf=hax.is_named_array
        )
        layers = [
            from_state_dict(template, state_dict, with_prefix(prefix, str(i)), strict=False) for i in range(n)
        ]
        block = hax.Axis("block", n)
        stacked = jax.tree_util.tree_map(
            lambda *xs: hax.named(jnp.stack([x.array for x in xs]), (block, *xs[0].axes)),
            *layers,
            is_leaf=hax.is_named_array,
        )
        return Stack(stacked)


def test_a_module_can_write_per_layer_keys_for_a_stacked_axis():
    inner = Dense(_named({"block": 3, "embed": 2, "out": 4}), _named({"block": 3, "out": 4}, 1))
    model = {"layers": Stack(inner)}
    sd = to_state_dict(model)
    assert sorted(sd) == [f"layers.{i}.{p}" for i in range(3) for p in ("bias", "weight")]
    np.testing.assert_array_equal(sd["layers.2.weight"], inner.weight.array[2])
    template = {
        "layers": Stack(
            Dense(_named({"block": 3, "embed": 2, "out": 4}, 9), _named({"block": 3, "out": 4}, 8))
        )
    }
    _assert_bit_exact(from_state_dict(template, sd), model)


class HeadsLinear(ModuleWithStateDictSerialization):
    """Weight with axes (heads, head_dim, embed), exported as a 2-D torch (out, in) matrix."""

    weight: hax.NamedArray

    def flatten_for_export(self) -> "HeadsLinear":
        w = self.weight.rearrange(("heads", "head_dim", "embed"))
        flat = w.array.reshape(-1, w.axis_size("embed"))
        return HeadsLinear(hax.named(flat, ("out", "embed")))

    def unflatten_from_export(self, template: "HeadsLinear") -> "HeadsLinear":  # pyright: ignore[reportIncompatibleMethodOverride]  # template: always this class
        t = template.weight.rearrange(("heads", "head_dim", "embed"))
        raw = self.weight.array.reshape(tuple(ax.size for ax in t.axes))
        return HeadsLinear(hax.named(raw, t.axes).rearrange(template.weight.axes))


def test_torch_compatible_round_trip_flattens_articulated_axes():
    model = {"attn": {"q": HeadsLinear(_named({"embed": 6, "heads": 2, "head_dim": 3}))}}
    sd = to_torch_compatible_state_dict(model)
    assert sd["attn.q.weight"].shape == (6, 6)
    flat = flatten_modules_for_export(model)
    assert flat["attn"]["q"].weight.axes[0].name == "out"
    _assert_bit_exact(unflatten_modules_from_export(flat, model), model)
    template = {"attn": {"q": HeadsLinear(_named({"embed": 6, "heads": 2, "head_dim": 3}, 4))}}
    _assert_bit_exact(from_torch_compatible_state_dict(template, sd), model)


def test_safetensors_round_trip_is_bit_exact(tmp_path):
    model = _model(0)
    model = eqx.tree_at(lambda m: m.embed.weight, model, model.embed.weight.astype(jnp.bfloat16))
    path = tmp_path / "model.safetensors"
    save_state_dict(to_state_dict(model), path)
    loaded = load_state_dict(path)
    assert all(isinstance(v, np.ndarray) for v in loaded.values())
    assert loaded["embed.weight"].dtype == jnp.bfloat16
    back = from_state_dict(model, loaded)
    assert back.scale == 0.5  # a number comes back as the 0-d array the file holds, as in Haliax
    _assert_bit_exact(back, model)


def test_loading_never_unpickles_and_names_the_file(tmp_path):
    import pickle

    path = tmp_path / "evil.safetensors"
    path.write_bytes(pickle.dumps({"x": np.zeros(2)}))
    with pytest.raises(
        StateDictError, match=r"^load_state_dict: '.*evil.safetensors' is not a readable safetensors"
    ):
        load_state_dict(path)


def test_a_truncated_file_is_an_error_naming_it(tmp_path):
    path = tmp_path / "model.safetensors"
    save_state_dict(to_state_dict(_model()), path)
    path.write_bytes(path.read_bytes()[:-7])
    with pytest.raises(StateDictError, match=r"^load_state_dict: '.*model.safetensors' is not a readable"):
        load_state_dict(path)
    with pytest.raises(FileNotFoundError, match=r"load_state_dict: no file at"):
        load_state_dict(tmp_path / "absent.safetensors")


def test_save_skips_none_and_writes_torch_format_metadata(tmp_path):
    from safetensors import safe_open

    path = tmp_path / "m.safetensors"
    save_state_dict({"w": np.ones(3, np.float32), "absent": None}, path)
    with safe_open(str(path), framework="numpy") as f:
        assert list(f.keys()) == ["w"]
        assert f.metadata() == {"format": "pt"}


def test_save_rejects_values_it_cannot_store_naming_the_key(tmp_path):
    path = tmp_path / "m.safetensors"
    with pytest.raises(
        StateDictError, match=r"^save_state_dict: key 'name' holds a str, which safetensors cannot"
    ):
        save_state_dict({"w": np.ones(3, np.float32), "name": "gpt2"}, path)
    with pytest.raises(StateDictError, match=r"key 'w' holds a NamedArray.*pass NamedArray.array"):
        save_state_dict({"w": _named({"a": 2})}, path)
    with pytest.raises(StateDictError, match=r"key 'labels' has dtype <U1"):
        save_state_dict({"labels": np.array(["a", "b"])}, path)
    assert not path.exists()


def test_to_torch_compatible_state_dict_options():
    model = {"attn": {"q": HeadsLinear(_named({"embed": 6, "heads": 2, "head_dim": 3}))}, "scale": 2.0}
    sd = to_torch_compatible_state_dict(model, prefix="m")
    assert sorted(sd) == ["m.attn.q.weight"]  # the default filter keeps arrays only
    assert isinstance(sd["m.attn.q.weight"], np.ndarray) and sd["m.attn.q.weight"].shape == (6, 6)
    assert to_torch_compatible_state_dict(model, flatten=False)["attn.q.weight"].shape == (6, 2, 3)
    assert "scale" in to_torch_compatible_state_dict(model, filter=lambda x: True)
    unflat = to_state_dict(model)
    back = from_torch_compatible_state_dict(model, unflat, unflatten=False)
    _assert_bit_exact(back, model)


def test_from_torch_compatible_accepts_an_eval_shape_template():
    model = {"q": HeadsLinear(_named({"embed": 6, "heads": 2, "head_dim": 3}))}
    template = eqx.filter_eval_shape(
        lambda: {"q": HeadsLinear(_named({"embed": 6, "heads": 2, "head_dim": 3}, 2))}
    )
    _assert_bit_exact(
        from_torch_compatible_state_dict(template, to_torch_compatible_state_dict(model)), model
    )


def test_to_numpy_state_dict_gathers_sharded_arrays():
    mesh = jax.sharding.Mesh(np.array(jax.devices()[:2]), ("data",))
    x = _named({"batch": 4, "embed": 2})
    sharded = jax.device_put(x.array, jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("data")))
    sd = to_numpy_state_dict({"x": hax.named(sharded, ("batch", "embed"))})
    assert isinstance(sd["x"], np.ndarray)
    np.testing.assert_array_equal(sd["x"], np.asarray(x.array))


def test_numbers_read_back_from_a_file_keep_the_templates_python_type(tmp_path):
    model = {"w": _named({"embed": 2}), "flag": True, "count": 3, "scale": 0.5}
    save_state_dict(to_state_dict(model), tmp_path / "m.safetensors")
    back = from_state_dict(model, load_state_dict(tmp_path / "m.safetensors"))
    assert (type(back["flag"]), type(back["count"]), type(back["scale"])) == (bool, int, float)
    assert (back["flag"], back["count"], back["scale"]) == (True, 3, 0.5)


def test_loading_into_a_sharded_template_lays_arrays_out_as_the_template(tmp_path):
    mesh = jax.sharding.Mesh(np.array(jax.devices()[:2]), ("data",))
    spec = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("data"))
    model = {"x": _named({"batch": 4, "embed": 2}), "raw": jnp.arange(6.0).reshape(2, 3)}
    template = {
        "x": hax.named(jax.device_put(jnp.zeros((4, 2)), spec), ("batch", "embed")),
        "raw": jax.device_put(jnp.zeros((2, 3)), spec),
    }
    save_state_dict(to_state_dict(model), tmp_path / "m.safetensors")  # host numpy on the way back
    for sd in (load_state_dict(tmp_path / "m.safetensors"), to_state_dict(model)):
        back = from_state_dict(template, sd)
        _assert_bit_exact(back, model)
        assert back["x"].array.sharding == spec and back["raw"].sharding == spec


def test_a_missing_key_is_also_a_key_error_as_in_haliax():
    from haliax.errors import MissingKeyError

    template = {"w": hax.zeros({"a": 2})}
    with pytest.raises(KeyError) as info:
        hax.state_dict.from_state_dict(template, {})
    assert isinstance(info.value, MissingKeyError) and isinstance(info.value, ValueError)
    assert str(info.value).startswith("from_state_dict: key 'w' is missing")  # not quoted like KeyError's
