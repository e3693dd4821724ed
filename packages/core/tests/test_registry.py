"""Registries, proven through real entry points.

Besides the example plugin (a workspace member installed in the dev environment), the tests
install throwaway distributions: a ``*.dist-info`` directory with ``METADATA`` and
``entry_points.txt`` plus the plugin's module, both on ``sys.path``, which `importlib.metadata`
reads exactly as it reads a pip-installed wheel.
"""

import sys
import textwrap
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax.numpy as jnp
import numpy as np
import pytest

import haliax as hax
from haliax.registry import PluginLoadWarning, Registry, RegistryError

InstallPlugin = Callable[..., None]


@pytest.fixture
def install_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> InstallPlugin:
    """Install a distribution for this test only: ``install_plugin(dist, {group: {name: target}}, modules)``."""
    monkeypatch.syspath_prepend(str(tmp_path))

    def install(
        dist: str, entry_points: dict[str, dict[str, str]], modules: dict[str, str] | None = None
    ) -> None:
        info = tmp_path / f"{dist.replace('-', '_')}-0.1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1.0\n")
        (info / "entry_points.txt").write_text(
            "".join(
                f"[{group}]\n" + "".join(f"{name} = {target}\n" for name, target in eps.items())
                for group, eps in entry_points.items()
            )
        )
        for module, source in (modules or {}).items():
            (tmp_path / f"{module}.py").write_text(textwrap.dedent(source))
            monkeypatch.delitem(sys.modules, module, raising=False)  # forgotten again after the test

    return install


BROKEN = "import hx_missing_dependency  # the dependency this plugin forgot to declare\n"
WORKING = "def provided(*args, **kwargs):\n    return 'plugin'\nconstant = 42\n"


def test_example_plugin_op_is_found_through_its_entry_point():
    reg = Registry("haliax.ops", what="op")
    assert "squared_relu_norm" in reg.names()
    op = reg.get("squared_relu_norm")
    assert op.__module__ == "haliax_example_plugin.ops"
    x = hax.named(jnp.array([[-1.0, 1.0], [2.0, 2.0]]), ("batch", "embed"))
    out = op(x, "embed")
    sq = np.maximum(np.asarray(x.array), 0) ** 2
    np.testing.assert_allclose(out.array, sq / (sq.mean(axis=1, keepdims=True) + 1e-6), rtol=1e-6)
    assert out.axes == x.axes


def test_example_plugin_strategy_is_found_through_its_entry_point():
    import jax

    reg = Registry("haliax.sharding_strategies", what="sharding strategy")
    strategy = reg.get("replicated")
    mesh = jax.sharding.Mesh(np.array(jax.devices()[:2]), ("data",))
    assert strategy(None, mesh) == ({}, {"batch": "data"})


def test_top_level_get_op_and_list_ops():
    assert "squared_relu_norm" in hax.list_ops()
    assert hax.get_op("squared_relu_norm") is hax.registry.ops.get("squared_relu_norm")
    assert "replicated" in hax.registry.sharding_strategies.names()


