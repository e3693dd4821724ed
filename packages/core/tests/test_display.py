import os
import subprocess
import sys

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import Mesh, NamedSharding, PartitionSpec

import haliax as hax


def test_repr_shows_named_shape_then_values():
    x = hax.named(jnp.arange(6, dtype=jnp.float32).reshape(2, 3), ("batch", "embed"))
    assert repr(x) == "NamedArray(f32{batch: 2, embed: 3},\n  [[0., 1., 2.],\n   [3., 4., 5.]])"


def test_repr_of_int_and_bf16_arrays():
    assert repr(hax.named(jnp.array([1, 2], jnp.int32), ("pos",))).startswith("NamedArray(i32{pos: 2},")
    assert repr(hax.zeros({"a": 1}, dtype=jnp.bfloat16)).startswith("NamedArray(bf16{a: 1},")


def test_repr_under_jit_shows_the_tracer_not_values():
    seen = []

    @jax.jit
    def f(x: hax.NamedArray) -> hax.NamedArray:
        seen.append(repr(x))
        return x

    f(hax.zeros({"batch": 2}))
    assert seen[0].startswith("NamedArray(f32{batch: 2}, ")
    assert "Trace" in seen[0] and "0." not in seen[0]


def test_fresh_process_imports_treescope_only_for_treescope_and_render_array_works_first():
    # one subprocess for both checks: starting python with jax costs seconds on a loaded machine
    code = (
        "import sys, haliax as hax, jax.numpy as jnp\n"
        "x = hax.named(jnp.arange(6.0).reshape(2, 3), ('batch', 'embed'))\n"
        "repr(x); repr({'x': x}); import equinox as eqx; eqx.tree_pformat({'x': x})\n"
        "print('treescope' in sys.modules)\n"
        "try:\n"
        "    import treescope\n"
        "except ImportError:\n"
        "    print('no treescope')\n"
        "else:\n"
        "    print(type(treescope.render_array(x)).__name__)\n"
    )
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    imported_early, first_render = out.stdout.strip().splitlines()
    assert imported_early == "False"
    assert first_render in ("TreescopeFigure", "no treescope")


class _Block(eqx.Module):
    w: hax.NamedArray
    b: hax.NamedArray
    scale: float = 1.0


def _weights() -> hax.NamedArray:
    return hax.named(jnp.linspace(0.125, 3.0, 12, dtype=jnp.float32).reshape(3, 4), ("hidden", "embed"))


def test_nested_in_a_module_shows_named_shape_and_dtype_only():
    block = _Block(_weights(), hax.zeros({"hidden": 3}, dtype=jnp.bfloat16), scale=2.0)
    assert repr(block) == "_Block(w=f32{hidden: 3, embed: 4}, b=bf16{hidden: 3}, scale=2.0)"


def test_nested_in_a_pytree_printed_by_equinox_is_short():
    tree = {"w": _weights(), "layers": [hax.arange(hax.Axis("pos", 5))]}
    assert eqx.tree_pformat(tree) == "{'w': f32{hidden: 3, embed: 4}, 'layers': [i32{pos: 5}]}"


def test_top_level_repr_and_unabbreviated_pretty_print_keep_values():
    x = _weights()
    assert "0.125" in repr(x) and "0.125" in str(x)
    assert "0.125" in eqx.tree_pformat({"w": x}, short_arrays=False)


def test_nested_repr_of_a_filtered_out_array_keeps_the_full_form():
    block = eqx.filter(_Block(_weights(), hax.zeros({"hidden": 3})), lambda leaf: False)
    assert "w=NamedArray({hidden: 3, embed: 4}, None)" in repr(block)


def _mesh() -> Mesh:
    if len(jax.devices()) < 8:
        pytest.skip("needs 8 (simulated) devices")
    return Mesh(np.array(jax.devices()[:8]).reshape(4, 2), ("data", "model"))


def _put(mesh: Mesh, spec: PartitionSpec) -> hax.NamedArray:
    return hax.named(jax.device_put(jnp.zeros((8, 4)), NamedSharding(mesh, spec)), ("batch", "embed"))


