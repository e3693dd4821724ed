import sys
from typing import cast

import jax
import jax.numpy as jnp
import pytest

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


def test_importing_haliax_does_not_import_treescope():
    import subprocess

    code = "import sys, haliax as hax; repr(hax.zeros({'a': 2})); print('treescope' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_treescope_renders_axis_names():
    treescope = pytest.importorskip("treescope")
    x = hax.named(jnp.arange(6.0).reshape(2, 3), ("batch", "embed"))
    text = treescope.render_to_text({"x": x})
    assert "NamedArray" in text
    assert "f32{batch: 2, embed: 3}" in text
    from treescope import type_registries
    from treescope.ndarray_adapters import NamedPositionalAxisInfo

    adapter = type_registries.NDARRAY_ADAPTER_REGISTRY[hax.NamedArray]
    infos = adapter.get_axis_info_for_array_data(x)
    assert all(isinstance(info, NamedPositionalAxisInfo) for info in infos)
    names = [cast(NamedPositionalAxisInfo, info).axis_name for info in infos]
    assert names == ["batch", "embed"]
