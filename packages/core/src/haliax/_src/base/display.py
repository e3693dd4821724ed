"""How a NamedArray prints.

Three audiences, three forms:

- ``repr(x)`` / ``print(x)`` of one array: the named shape and dtype, how it is sharded when it
  spans several devices, then the values (``NamedArray(f32{batch: 2, embed: 3},\\n  [[...]])``).
- Inside a bigger structure (an Equinox module, ``eqx.tree_pprint`` of a pytree): the summary
  only, ``f32{embed: 4, hidden: 8}``, the way Equinox abbreviates a ``jax.Array`` to ``f32[4,8]``.
  Equinox pretty-prints through wadler_lindig, which asks each object for a ``__pdoc__``.
- treescope (optional, ``pip install haliax-core[treescope]``): a one-line summary that folds
  open to the values in tree mode, and an array view whose facets are the axis names.
"""

from __future__ import annotations

import functools
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


def _mesh_axes_str(entry: Any) -> str:
    """One PartitionSpec entry: ``data``, or ``(replica, data)`` for several mesh axes."""
    if isinstance(entry, tuple):
        return entry[0] if len(entry) == 1 else "(" + ", ".join(str(e) for e in entry) + ")"
    return str(entry)


def sharding_str(x: NamedArray) -> str:
    """How ``x`` is laid out over devices; ``""`` on one device, under a trace, or when unknown.

    ``sharded{batch: data, embed: model}`` names the mesh axes that split each named axis (axes
    not listed are whole on every device); ``replicated on 8 devices`` when every device holds
    all of it; ``sharded on 8 devices`` for a sharding that is not a
    `jax.sharding.NamedSharding`.
    """
    arr = x.array
    if isinstance(arr, Tracer):
        return ""
    sharding = getattr(arr, "sharding", None)
    if sharding is None:
        return ""
    try:
        n_devices = len(sharding.device_set)
        if n_devices <= 1:
            return ""
        if sharding.is_fully_replicated:
            return f"replicated on {n_devices} devices"
        if not isinstance(sharding, jax.sharding.NamedSharding):
            return f"sharded on {n_devices} devices"
        parts = [
            f"{ax.name}: {_mesh_axes_str(entry)}"
            for ax, entry in zip(x.axes, tuple(sharding.spec), strict=False)  # a spec may omit trailing axes
            if entry is not None and entry != ()
        ]
    except Exception:  # a sharding that cannot describe itself: say nothing rather than fail a repr
        return ""
    return "sharded{" + ", ".join(parts) + "}"


def short_repr(x: NamedArray) -> str:
    """The summary used when a NamedArray prints inside something bigger.

    ``f32{embed: 4, hidden: 8}``, followed by its layout when it spans several devices:
    ``f32{batch: 8, embed: 4} sharded{batch: data}``. Never the values.
    """
    head = named_shape_str(x)
    layout = sharding_str(x)
    return f"{head} {layout}" if layout else head


def named_array_repr(x: NamedArray) -> str:
    """The named shape (and layout when sharded), then the values when they are concrete."""
    head = short_repr(x)
    arr = x.array
    if isinstance(arr, Tracer) or not hasattr(arr, "shape"):
        return f"NamedArray({head}, {arr!r})"
    values = _values_str(arr, prefix="  ")
    if values is None:
        return f"NamedArray({head})"
    return f"NamedArray({head},\n  {values})"


def _values_str(arr: Any, prefix: str) -> str | None:
    try:
        return np.array2string(np.asarray(arr), separator=", ", threshold=64, prefix=prefix)
    except Exception:  # e.g. a deleted or non-addressable array: the named shape still prints
        return None


def named_array_pdoc(x: NamedArray, **kwargs: Any) -> Any:
    """wadler_lindig's hook (``__pdoc__``), used by Equinox's module repr and ``eqx.tree_pformat``.

    Gives `short_repr` where the printer abbreviates arrays (its ``short_arrays``, on by default),
    and None otherwise, which makes the printer fall back to the full ``repr``. A NamedArray
    holding no array (``None`` after `equinox.filter`, a placeholder) keeps its full repr too.
    """
    if not kwargs.get("short_arrays", True) or not hasattr(x.array, "shape"):
        return None
    try:
        import wadler_lindig
    except ImportError:  # an Equinox that predates wadler_lindig never calls this
        return None
    return wadler_lindig.TextDoc(short_repr(x))


# ----- treescope (optional: ``pip install haliax-core[treescope]``) -----
# Nothing here imports treescope until treescope itself asks about a NamedArray, through
# ``NamedArray.__treescope_ndarray_adapter__`` (array views, ``treescope.render_array``) or
# ``NamedArray.__treescope_repr__`` (tree mode), so plain ``import haliax`` never pays for it.