def test_nested_repr_says_which_mesh_axes_shard_which_named_axes():
    mesh = _mesh()
    tree = {
        "both": _put(mesh, PartitionSpec("data", "model")),
        "batch_only": _put(mesh, PartitionSpec(("data", "model"))),
        "embed_only": _put(mesh, PartitionSpec(None, "model")),
        "replicated": _put(mesh, PartitionSpec()),
    }
    assert eqx.tree_pformat(tree).splitlines() == [
        "{",
        "  'both': f32{batch: 8, embed: 4} sharded{batch: data, embed: model},",
        "  'batch_only': f32{batch: 8, embed: 4} sharded{batch: (data, model)},",
        "  'embed_only': f32{batch: 8, embed: 4} sharded{embed: model},",
        "  'replicated': f32{batch: 8, embed: 4} replicated on 8 devices",
        "}",
    ]


def test_top_level_repr_of_a_sharded_array_names_its_layout_then_values():
    x = _put(_mesh(), PartitionSpec("data"))
    assert repr(x).startswith(
        "NamedArray(f32{batch: 8, embed: 4} sharded{batch: data},\n  [[0., 0., 0., 0.],"
    )


def test_single_device_arrays_say_nothing_about_sharding():
    x = hax.named(jax.device_put(jnp.zeros((2,)), jax.devices()[0]), ("batch",))
    assert eqx.tree_pformat([x]) == "[f32{batch: 2}]"


# ----- treescope -----


def _render_html(figure: object) -> str:
    from treescope import lowering

    return lowering.render_to_html_as_root(figure.treescope_part)  # type: ignore[attr-defined]  # a TreescopeFigure


def test_treescope_facets_are_axis_names_and_columns_are_chosen_by_name():
    treescope = pytest.importorskip("treescope")
    x = hax.named(jnp.arange(24.0).reshape(2, 3, 4), ("batch", "head", "embed"))
    html = _render_html(treescope.render_array(x, columns=["embed"], sliders=["batch"]))
    assert "(axis " not in html
    assert "embed: 4" in html and "head: 3" in html
    from treescope import type_registries
    from treescope.ndarray_adapters import NamedPositionlessAxisInfo

    adapter = type_registries.lookup_ndarray_adapter(x)
    assert adapter is not None
    infos = adapter.get_axis_info_for_array_data(x)
    assert infos == tuple(
        NamedPositionlessAxisInfo(n, s) for n, s in [("batch", 2), ("head", 3), ("embed", 4)]
    )


def test_treescope_mask_is_aligned_by_name():
    treescope = pytest.importorskip("treescope")
    x = hax.named(jnp.arange(6.0).reshape(2, 3), ("batch", "embed"))
    mask = hax.named(jnp.array([True, False, True]), ("embed",))
    adapter = treescope.type_registries.lookup_ndarray_adapter(x)
    assert adapter is not None
    data, valid = adapter.get_array_data_with_truncation(x, mask, (None, None))
    assert data.shape == (2, 3) and valid.tolist() == [[True, False, True]] * 2


def test_treescope_tree_mode_shows_a_named_summary_not_helper_objects():
    treescope = pytest.importorskip("treescope")
    x = hax.named(jnp.arange(6.0).reshape(2, 3), ("batch", "embed"))
    text = treescope.render_to_text({"x": x, "pos": hax.arange(hax.Axis("pos", 3))})
    assert " object at 0x" not in text
    assert "# NamedArray f32{batch: 2, embed: 3} ≈2.5 ±1.7 [≥0.0, ≤5.0] zero:1 nonzero:5" in text
    assert "[3., 4., 5.]]" in text
    assert "'pos': <NamedArray i32{pos: 3} [0, 1, 2]>" in text


def test_treescope_tree_mode_of_a_filtered_out_array_prints_as_repr():
    treescope = pytest.importorskip("treescope")
    block = eqx.filter(_Block(_weights(), hax.zeros({"hidden": 3})), lambda leaf: False)
    text = treescope.render_to_text(block)
    assert "w=NamedArray({hidden: 3, embed: 4}, None)" in text
