import importlib
import subprocess
import sys
import textwrap

import pytest

import haliax as hax
from haliax._src.plugins import lazy


def _pretend_missing(monkeypatch: pytest.MonkeyPatch, module_name: str) -> None:
    real = importlib.import_module

    def fake_import(name: str, package: str | None = None):
        if name == module_name or name.startswith(module_name + "."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real(name, package)

    monkeypatch.setattr(lazy.importlib, "import_module", fake_import)
    monkeypatch.delitem(hax.__dict__, module_name.rsplit(".", 1)[1], raising=False)


def test_missing_submodule_names_the_distribution_to_install(monkeypatch: pytest.MonkeyPatch):
    _pretend_missing(monkeypatch, "haliax.nn")
    with pytest.raises(ImportError) as e:
        hax.nn  # noqa: B018
    assert str(e.value) == (
        "haliax.nn is shipped by the distribution 'haliax-nn', which is not installed; "
        "install it with `pip install haliax-nn` (or `pip install haliax` for the full stack)"
    )


def test_missing_top_level_name_names_its_module_and_distribution(monkeypatch: pytest.MonkeyPatch):
    _pretend_missing(monkeypatch, "haliax.partitioning")
    monkeypatch.delitem(hax.__dict__, "named_jit", raising=False)
    with pytest.raises(ImportError) as e:
        hax.named_jit  # noqa: B018
    assert str(e.value) == (
        "haliax.named_jit lives in haliax.partitioning, which is shipped by the distribution "
        "'haliax-partitioning', which is not installed; install it with `pip install haliax-partitioning` "
        "(or `pip install haliax` for the full stack)"
    )


def test_a_missing_dependency_inside_an_installed_package_is_not_reworded(monkeypatch: pytest.MonkeyPatch):
    def fake_import(name: str, package: str | None = None):
        raise ModuleNotFoundError("No module named 'some_dep'", name="some_dep")

    monkeypatch.setattr(lazy.importlib, "import_module", fake_import)
    monkeypatch.delitem(hax.__dict__, "quantization", raising=False)
    with pytest.raises(ModuleNotFoundError, match="some_dep"):
        hax.quantization  # noqa: B018


def test_lazy_names_resolve_to_the_owning_module(monkeypatch: pytest.MonkeyPatch):
    import types

    fake = types.ModuleType("haliax.partitioning")
    fake.shard = lambda x: x  # type: ignore[attr-defined]  # a stand-in module
    monkeypatch.setitem(sys.modules, "haliax.partitioning", fake)
    saved = {k: hax.__dict__.pop(k) for k in ("shard", "partitioning") if k in hax.__dict__}
    try:
        assert hax.shard is fake.shard
        assert hax.partitioning is fake
    finally:
        for k in ("shard", "partitioning"):
            hax.__dict__.pop(k, None)
        hax.__dict__.update(saved)


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="module 'haliax' has no attribute 'no_such_name'"):
        hax.no_such_name  # noqa: B018


def test_dir_lists_lazy_names():
    names = dir(hax)
    for n in ["nn", "partitioning", "shard", "named_jit", "fsdp", "NamedArray"]:
        assert n in names


def test_import_haliax_imports_no_other_distribution():
    code = textwrap.dedent(
        """
        import sys, haliax
        others = [m for m in sys.modules if m.split(".")[:2] in (["haliax", "nn"], ["haliax", "partitioning"],
                  ["haliax", "quantization"]) or m.startswith("haliax_example_plugin")]
        print(others)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_deprecated_alias_warns_and_names_the_replacement() -> None:
    import pytest

    import haliax

    with pytest.warns(
        DeprecationWarning, match=r"haliax.concat_axis_specs is deprecated; use haliax.axis.concat_axes"
    ):
        f = haliax.concat_axis_specs
    assert f is haliax.axis.concat_axes
