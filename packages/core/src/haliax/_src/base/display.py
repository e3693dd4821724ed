"""How a NamedArray prints: its named shape and dtype first, then values."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import jax
import numpy as np
from jax.core import Tracer

from .errors import format_shape

if TYPE_CHECKING:
    from .named_array import NamedArray


_DTYPE_ABBREV = {
    "float16": "f16",
    "float32": "f32",
    "float64": "f64",
    "bfloat16": "bf16",
    "int8": "i8",
    "int16": "i16",
    "int32": "i32",
    "int64": "i64",
    "uint8": "u8",
    "uint16": "u16",
    "uint32": "u32",
    "uint64": "u64",
    "complex64": "c64",
    "complex128": "c128",
}


def dtype_abbrev(dtype: Any) -> str:
    """Short dtype name used in named shapes: ``f32``, ``bf16``, ``i32``, ``bool``."""
    name = str(np.dtype(dtype)) if not hasattr(dtype, "name") else dtype.name
    return _DTYPE_ABBREV.get(name, name)


def named_shape_str(x: NamedArray) -> str:
    """``f32{batch: 4, embed: 3}``."""
    dtype = getattr(x.array, "dtype", None)
    prefix = dtype_abbrev(dtype) if dtype is not None else ""
    return f"{prefix}{format_shape(x.axes)}"


def named_array_repr(x: NamedArray) -> str:
    """The named shape, then the values when they are concrete."""
    head = named_shape_str(x)
    arr = x.array
    if isinstance(arr, Tracer) or not hasattr(arr, "shape"):
        return f"NamedArray({head}, {arr!r})"
    try:
        values = np.array2string(np.asarray(arr), separator=", ", threshold=64, prefix="  ")
    except Exception:  # e.g. a deleted or non-addressable array: the named shape still prints
        return f"NamedArray({head})"
    return f"NamedArray({head},\n  {values})"


# ----- treescope (optional: ``pip install haliax-core[treescope]``) -----
# Nothing here imports treescope until treescope itself asks to render a NamedArray (through
# ``NamedArray.__treescope_repr__``), so plain ``import haliax`` never pays for it.
_treescope_registered = False


def register_treescope() -> bool:
    """Teach treescope to draw NamedArrays with their axis names; False if treescope is missing.

    Called on first render; calling it again is a no-op. After it, ``treescope.render_array(x)``
    labels each axis of a NamedArray by name.
    """
    global _treescope_registered
    if _treescope_registered:
        return True
    try:
        from treescope import ndarray_adapters, type_registries
        from treescope.external import jax_support
    except ImportError:
        return False
    from .named_array import NamedArray

    class NamedArrayAdapter(ndarray_adapters.NDArrayAdapter[NamedArray]):
        """Treescope adapter for NamedArrays: the jax adapter, with named axes."""

        _jax = jax_support.JAXArrayAdapter()

        def get_axis_info_for_array_data(self, array: NamedArray) -> tuple[Any, ...]:
            # treescope annotates axis_name as int, but axis names are strings
            info = ndarray_adapters.NamedPositionalAxisInfo
            return tuple(info(i, ax.name, ax.size) for i, ax in enumerate(array.axes))  # type: ignore[arg-type]  # treescope's stub says int

        def get_array_data_with_truncation(
            self, array: NamedArray, mask: Any, edge_items_per_axis: Any
        ) -> Any:
            m = mask.array if isinstance(mask, NamedArray) else mask
            return self._jax.get_array_data_with_truncation(array.array, m, edge_items_per_axis)

        def get_array_summary(self, array: NamedArray, fast: bool) -> Any:
            return f"NamedArray {named_shape_str(array)}"

        def get_numpy_dtype(self, array: NamedArray) -> Any:
            return self._jax.get_numpy_dtype(array.array)

        def get_sharding_info_for_array_data(self, array: NamedArray) -> Any:
            return self._jax.get_sharding_info_for_array_data(array.array)

        def should_autovisualize(self, array: NamedArray) -> bool:
            return isinstance(array.array, jax.Array) and self._jax.should_autovisualize(array.array)

    type_registries.NDARRAY_ADAPTER_REGISTRY[NamedArray] = NamedArrayAdapter()
    _treescope_registered = True
    return True


def treescope_repr(x: NamedArray, path: str | None, subtree_renderer: Any) -> Any:
    """Treescope rendering of a NamedArray: ``NamedArray(axes={batch: 4, ...}, array=<the array view>)``."""
    if not register_treescope():
        return NotImplemented
    from treescope import repr_lib

    return repr_lib.render_object_constructor(
        object_type=type(x),
        attributes={"axes": _AxesLabel(x), "array": x.array},
        path=path,
        subtree_renderer=subtree_renderer,
        roundtrippable=False,
    )


class _AxesLabel:
    """Renders as the named shape, e.g. ``f32{batch: 4, embed: 3}``."""

    __slots__ = ("_x",)

    def __init__(self, x: NamedArray):
        self._x = x

    def __repr__(self) -> str:
        return named_shape_str(self._x)
