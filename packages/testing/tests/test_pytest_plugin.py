"""The pytest plugin, exercised through pytester: fixtures, the needs_devices marker, entry point."""

import jax
import pytest

pytest_plugins = ["pytester"]


def test_needs_devices_skips_when_too_few_devices_are_present(pytester):
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.needs_devices(1)
        def test_runs():
            pass

        @pytest.mark.needs_devices(100000)
        def test_skipped():
            pass
        """
    )
    result = pytester.runpytest("-rs", "--strict-markers", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(
        [f"*needs_devices: the test needs 100000 devices but {jax.device_count()} are present*"]
    )


def test_needs_devices_rejects_a_malformed_marker(pytester):
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.needs_devices("two")
        def test_bad():
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(
        ["*needs_devices: expected one positive int, as in @pytest.mark.needs_devices(4)*"]
    )
    assert result.ret != 0


def test_mesh_fixture_builds_the_default_and_requested_shapes(pytester):
    pytester.makepyfile(
        """
        import jax
        import pytest

        @pytest.mark.needs_devices(8)
        def test_default(mesh):
            assert isinstance(mesh, jax.sharding.Mesh)
            assert dict(mesh.shape) == {"data": 4, "model": 2}

        @pytest.mark.parametrize("mesh", [{"data": 2}, {"x": 1, "y": 2}], indirect=True)
        def test_requested(mesh):
            assert mesh.devices.size in (2,)

        @pytest.mark.parametrize("mesh", [{"data": 100000}], indirect=True)
        def test_too_big(mesh):
            pass
        """
    )
    result = pytester.runpytest("-rs", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, skipped=1)
    result.stdout.fnmatch_lines(["*mesh: a mesh of shape {'data': 100000} needs 100000 devices*"])


def test_prng_key_fixture_is_a_typed_key_seeded_by_param(pytester):
    pytester.makepyfile(
        """
        import jax
        import pytest

        def test_default(prng_key):
            assert jax.dtypes.issubdtype(prng_key.dtype, jax.dtypes.prng_key)
            assert (jax.random.key_data(prng_key) == jax.random.key_data(jax.random.key(0))).all()

        @pytest.mark.parametrize("prng_key", [7], indirect=True)
        def test_seeded(prng_key):
            assert (jax.random.key_data(prng_key) == jax.random.key_data(jax.random.key(7))).all()
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_gpu_aot_mesh_fixture_gives_compile_only_gpus_or_skips_saying_why(pytester):
    pytester.makepyfile(
        """
        def test_uses_it(gpu_aot_mesh):
            (device,) = gpu_aot_mesh.devices.flat
            assert device.platform == "gpu" and "H100" in device.device_kind
        """
    )
    result = pytester.runpytest("-rs", "-p", "no:cacheprovider")
    outcomes = result.parseoutcomes()
    if outcomes.get("skipped"):  # no CUDA plugin here (CI): the reason names the fix
        result.stdout.fnmatch_lines(["*cannot describe a h100 without the CUDA plugin*jax[[]cuda12[]]*"])
    else:
        result.assert_outcomes(passed=1)


def test_plugin_loads_in_a_fresh_process_and_honours_jax_platforms_from_conftest(pytester, monkeypatch):
    # pytest imports the plugin (and jax) before conftest.py runs; the plugin re-applies JAX_PLATFORMS.
    monkeypatch.delenv("JAX_PLATFORMS", raising=False)
    pytester.makeconftest("import os\nos.environ['JAX_PLATFORMS'] = 'cpu'\n")
    pytester.makepyfile(
        """
        import jax
        import pytest

        @pytest.mark.needs_devices(1)
        def test_platform(pytestconfig):
            assert jax.config.jax_platforms == "cpu"
            assert any(m.startswith("needs_devices(n):") for m in pytestconfig.getini("markers"))
        """
    )
    result = pytester.runpytest_subprocess("--strict-markers", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result = pytester.runpytest("--fixtures", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["mesh*", "*jax.sharding.Mesh*", "prng_key*"])


def test_plugin_module_is_thin():
    import haliax.testing.pytest_plugin as plugin

    public = {n for n in vars(plugin) if n.isidentifier() and not n.startswith("_")}
    assert public == {"gpu_aot_mesh", "mesh", "prng_key", "pytest_configure", "pytest_runtest_setup"}


@pytest.mark.needs_devices(2)
def test_needs_devices_marker_works_in_this_suite():
    assert jax.device_count() >= 2