@functools.cache
def _treescope_adapter() -> Any:
    """The NDArrayAdapter for NamedArrays, built on first use (treescope is imported by then)."""
    from treescope import ndarray_adapters, type_registries

    class NamedArrayAdapter(ndarray_adapters.NDArrayAdapter["NamedArray"]):
        """Treescope adapter for NamedArrays: axes known by name only, data from the inner array."""

        @staticmethod
        def _inner(array: NamedArray) -> Any:
            type_registries.update_registries_for_imports()  # loads treescope's jax/numpy support
            inner = type_registries.lookup_ndarray_adapter(array.array)
            if inner is None:
                raise TypeError(
                    f"treescope: cannot draw a NamedArray {named_shape_str(array)} holding a "
                    f"{type(array.array).__name__}: treescope has no adapter for that array type"
                )
            return inner

        def get_axis_info_for_array_data(self, array: NamedArray) -> tuple[Any, ...]:
            info = ndarray_adapters.NamedPositionlessAxisInfo
            return tuple(info(axis_name=ax.name, size=ax.size) for ax in array.axes)

        def get_array_data_with_truncation(
            self, array: NamedArray, mask: Any, edge_items_per_axis: tuple[int | None, ...]
        ) -> tuple[np.ndarray, np.ndarray]:
            if mask is not None and hasattr(mask, "axes") and hasattr(mask, "array"):
                mask = _aligned_mask(mask, array)
            return self._inner(array).get_array_data_with_truncation(array.array, mask, edge_items_per_axis)

        def get_array_summary(self, array: NamedArray, fast: bool) -> Any:
            return _summary_line(array, fast=fast)

        def get_numpy_dtype(self, array: NamedArray) -> np.dtype | None:
            return self._inner(array).get_numpy_dtype(array.array)

        def get_sharding_info_for_array_data(self, array: NamedArray) -> Any:
            # the inner array's dimensions are the named axes in order, so its sharding applies as is
            return self._inner(array).get_sharding_info_for_array_data(array.array)

        def should_autovisualize(self, array: NamedArray) -> bool:
            arr = array.array
            return isinstance(arr, jax.Array) and not isinstance(arr, Tracer) and not arr.is_deleted()

    return NamedArrayAdapter()


def _aligned_mask(mask: NamedArray, array: NamedArray) -> Any:
    """A NamedArray mask as a positional array that broadcasts against ``array``'s axis order."""
    names = [ax.name for ax in array.axes]
    mask_names = [ax.name for ax in mask.axes]
    extra = [n for n in mask_names if n not in names]
    if extra:
        raise ValueError(
            f"treescope: mask axes {format_shape(mask.axes)} are not all in the array's "
            f"{format_shape(array.axes)} (extra: {', '.join(repr(n) for n in extra)}); "
            f"drop or rename them"
        )
    present = [n for n in names if n in mask_names]
    data = np.asarray(mask.array).transpose([mask_names.index(n) for n in present])
    return data.reshape([array.axes[i].size if n in mask_names else 1 for i, n in enumerate(names)])


def treescope_ndarray_adapter(x: NamedArray) -> Any:
    """treescope's per-type hook (``__treescope_ndarray_adapter__``): how to draw NamedArrays.

    treescope looks this method up before its own registry, so ``treescope.render_array(x)``
    works as the first treescope call of a process. The facets are the axis names (``batch``,
    not ``batch (axis 0)``), and ``render_array(x, columns=["embed"])`` picks axes by name.
    """
    return _treescope_adapter()


def _summary_line(x: NamedArray, fast: bool) -> str:
    """``NamedArray f32{batch: 2, embed: 3} ≈2.5 ±1.7 [≥0.0, ≤5.0] zero:1 nonzero:5``."""
    text = f"NamedArray {short_repr(x)}"
    arr = x.array
    if fast or not isinstance(arr, jax.Array) or isinstance(arr, Tracer) or arr.is_deleted():
        return text
    from treescope.external import jax_support

    return text + jax_support.summarize_array_data(arr)


def treescope_repr(x: NamedArray, path: str | None, subtree_renderer: Any) -> Any:
    """treescope's tree-mode hook (``__treescope_repr__``): one summary line that folds open to the values.

    Small arrays print on one line (``NamedArray f32{pos: 3} [0., 1., 2.]``); larger ones show the
    summary with statistics, and their values when expanded.
    """
    try:
        from treescope import rendering_parts
    except ImportError:
        return NotImplemented
    arr = x.array
    if not hasattr(arr, "shape"):  # None after eqx.filter, a placeholder: as repr prints it
        return rendering_parts.build_one_line_tree_node(line=rendering_parts.text(repr(x)), path=path)
    if isinstance(arr, Tracer) or (isinstance(arr, jax.Array) and arr.is_deleted()):
        return rendering_parts.build_one_line_tree_node(
            line=rendering_parts.abbreviation_color(rendering_parts.text(f"<NamedArray {short_repr(x)}>")),
            path=path,
        )
    values = _values_str(arr, prefix="")
    if values is not None and "\n" not in values and "..." not in values and len(values) <= 60:
        return rendering_parts.build_one_line_tree_node(
            line=rendering_parts.abbreviation_color(
                rendering_parts.text(f"<NamedArray {short_repr(x)} {values}>")
            ),
            path=path,
        )
    summary = _summary_line(x, fast=False)
    n_lines = values.count("\n") + 1 if values is not None else 0
    expand = (
        rendering_parts.ExpandState.WEAKLY_EXPANDED
        if 0 < n_lines <= 15
        else rendering_parts.ExpandState.COLLAPSED
    )
    label = rendering_parts.abbreviation_color(
        rendering_parts.comment_color_when_expanded(
            rendering_parts.siblings(
                rendering_parts.fold_condition(
                    expanded=rendering_parts.text("# "), collapsed=rendering_parts.text("<")
                ),
                rendering_parts.text(summary),
                rendering_parts.fold_condition(collapsed=rendering_parts.text(">")),
            )
        )
    )
    contents = (
        rendering_parts.fold_condition(
            expanded=rendering_parts.indented_children([rendering_parts.text(values)])
        )
        if values is not None
        else rendering_parts.empty_part()
    )
    return rendering_parts.build_custom_foldable_tree_node(
        label=label, contents=contents, path=path, expand_state=expand
    )