def test_listing_names_imports_no_plugin(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delitem(sys.modules, "haliax_example_plugin.strategies", raising=False)
    reg = Registry("haliax.sharding_strategies")
    assert "replicated" in reg.names()
    assert "haliax_example_plugin.strategies" not in sys.modules
    reg.get("replicated")
    assert "haliax_example_plugin.strategies" in sys.modules


def test_unknown_name_lists_available_names_and_suggests_the_closest():
    reg = Registry("haliax.ops", what="op")
    with pytest.raises(RegistryError) as e:
        reg.get("squared_relu_nrm")
    msg = str(e.value)
    assert msg.startswith(
        "haliax.ops: no op named 'squared_relu_nrm'; did you mean 'squared_relu_norm'? Available: "
    )
    assert "'squared_relu_norm'" in msg.split("Available: ")[1]
    assert "entry-point group 'haliax.ops'" in msg
    assert isinstance(e.value, LookupError)


def test_unknown_name_without_a_close_match():
    reg = Registry("test.group", what="widget")
    with pytest.raises(
        RegistryError, match=r"^test.group: no widget named 'zzz'\. Available: none installed\."
    ):
        reg.get("zzz")


def test_two_plugins_claiming_one_name_is_an_error_naming_both(install_plugin: InstallPlugin):
    install_plugin("pkg-a", {"test.group": {"relu2": "hx_pkg_a:provided"}}, {"hx_pkg_a": WORKING})
    install_plugin(
        "pkg-b",
        {"test.group": {"relu2": "hx_pkg_b:provided", "fine": "hx_pkg_b:provided"}},
        {"hx_pkg_b": WORKING},
    )
    reg = Registry("test.group", what="op")
    assert reg.names() == ("fine", "relu2")
    assert reg.get("fine").__module__ == "hx_pkg_b"  # the conflict does not poison other names
    with pytest.raises(RegistryError) as e:
        reg.get("relu2")
    a = "entry point 'relu2' (hx_pkg_a:provided) from distribution 'pkg-a'"
    b = "entry point 'relu2' (hx_pkg_b:provided) from distribution 'pkg-b'"
    assert str(e.value) in {
        f"test.group: two providers claim the op name 'relu2': {x} and {y}; "
        "uninstall one of them or rename its entry point"
        for x, y in ((a, b), (b, a))
    }


def test_registering_over_a_real_entry_point_names_both_providers():
    reg = Registry("haliax.sharding_strategies", what="sharding strategy")

    def my_replicated(model: Any, mesh: Any) -> tuple[dict, dict]:
        return {}, {}

    with pytest.raises(RegistryError) as e:
        reg.register("replicated", my_replicated, provider="my_app")
    msg = str(e.value)
    assert "two providers claim the sharding strategy name 'replicated'" in msg
    assert "from distribution 'haliax-example-plugin'" in msg
    assert "in-process registration by my_app" in msg
    # the entry point is still the one served
    assert reg.get("replicated").__module__ == "haliax_example_plugin.strategies"


def test_registering_the_object_an_entry_point_names_is_not_a_conflict():
    from haliax_example_plugin.strategies import replicated

    reg = Registry("haliax.sharding_strategies")
    reg.register("replicated", replicated)
    assert reg.get("replicated") is replicated


def test_in_process_registration_and_unregister():
    reg: Registry[Any] = Registry("test.group", what="op")
    reg.register("double", lambda x: 2 * x)
    assert reg.names() == ("double",)
    assert reg.get("double")(3) == 6
    with pytest.raises(RegistryError, match="two providers claim the op name 'double'"):
        reg.register("double", lambda x: x + x, provider="elsewhere")
    reg.unregister("double")
    assert "double" not in reg


def test_a_failing_plugin_gives_one_warning_and_never_breaks_the_rest(install_plugin: InstallPlugin):
    install_plugin(
        "broken-plugin", {"test.group": {"bad": "hx_broken_plugin:provided"}}, {"hx_broken_plugin": BROKEN}
    )
    install_plugin(
        "good-plugin", {"test.group": {"good": "hx_good_plugin:provided"}}, {"hx_good_plugin": WORKING}
    )
    reg = Registry("test.group", what="op")
    expected = (
        "test.group: the plugin for op 'bad' (entry point 'bad' (hx_broken_plugin:provided) from "
        "distribution 'broken-plugin') failed to import: ModuleNotFoundError: "
        "No module named 'hx_missing_dependency'"
    )
    with pytest.warns(PluginLoadWarning) as record:
        loaded = reg.load_all()
    assert list(loaded) == ["good"] and loaded["good"].__module__ == "hx_good_plugin"
    assert [str(w.message) for w in record] == [expected]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no second warning
        with pytest.raises(RegistryError) as e:
            reg.get("bad")
        assert str(e.value) == expected
        assert isinstance(e.value.__cause__, ModuleNotFoundError)
        assert reg.get("good") is loaded["good"]


def test_a_plugin_providing_a_non_callable_is_rejected(install_plugin: InstallPlugin):
    install_plugin("p", {"test.group": {"nope": "hx_p:constant"}}, {"hx_p": WORKING})
    reg = Registry("test.group", what="op", check=callable)
    with (
        pytest.warns(PluginLoadWarning),
        pytest.raises(RegistryError, match="provides int, which is not a valid op"),
    ):
        reg.get("nope")


# ----- the three registries haliax fills itself: a plugin never replaces or disables a built-in -----
# group, a built-in name, the distribution that provides it, the module the built-in lives in.
BUILT_INS = [
    ("haliax.ops", "int8_dot_general", "haliax-quantization", "haliax.quantization._src.int8"),
    ("haliax.sharding_strategies", "fsdp", "haliax-partitioning", "haliax.partitioning._src.strategies"),
    ("haliax.attention_kernels", "xla", "haliax-nn", "haliax.nn._src.fused_attention"),
]


def _builtin_registry(group: str, builtin_module: str) -> Registry[Any]:
    pytest.importorskip(builtin_module.rsplit("._src", 1)[0])  # the distribution that provides it
    return Registry(group, check=callable)


@pytest.mark.parametrize(("group", "name", "dist", "module"), BUILT_INS, ids=[b[0] for b in BUILT_INS])
def test_a_plugin_claiming_a_built_in_name_is_an_error_naming_both_distributions(
    install_plugin: InstallPlugin, group: str, name: str, dist: str, module: str
):
    install_plugin(
        "hx-rival-plugin",
        {group: {name: "hx_rival_plugin:provided", "rival_only": "hx_rival_plugin:provided"}},
        {"hx_rival_plugin": WORKING},
    )
    reg = _builtin_registry(group, module)
    assert reg.names().count(name) == 1  # listing imports nothing and raises nothing
    assert len(reg.providers(name)) == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(RegistryError) as e:
            reg.get(name)
    msg = str(e.value)
    assert msg.startswith(f"{group}: two providers claim the ")
    assert f"from distribution {dist!r}" in msg
    assert "(hx_rival_plugin:provided) from distribution 'hx-rival-plugin'" in msg
    assert msg.endswith("; uninstall one of them or rename its entry point")
    with pytest.raises(RegistryError):  # asked again: still an error, never the plugin's object
        reg.get(name)
    assert reg.get("rival_only").__module__ == "hx_rival_plugin"  # its other names work


@pytest.mark.parametrize(("group", "name", "dist", "module"), BUILT_INS, ids=[b[0] for b in BUILT_INS])
def test_a_broken_plugin_claiming_a_built_in_name_warns_once_and_the_built_in_is_served(
    install_plugin: InstallPlugin, group: str, name: str, dist: str, module: str
):
    install_plugin(
        "hx-broken-rival", {group: {name: "hx_broken_rival:provided"}}, {"hx_broken_rival": BROKEN}
    )
    reg = _builtin_registry(group, module)
    with pytest.warns(PluginLoadWarning) as record:
        builtin = reg.get(name)
    assert builtin.__module__ == module
    assert len(record) == 1
    message = str(record[0].message)
    assert message.startswith(f"{group}: the plugin for ")
    assert "from distribution 'hx-broken-rival') failed to import: ModuleNotFoundError" in message
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # one warning, not one per lookup
        assert reg.get(name) is builtin
        assert len(reg.load_all()) == len(reg.names())


def test_registry_for_returns_one_registry_per_group():
    assert hax.registry.registry_for("haliax.ops") is hax.registry.ops
    assert hax.registry.registry_for("haliax.sharding_strategies") is hax.registry.sharding_strategies


def test_built_ins_resolve_from_a_source_checkout_without_installed_metadata(monkeypatch: pytest.MonkeyPatch):
    # `PYTHONPATH=packages/*/src python ...` has no dist-info: the packages' pyproject.toml files
    # declare the built-ins then. Simulate it by hiding every installed entry point.
    import haliax._src.plugins.registry as registry_module

    monkeypatch.setattr(registry_module, "entry_points", lambda group: [])
    kernels: Registry[Any] = Registry("haliax.attention_kernels", what="attention kernel")
    assert {"xla", "cudnn", "jax_xla"} <= set(kernels.names())
    (source,) = kernels.providers("xla")
    assert "source checkout 'haliax-nn'" in source
    kernel = kernels.get("xla")
    assert (kernel.__module__, kernel.__name__) == ("haliax.nn._src.fused_attention", "xla_attention")
    strategies: Registry[Any] = Registry("haliax.sharding_strategies", what="sharding strategy")
    assert {"dp", "fsdp", "tp", "fsdp+tp"} <= set(strategies.names())
    assert callable(strategies.get("fsdp"))
    ops: Registry[Any] = Registry("haliax.ops", what="op")
    assert {"fp8_dot_general", "int8_dot_general"} <= set(ops.names())


def test_an_installed_package_and_its_source_checkout_are_one_provider():
    # In this environment the packages are installed (editable) from this very checkout: both the
    # metadata and pyproject.toml declare each built-in, and it must not count as a conflict.
    kernels: Registry[Any] = Registry("haliax.attention_kernels", what="attention kernel")
    assert len(kernels.providers("xla")) == 1
    assert callable(kernels.get("xla"))
