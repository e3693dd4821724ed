"""Assertions that compare NamedArrays by axis name: `assert_named_allclose`, `assert_axes_equal`.

Arrays are aligned by name, so two arrays that hold the same named data in different axis orders
compare equal. Failure messages say which axes differ (by name and size) and, for values, where
the worst element is, as ``{axis name: index}``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from haliax import NamedArray
from haliax.axis import Axis
from haliax.extend import format_shape

AxesLike = NamedArray | Sequence[Axis] | Mapping[str, int]


def _axes_of(x: Any, what: str) -> tuple[Axis, ...]:
    if isinstance(x, NamedArray):
        return x.axes
    if isinstance(x, Axis):
        return (x,)
    if isinstance(x, Mapping):
        return tuple(Axis(n, s) for n, s in x.items())
    if isinstance(x, Sequence) and not isinstance(x, str) and all(isinstance(a, Axis) for a in x):
        return tuple(x)
    raise TypeError(
        f"{what}: expected a NamedArray, a sequence of Axis or a {{name: size}} dict, got {type(x).__name__}"
    )


def _axis_differences(actual: tuple[Axis, ...], expected: tuple[Axis, ...]) -> list[str]:
    """One line per axis that differs in name or size (order ignored)."""
    got = {ax.name: ax.size for ax in actual}
    want = {ax.name: ax.size for ax in expected}
    lines = []
    for name, size in want.items():
        if name not in got:
            lines.append(f"  axis {name!r} (size {size}) is missing from actual")
        elif got[name] != size:
            lines.append(f"  axis {name!r} has size {got[name]} in actual but {size} in expected")
    for name, size in got.items():
        if name not in want:
            lines.append(f"  axis {name!r} (size {size}) is in actual but not in expected")
    return lines


def assert_axes_equal(actual: AxesLike, expected: AxesLike, *, ignore_order: bool = False) -> None:
    """Assert that two arrays (or axis tuples, or ``{name: size}`` dicts) have the same axes.

    Names and sizes must agree; so must the order unless ``ignore_order``. The message lists every
    axis that differs.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax, haliax.testing as ht
        >>> x = hax.named(jnp.zeros((2, 3)), ("batch", "embed"))
        >>> ht.assert_axes_equal(x, {"batch": 2, "embed": 3})
        >>> ht.assert_axes_equal(x, {"embed": 3, "batch": 2}, ignore_order=True)
    """
    got = _axes_of(actual, "assert_axes_equal")
    want = _axes_of(expected, "assert_axes_equal")
    lines = _axis_differences(got, want)
    if not lines and not ignore_order and got != want:
        lines.append(f"  same axes, different order: {[a.name for a in got]} vs {[a.name for a in want]}")
    if lines:
        raise AssertionError(
            f"assert_axes_equal: axes differ: actual {format_shape(got)}, expected {format_shape(want)}\n"
            + "\n".join(lines)
        )


def _to_numpy(x: Any) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype == np.bool_ or np.issubdtype(arr.dtype, np.integer):
        return arr.astype(np.float64)
    if np.issubdtype(arr.dtype, np.complexfloating):
        return arr.astype(np.complex128)
    return arr.astype(np.float64)  # also turns bfloat16 and float8 (ml_dtypes) into plain floats


def _index_str(axes: tuple[Axis, ...], index: tuple[int, ...]) -> str:
    return "{" + ", ".join(f"{ax.name}: {i}" for ax, i in zip(axes, index, strict=True)) + "}"


def assert_named_allclose(
    actual: Any,
    expected: Any,
    rtol: float = 1e-5,
    atol: float = 1e-8,
    *,
    equal_nan: bool = True,
) -> None:
    """Assert that two NamedArrays hold the same values, matching axes by name.

    Axis order does not matter: ``expected`` is transposed to ``actual``'s order before the
    comparison, which is numpy's ``|actual - expected| <= atol + rtol * |expected|``. An
    ``expected`` that is not a NamedArray (a numpy array or a scalar) is read in ``actual``'s
    axis order. Failures say which axes differ in name or size, or how many elements are off and
    the index of the worst one by axis name, e.g. ``{batch: 1, embed: 0}``.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax, haliax.testing as ht
        >>> x = hax.named(jnp.arange(6.0).reshape(2, 3), ("batch", "embed"))
        >>> xt = hax.named(x.array.T, ("embed", "batch"))
        >>> ht.assert_named_allclose(x, xt)
    """
    if not isinstance(actual, NamedArray):
        raise TypeError(
            f"assert_named_allclose: `actual` must be a NamedArray, got {type(actual).__name__}; "
            f"name its axes with hax.named(x, axes) first"
        )
    axes = actual.axes
    got = _to_numpy(actual.array)
    if isinstance(expected, NamedArray):
        lines = _axis_differences(axes, expected.axes)
        if lines:
            raise AssertionError(
                f"assert_named_allclose: axes differ: actual {format_shape(axes)}, "
                f"expected {format_shape(expected.axes)}\n" + "\n".join(lines)
            )
        position = {ax.name: i for i, ax in enumerate(expected.axes)}
        want = np.transpose(_to_numpy(expected.array), [position[ax.name] for ax in axes])
    else:
        want = _to_numpy(expected)
        if want.ndim != 0 and want.shape != got.shape:
            raise AssertionError(
                f"assert_named_allclose: actual {format_shape(axes)} has shape {got.shape} but the "
                f"unnamed expected array has shape {want.shape}"
            )
        want = np.broadcast_to(want, got.shape)
    close = np.isclose(got, want, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if close.all():
        return
    with np.errstate(invalid="ignore", over="ignore"):
        error = np.abs(got - want) - rtol * np.abs(want)
    # nan (one side nan, or inf - inf) counts as the worst possible error.
    error = np.where(close, -np.inf, np.where(np.isnan(error), np.inf, error))
    worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(error)), got.shape)) if got.ndim else ()
    bad = int((~close).sum())
    where = _index_str(axes, worst) if axes else "the scalar"
    raise AssertionError(
        f"assert_named_allclose: {bad} of {close.size} elements differ beyond rtol={rtol}, atol={atol} "
        f"(axes {format_shape(axes)})\n"
        f"  worst at {where}: actual {got[worst].item()!r}, expected {want[worst].item()!r}, "
        f"abs diff {abs(got[worst] - want[worst]).item()!r}"
    )
