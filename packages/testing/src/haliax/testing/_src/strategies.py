"""Hypothesis strategies for named tensors: axes, NamedArrays, permutations, broadcast pairs, meshes.

Every strategy draws small shapes by default (at most 4 axes of at most 4 elements), so property
tests stay fast; pass larger bounds where a test needs them. Axis names within one draw are
always distinct, as NamedArray requires.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import Any, TypeVar

import hypothesis.extra.numpy as hnp
import jax.numpy as jnp
import numpy as np
from hypothesis import strategies as st
from jax.typing import DTypeLike

from haliax import NamedArray
from haliax.axis import Axis
from haliax.extend import selector_name

from .devices import device_count, make_test_mesh

T = TypeVar("T")

DEFAULT_AXIS_NAMES: tuple[str, ...] = ("batch", "embed", "head", "pos", "mlp", "vocab", "key", "layer")
"""The pool `axes` draws names from unless given ``names``: readable in failure reports."""

DEFAULT_MESH_AXIS_NAMES: tuple[str, ...] = ("data", "model", "replica")
"""The pool `mesh_shapes` and `meshes` draw mesh axis names from."""


def _maybe_draw(draw: st.DrawFn, value: T | st.SearchStrategy[T]) -> T:
    return draw(value) if isinstance(value, st.SearchStrategy) else value


def _draw_axes(
    draw: st.DrawFn, given: Sequence[Axis] | st.SearchStrategy[tuple[Axis, ...]] | None
) -> tuple[Axis, ...]:
    """Fixed axes as given, or drawn from a strategy (the default `axes` strategy when None)."""
    if given is None:
        return draw(axes())
    return tuple(_maybe_draw(draw, given))


def axis_names(min_size: int = 1, max_size: int = 8) -> st.SearchStrategy[str]:
    """Identifier-like axis names: a lower-case letter, then letters, digits or underscores.

    Examples:
        >>> from hypothesis import given
        >>> import haliax.testing as ht
        >>> @given(ht.axis_names())
        ... def test_name(name):
        ...     assert name.isidentifier()
        >>> test_name()
    """
    if min_size < 1 or max_size < min_size:
        raise ValueError(
            f"axis_names: need 1 <= min_size <= max_size, got min_size={min_size}, max_size={max_size}"
        )
    first = st.sampled_from(string.ascii_lowercase)
    rest = st.text(string.ascii_lowercase + string.digits + "_", min_size=min_size - 1, max_size=max_size - 1)
    return st.builds(lambda a, b: a + b, first, rest)


def axes(
    *,
    names: Sequence[str] | st.SearchStrategy[str] | None = None,
    min_axes: int = 0,
    max_axes: int = 4,
    min_size: int = 1,
    max_size: int = 4,
) -> st.SearchStrategy[tuple[Axis, ...]]:
    """A tuple of `Axis` with distinct names and sizes in ``[min_size, max_size]``.

    Args:
        names: a pool of names to pick from (a sequence) or a strategy of names (e.g.
            `axis_names`); by default readable names such as ``"batch"`` and ``"embed"``.
        min_axes: fewest axes to draw.
        max_axes: most axes to draw (capped by the size of a finite name pool).
        min_size: smallest axis size.
        max_size: largest axis size.
    """
    if not 0 <= min_axes <= max_axes:
        raise ValueError(
            f"axes: need 0 <= min_axes <= max_axes, got min_axes={min_axes}, max_axes={max_axes}"
        )
    if not 0 <= min_size <= max_size:
        raise ValueError(
            f"axes: need 0 <= min_size <= max_size, got min_size={min_size}, max_size={max_size}"
        )
    if names is None:
        names = DEFAULT_AXIS_NAMES
    if isinstance(names, st.SearchStrategy):
        name_lists = st.lists(names, min_size=min_axes, max_size=max_axes, unique=True)
    else:
        pool = list(dict.fromkeys(names))
        if len(pool) < min_axes:
            raise ValueError(
                f"axes: min_axes={min_axes} but the name pool has only {len(pool)} distinct names"
            )
        name_lists = st.lists(
            st.sampled_from(pool), min_size=min_axes, max_size=min(max_axes, len(pool)), unique=True
        )
    return _sized(name_lists, min_size, max_size)


@st.composite
def _sized(
    draw: st.DrawFn, name_lists: st.SearchStrategy[list[str]], min_size: int, max_size: int
) -> tuple[Axis, ...]:
    name_list = draw(name_lists)
    sizes = draw(st.lists(st.integers(min_size, max_size), min_size=len(name_list), max_size=len(name_list)))
    return tuple(Axis(n, s) for n, s in zip(name_list, sizes, strict=True))


def dtypes(allowed: Sequence[Any] = ("float32",)) -> st.SearchStrategy[np.dtype]:
    """One of the ``allowed`` dtypes (names or dtype objects), as a numpy dtype.

    Supported: bool, (u)int8/16/32, float16, bfloat16, float32, complex64, and the 64-bit types when
    ``jax_enable_x64`` is on.
    """
    if not allowed:
        raise ValueError("dtypes: `allowed` is empty; pass at least one dtype, e.g. ('float32',)")
    return st.sampled_from([np.dtype(jnp.dtype(d)) for d in allowed])


def _elements(dtype: np.dtype) -> st.SearchStrategy[Any]:
    """Values that are well-behaved in tests: finite, small, and exact in the dtype."""
    if dtype == np.bool_:
        return st.booleans()
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return st.integers(max(int(info.min), -100), min(int(info.max), 100))
    if np.issubdtype(dtype, np.complexfloating):
        part = st.floats(-10, 10, width=32)
        return st.builds(complex, part, part)
    # Values exact in float16 (and so in float32); bfloat16 rounds them on the cast.
    return st.floats(-10, 10, width=16)


@st.composite
def named_arrays(
    draw: st.DrawFn,
    axes: Sequence[Axis] | st.SearchStrategy[tuple[Axis, ...]] | None = None,
    dtype: DTypeLike | st.SearchStrategy[DTypeLike] = "float32",
    *,
    elements: st.SearchStrategy[Any] | None = None,
) -> NamedArray:
    """A NamedArray with the given or drawn axes and dtype.

    Values are finite and small by default (floats in ``[-10, 10]`` exact in float16, integers
    in ``[-100, 100]``), so sums and products stay well inside every dtype's range.

    Args:
        axes: fixed axes, or a strategy of axes (default: the `axes` strategy).
        dtype: a dtype, or a strategy of dtypes such as `dtypes`.
        elements: a strategy for the values, replacing the default.

    Examples:
        >>> from hypothesis import given, settings
        >>> import haliax as hax, haliax.testing as ht
        >>> @settings(max_examples=5)
        ... @given(ht.named_arrays(ht.axes(min_axes=1)))
        ... def test_double(x):
        ...     ht.assert_named_allclose(x + x, 2 * x)
        >>> test_double()
    """
    drawn_axes = _draw_axes(draw, axes)
    np_dtype = np.dtype(jnp.dtype(_maybe_draw(draw, dtype)))
    shape = tuple(ax.size for ax in drawn_axes)
    values = elements if elements is not None else _elements(np_dtype)
    if np_dtype == jnp.bfloat16:
        # hypothesis knows no bfloat16: draw float32 values and cast.
        raw = draw(hnp.arrays(np.float32, shape, elements=values))
        raw = raw.astype(np_dtype)
    else:
        raw = draw(hnp.arrays(np_dtype, shape, elements=values))
    return NamedArray(jnp.asarray(raw), drawn_axes)


@st.composite
def axis_permutations(draw: st.DrawFn, axes: Sequence[Axis]) -> tuple[Axis, ...]:
    """The given axes in a drawn order (each order possible, the identity included)."""
    return tuple(draw(st.permutations(list(axes))))


@st.composite
def permuted_arrays(draw: st.DrawFn, array: NamedArray) -> NamedArray:
    """``array`` with its axes (and data) in a drawn order: the same named array, laid out anew."""
    order = draw(axis_permutations(array.axes))
    return permute(array, order)


def permute(array: NamedArray, order: Sequence[Axis | str]) -> NamedArray:
    """``array`` transposed so that its axes come in ``order`` (a permutation of its axes)."""
    position = {ax.name: i for i, ax in enumerate(array.axes)}
    names = [selector_name(o) for o in order]
    if sorted(names) != sorted(position):
        raise ValueError(
            f"permute: {names} is not a permutation of the array's axes {[ax.name for ax in array.axes]}"
        )
    perm = tuple(position[n] for n in names)
    return NamedArray(jnp.transpose(array.array, perm), tuple(array.axes[i] for i in perm))


@st.composite
def broadcastable_axes(
    draw: st.DrawFn,
    axes: Sequence[Axis] | st.SearchStrategy[tuple[Axis, ...]] | None = None,
) -> tuple[tuple[Axis, ...], tuple[Axis, ...]]:
    """Two axis tuples that broadcast by name: one's names are a subset of the other's.

    Which operand is the larger one is drawn, the smaller one's axes come in a drawn order, and
    either may equal the other (same axes, possibly permuted) or be empty (a 0-d operand).
    """
    big = _draw_axes(draw, axes)
    keep = draw(st.lists(st.booleans(), min_size=len(big), max_size=len(big)))
    small = tuple(ax for ax, k in zip(big, keep, strict=True) if k)
    small = tuple(draw(st.permutations(list(small))))
    if draw(st.booleans()):
        return big, small
    return small, big


@st.composite
def broadcastable_pairs(
    draw: st.DrawFn,
    axes: Sequence[Axis] | st.SearchStrategy[tuple[Axis, ...]] | None = None,
    dtype: DTypeLike | st.SearchStrategy[DTypeLike] = "float32",
    *,
    elements: st.SearchStrategy[Any] | None = None,
) -> tuple[NamedArray, NamedArray]:
    """Two NamedArrays that an elementwise op accepts: one's axes are a subset of the other's.

    Shares the rules of `broadcastable_axes`; both arrays have the same dtype.
    """
    a_axes, b_axes = draw(broadcastable_axes(axes))
    np_dtype = _maybe_draw(draw, dtype)
    a = draw(named_arrays(a_axes, np_dtype, elements=elements))
    b = draw(named_arrays(b_axes, np_dtype, elements=elements))
    return a, b


def mesh_shapes(
    names: Sequence[str] = DEFAULT_MESH_AXIS_NAMES,
    *,
    max_devices: int | None = None,
    min_axes: int = 1,
) -> st.SearchStrategy[dict[str, int]]:
    """A ``{mesh axis name: size}`` dict whose total size fits the available devices.

    Args:
        names: mesh axis names, used in order (the first ``k`` of them for ``k`` axes).
        max_devices: how many devices the mesh may use (default: every device jax sees, counted
            when the first example is drawn).
        min_axes: fewest mesh axes.
    """
    if max_devices is not None and max_devices < 1:
        raise ValueError(f"mesh_shapes: max_devices must be at least 1, got {max_devices}")
    if not 0 <= min_axes <= len(names):
        raise ValueError(f"mesh_shapes: min_axes={min_axes} but only {len(names)} names were given")
    return _mesh_shapes(tuple(names), max_devices, min_axes)


@st.composite
def _mesh_shapes(
    draw: st.DrawFn, names: tuple[str, ...], max_devices: int | None, min_axes: int
) -> dict[str, int]:
    remaining = device_count() if max_devices is None else max_devices
    n_axes = draw(st.integers(min_axes, len(names)))
    shape: dict[str, int] = {}
    for name in names[:n_axes]:
        size = draw(st.integers(1, remaining))
        shape[name] = size
        remaining //= size
    return shape


def meshes(
    names: Sequence[str] = DEFAULT_MESH_AXIS_NAMES,
    *,
    max_devices: int | None = None,
    min_axes: int = 1,
) -> st.SearchStrategy[Any]:
    """A `jax.sharding.Mesh` drawn with `mesh_shapes`, over the first devices jax sees."""
    return mesh_shapes(names, max_devices=max_devices, min_axes=min_axes).map(make_test_mesh)
