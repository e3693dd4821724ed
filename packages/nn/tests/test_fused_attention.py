"""fused_attention's kernel registry under third-party plugins, through real entry points.

Each test installs a throwaway distribution (a ``*.dist-info`` directory with ``entry_points.txt``
and the plugin's module on ``sys.path``), which `importlib.metadata` reads like any installed wheel,
and gives ``fused_attention`` a fresh registry that scans it.
"""

import sys
import warnings
from pathlib import Path

import jax
import numpy as np
import pytest

import haliax as hax
import haliax.nn.attention as attn
from haliax.nn._src import fused_attention as fused_mod
from haliax.registry import PluginLoadWarning, Registry, RegistryError

Pos, KPos, Heads, Key = hax.Axis("pos", 4), hax.Axis("kpos", 4), hax.Axis("heads", 2), hax.Axis("key", 8)
q = hax.random.normal(jax.random.PRNGKey(0), (Pos, Heads, Key))
k = hax.random.normal(jax.random.PRNGKey(1), (KPos, Heads, Key))
v = hax.random.normal(jax.random.PRNGKey(2), (KPos, Heads, Key))


def _install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dist: str, kernels: dict[str, str], module: str
):
    """Install ``dist`` declaring ``kernels`` (name -> attribute of hx_kernel_plugin) and its module."""
    monkeypatch.syspath_prepend(str(tmp_path))
    info = tmp_path / f"{dist.replace('-', '_')}-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1.0\n")
    lines = "".join(f"{name} = hx_kernel_plugin:{attr}\n" for name, attr in kernels.items())
    (info / "entry_points.txt").write_text(f"[haliax.attention_kernels]\n{lines}")
    (tmp_path / "hx_kernel_plugin.py").write_text(module)
    monkeypatch.delitem(sys.modules, "hx_kernel_plugin", raising=False)
    # fused_attention looks kernels up in this fresh registry, which sees the plugin just installed.
    monkeypatch.setattr(
        fused_mod,
        "attention_kernels",
        Registry("haliax.attention_kernels", what="attention kernel", check=callable),
    )
    monkeypatch.setattr(fused_mod, "_warned", set())


def test_built_in_kernels_are_entry_points_of_haliax_nn():
    reg = Registry("haliax.attention_kernels")
    for name in ("xla", "cudnn", "jax_xla"):
        assert reg.providers(name) == (
            f"entry point {name!r} (haliax.nn._src.fused_attention:{name}_attention) "
            "from distribution 'haliax-nn'",
        )


def test_a_broken_kernel_plugin_claiming_cudnn_leaves_the_default_path_working(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    _install(tmp_path, monkeypatch, "hx-broken-kernels", {"cudnn": "cudnn"}, "import hx_missing_dependency\n")
    ref = attn.dot_product_attention(KPos, Key, q, k, v)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        out = attn.fused_attention(Pos, KPos, Key, q, k, v)  # the default kernel, cudnn
    plugin_warnings = [w for w in record if issubclass(w.category, PluginLoadWarning)]
    assert len(plugin_warnings) == 1
    assert "from distribution 'hx-broken-kernels') failed to import" in str(plugin_warnings[0].message)
    assert all(
        issubclass(w.category, (PluginLoadWarning, attn.FusedAttentionFallbackWarning)) for w in record
    )
    np.testing.assert_allclose(out.rearrange(ref.axes).array, ref.array, rtol=1e-5, atol=1e-6)
    assert fused_mod.attention_kernels.get("cudnn") is fused_mod.cudnn_attention  # ours, not disabled
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no second PluginLoadWarning (the fallback already warned once)
        again = attn.fused_attention(Pos, KPos, Key, q, k, v)
        attn.fused_attention(Pos, KPos, Key, q, k, v, implementation="xla")
    np.testing.assert_array_equal(again.array, out.array)


def test_a_kernel_plugin_claiming_xla_is_an_error_naming_both_distributions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    plugin = "def xla(QPos, KPos, Key, query, key, value, **kwargs):\n    return query * 0\n"
    _install(tmp_path, monkeypatch, "hx-rival-kernels", {"xla": "xla"}, plugin)
    assert attn.list_attention_kernels().count("xla") == 1
    with pytest.raises(RegistryError) as e:
        attn.fused_attention(Pos, KPos, Key, q, k, v, implementation="xla")
    msg = str(e.value)
    assert msg.startswith("haliax.attention_kernels: two providers claim the attention kernel name 'xla': ")
    assert "(haliax.nn._src.fused_attention:xla_attention) from distribution 'haliax-nn'" in msg
    assert "(hx_kernel_plugin:xla) from distribution 'hx-rival-kernels'" in msg
    # The default path never runs the rival: cudnn (no float32 kernel) falls back to our reference.
    with pytest.warns(attn.FusedAttentionFallbackWarning):
        out = attn.fused_attention(Pos, KPos, Key, q, k, v)
    ref = attn.dot_product_attention(KPos, Key, q, k, v)
    np.testing.assert_allclose(out.rearrange(ref.axes).array, ref.array, rtol=1e-5, atol=1e-6)
