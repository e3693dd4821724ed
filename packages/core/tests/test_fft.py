import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import haliax as hax
from haliax.fft import ifft

T, F, B = hax.Axis("time", 8), hax.Axis("freq", 6), hax.Axis("batch", 2)
RAW = jax.random.normal(jax.random.PRNGKey(0), (T.size, B.size, F.size))
X = hax.named(RAW, (T, B, F))


def _close(a, b):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-4)


def test_fft_over_one_axis_by_name():
    out = hax.fft(X, "freq")
    assert out.axes == X.axes
    _close(out.array, jnp.fft.fft(RAW, axis=2))
    _close(ifft(out, F).array, RAW)


def test_fft_over_several_axes():
    out = hax.fft(X, ("freq", "time"))
    assert out.axes == X.axes
    _close(out.array, jnp.fft.fftn(RAW, axes=(2, 0)))
    _close(hax.ifft(out, (T, F)).array, RAW)


def test_fft_mapping_resizes_and_renames():
    out = hax.fft(X, {"time": 4, "freq": hax.Axis("k", 10)})
    assert out.axes == (hax.Axis("time", 4), B, hax.Axis("k", 10))
    _close(out.array, jnp.fft.fftn(RAW, s=(4, 10), axes=(0, 2)))
    same = hax.fft(X, {"freq": None})
    _close(same.array, jnp.fft.fft(RAW, axis=2))


def test_rfft_and_irfft_roundtrip():
    spec = hax.rfft(X, "time")
    assert spec.axes == (hax.Axis("time", 5), B, F)
    _close(spec.array, jnp.fft.rfft(RAW, axis=0))
    assert hax.irfft(spec, "time").axes == X.axes  # 2 * (5 - 1) == 8
    _close(hax.irfft(spec, {"time": 8}).array, RAW)
    spec2 = hax.rfft(X, ("freq", "time"), norm="ortho")
    assert spec2.axes == (hax.Axis("time", 5), B, F)
    _close(spec2.array, jnp.fft.rfftn(RAW, axes=(2, 0), norm="ortho"))
    _close(hax.irfft(spec2, {"freq": None, "time": 8}, norm="ortho").array, RAW)


def test_hfft_and_ihfft_take_one_axis():
    out = hax.hfft(X, "freq")
    assert out.axes == (T, B, hax.Axis("freq", 10))
    _close(out.array, jnp.fft.hfft(RAW, axis=2))
    _close(hax.ihfft(X, "time").array, jnp.fft.ihfft(RAW, axis=0))
    with pytest.raises(
        TypeError, match=r"^hfft: transforms one axis at a time, got 2 axes; call it once per axis$"
    ):
        hax.hfft(X, ("time", "freq"))


def test_frequencies_and_shifts():
    assert hax.fftfreq(F, d=0.5).array.tolist() == jnp.fft.fftfreq(6, d=0.5).tolist()
    r = hax.rfftfreq(T)
    assert r.axes == (hax.Axis("time", 5),)
    _close(r.array, jnp.fft.rfftfreq(8))
    shifted = hax.fftshift(X, "freq")
    _close(shifted.array, jnp.fft.fftshift(RAW, axes=(2,)))
    _close(hax.ifftshift(shifted, "freq").array, RAW)
    _close(hax.fftshift(X).array, jnp.fft.fftshift(RAW))
    with pytest.raises(TypeError, match=r"^fftfreq: axis must be an Axis with a size, got 'freq'$"):
        hax.fftfreq("freq")  # pyright: ignore[reportArgumentType]  # wrong type on purpose: pins the runtime error


def test_fft_errors_name_the_op():
    with pytest.raises(
        ValueError,
        match=r"^fft: axis 'frq' not found in \{time: 8, batch: 2, freq: 6\}; did you mean 'freq'\?$",
    ):
        hax.fft(X, "frq")
    with pytest.raises(TypeError, match=r"^rfft: expected a NamedArray, got ArrayImpl$"):
        hax.rfft(RAW, "time")  # pyright: ignore[reportArgumentType]  # wrong type on purpose: pins the runtime error


def test_fft_poly_field_attributes_are_the_functions():
    import haliax.fft as fft_attr

    assert callable(hax.fft) and hax.fft.__name__ == "fft"
    assert fft_attr is hax.fft
    assert sys.modules["haliax.fft"].ifft is ifft
    assert hax.poly.__name__ == "poly" and sys.modules["haliax.poly"].polyval is hax.polyval
    assert hax.field.__name__ == "field" and sys.modules["haliax.field"].field is hax.field


def test_fft_under_jit():
    out = jax.jit(lambda x: hax.fft(x, {"time": 4}))(X)
    assert out.axes == (hax.Axis("time", 4), B, F)


def test_fft_defaults_to_the_last_axis():
    out = hax.fft(X)
    assert out.axes == X.axes
    _close(out.array, jnp.fft.fft(RAW, axis=-1))
    _close(hax.rfft(X).array, jnp.fft.rfft(RAW, axis=-1))


def test_one_axis_object_sets_the_length_and_names_the_result():
    T16 = hax.Axis("time", 16)
    out = hax.fft(X, T16)
    assert out.axes == (T16, B, F)
    _close(out.array, jnp.fft.fft(RAW, n=16, axis=0))
    spectrum = hax.rfft(X, hax.Axis("time", 10))
    assert spectrum.axes[0] == hax.Axis("time", 6)
    back = hax.irfft(spectrum, hax.Axis("time", 10))
    assert back.axes == (hax.Axis("time", 10), B, F)
    _close(back.array, jnp.fft.irfft(jnp.fft.rfft(RAW, n=10, axis=0), n=10, axis=0))
