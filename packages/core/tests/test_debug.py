from typing import Generic, TypeVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import haliax as hax
from haliax.debug import (
    ModuleProblems,
    describe_array,
    diagnose_common_issues,
    visualize_named_sharding,
    visualize_shardings,
)

A = TypeVar("A")
B = TypeVar("B")


class Pair(eqx.Module, Generic[A, B]):
    a: A
    b: B


class WithStatic(eqx.Module):
    w: hax.NamedArray
    table: np.ndarray = eqx.field(static=True)


def test_describe_array():
    assert describe_array(hax.zeros({"batch": 4, "embed": 3})) == "f32{batch: 4, embed: 3}"
    assert describe_array(jnp.zeros((2, 5), jnp.bfloat16)) == "bf16[2, 5]"
    assert describe_array(3) == "int"


def test_healthy_module_passes():
    diagnose_common_issues(Pair(hax.zeros({"x": 2}), hax.zeros({"x": 2})))


def test_reused_array_is_reported_with_both_paths():
    w = hax.zeros({"x": 2})
    with pytest.raises(ModuleProblems) as e:
        diagnose_common_issues(Pair(w, w))
    ((array, paths),) = e.value.reused_arrays  # (the array, its paths), as in Haliax
    assert array is w and paths == [".a", ".b"]
    assert str(e.value) == (
        "diagnose_common_issues: found problems in the module:\n"
        "- one array is reused by 2 fields (.a, .b); each field becomes a separate parameter in gradients "
        "and optimizer state: share one field, or copy the array if they should differ"
    )


def test_reused_array_in_nested_modules_lists_every_path_in_order():
    inner = Pair(hax.zeros({"x": 2}), None)
    inner = Pair(inner.a, inner.a)
    with pytest.raises(ModuleProblems) as e:
        diagnose_common_issues(Pair(inner, inner.a.array))
    assert [paths for _, paths in e.value.reused_arrays] == [[".a.a", ".a.b", ".b"]]


def test_array_in_static_field_is_reported():
    with pytest.warns(UserWarning) if _eqx_warns_on_static_arrays() else _nullcontext():
        m = WithStatic(hax.zeros({"x": 2}), np.zeros(3))
    with pytest.raises(ModuleProblems) as e:
        diagnose_common_issues({"layer": m})
    assert e.value.static_arrays == ["['layer'].table"]
    assert "['layer'].table is a static field holding an array" in str(e.value)
    assert isinstance(e.value, ValueError)


def _eqx_warns_on_static_arrays() -> bool:
    import warnings

    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        WithStatic(hax.zeros({"x": 2}), np.zeros(3))
    return bool(rec)


class _nullcontext:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None


def _sharded() -> hax.NamedArray:
    mesh = jax.sharding.Mesh(np.array(jax.devices()[:4]).reshape(2, 2), ("data", "model"))
    raw = jax.device_put(
        jnp.zeros((4, 6)), jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("data", None))
    )
    return hax.named(raw, ("batch", "embed"))


def test_visualize_named_sharding_text_table(capsys: pytest.CaptureFixture[str]):
    visualize_named_sharding(_sharded(), use_rich=False)
    assert capsys.readouterr().out.splitlines() == [
        "f32{batch: 4, embed: 6}",
        "axis   size  mesh axes   per device",
        "-----  ----  ----------  ----------",
        "batch  4     data (2)    2",
        "embed  6     replicated  6",
    ]


def test_visualize_shardings_walks_a_tree(capsys: pytest.CaptureFixture[str]):
    visualize_shardings({"x": _sharded(), "raw": jnp.zeros(3), "n": 1}, use_rich=False)
    out = capsys.readouterr().out
    assert "['x']: f32{batch: 4, embed: 6}" in out
    assert "['raw']: f32[3]" in out
    assert "dim 0  3     replicated  3" in out
    assert "['n']" not in out


def test_visualize_with_rich(capsys: pytest.CaptureFixture[str]):
    pytest.importorskip("rich")
    visualize_named_sharding(_sharded(), use_rich=True)
    out = capsys.readouterr().out
    assert "batch" in out and "data (2)" in out
