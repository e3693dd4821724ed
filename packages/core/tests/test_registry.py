import dataclasses
import sys
import warnings
from typing import Any

import jax.numpy as jnp
import numpy as np
import pytest

import haliax as hax
from haliax._src import registry as registry_mod
from haliax.registry import PluginLoadWarning, Registry, RegistryError


@dataclasses.dataclass
class _Dist:
    name: str


@dataclasses.dataclass
class _FakeEntryPoint:
    name: str
    value: str
    dist: _Dist
    load_fn: Any

    def load(self) -> Any:
        return self.load_fn()


def _fake_entry_points(monkeypatch: pytest.MonkeyPatch, eps: list[_FakeEntryPoint]) -> None:
    monkeypatch.setattr(registry_mod, "entry_points", lambda group: [e for e in eps if group == "test.group"])


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


def test_unknown_name_without_a_close_match(monkeypatch: pytest.MonkeyPatch):
    _fake_entry_points(monkeypatch, [])
    reg = Registry("test.group", what="widget")
    with pytest.raises(
        RegistryError, match=r"^test.group: no widget named 'zzz'\. Available: none installed\."
    ):
        reg.get("zzz")


def test_two_plugins_claiming_one_name_is_an_error_naming_both(monkeypatch: pytest.MonkeyPatch):
    _fake_entry_points(
        monkeypatch,
        [
            _FakeEntryPoint("relu2", "pkg_a.ops:relu2", _Dist("pkg-a"), lambda: abs),
            _FakeEntryPoint("relu2", "pkg_b.ops:relu2", _Dist("pkg-b"), lambda: abs),
            _FakeEntryPoint("fine", "pkg_b.ops:fine", _Dist("pkg-b"), lambda: abs),
        ],
    )
    reg = Registry("test.group", what="op")
    assert reg.get("fine") is abs  # the conflict does not poison other names
    with pytest.raises(RegistryError) as e:
        reg.get("relu2")
    assert str(e.value) == (
        "test.group: two providers claim the op name 'relu2': "
        "entry point 'relu2' (pkg_a.ops:relu2) from distribution 'pkg-a' and "
        "entry point 'relu2' (pkg_b.ops:relu2) from distribution 'pkg-b'; "
        "uninstall one of them or rename its entry point"
    )


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


def test_in_process_registration_and_unregister(monkeypatch: pytest.MonkeyPatch):
    _fake_entry_points(monkeypatch, [])
    reg: Registry[Any] = Registry("test.group", what="op")
    reg.register("double", lambda x: 2 * x)
    assert reg.names() == ("double",)
    assert reg.get("double")(3) == 6
    with pytest.raises(RegistryError, match="two providers claim the op name 'double'"):
        reg.register("double", lambda x: x + x, provider="elsewhere")
    reg.unregister("double")
    assert "double" not in reg


def test_a_failing_plugin_gives_one_warning_and_never_breaks_the_rest(monkeypatch: pytest.MonkeyPatch):
    def broken() -> Any:
        raise ImportError("No module named 'missing_dep'")

    _fake_entry_points(
        monkeypatch,
        [
            _FakeEntryPoint("bad", "broken_plugin.ops:bad", _Dist("broken-plugin"), broken),
            _FakeEntryPoint("good", "good_plugin.ops:good", _Dist("good-plugin"), lambda: abs),
        ],
    )
    reg = Registry("test.group", what="op")
    expected = (
        "test.group: the plugin for op 'bad' (entry point 'bad' (broken_plugin.ops:bad) from distribution "
        "'broken-plugin') failed to import: ImportError: No module named 'missing_dep'"
    )
    with pytest.warns(PluginLoadWarning) as record:
        loaded = reg.load_all()
    assert loaded == {"good": abs}
    assert [str(w.message) for w in record] == [expected]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no second warning
        with pytest.raises(RegistryError) as e:
            reg.get("bad")
        assert str(e.value) == expected
        assert reg.get("good") is abs


def test_a_plugin_providing_a_non_callable_is_rejected(monkeypatch: pytest.MonkeyPatch):
    _fake_entry_points(monkeypatch, [_FakeEntryPoint("nope", "p:nope", _Dist("p"), lambda: 42)])
    reg = Registry("test.group", what="op", check=callable)
    with (
        pytest.warns(PluginLoadWarning),
        pytest.raises(RegistryError, match="provides int, which is not a valid op"),
    ):
        reg.get("nope")


def test_registry_for_returns_one_registry_per_group():
    assert hax.registry.registry_for("haliax.ops") is hax.registry.ops
    assert hax.registry.registry_for("haliax.sharding_strategies") is hax.registry.sharding_strategies
