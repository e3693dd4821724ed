"""The sharding explainer: each parameter's named shape, mesh layout and bytes per device.

Layouts are computed from the mapping and the mesh, not from where arrays happen to be, so a
model can be explained before it is materialised (pass ``jax.eval_shape(init)``).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import math
import sys
from typing import Any, TextIO

import jax
import numpy as np

from haliax import NamedArray, is_named_array
from haliax.extend import dtype_abbrev

from .mapping import ResourceMapping, current_thread_local_mapping, spec_for_axes
from .mesh import MeshLike, current_mesh, format_mesh, mesh_shape


@dataclasses.dataclass(frozen=True)
class ParameterLayout:
    """One row of the explainer: where one array's axes go and what it costs per device."""

    path: str
    shape: str
    layout: str
    dtype: str
    bytes_per_device: int


@dataclasses.dataclass(frozen=True)
class ShardingReport:
    """What `explain_sharding` found: one `ParameterLayout` per array, and the per-device total."""

    mesh: str
    rows: tuple[ParameterLayout, ...]

    @property
    def total_bytes_per_device(self) -> int:
        """The bytes of every listed array that one device holds."""
        return sum(r.bytes_per_device for r in self.rows)

    def to_text(self) -> str:
        """The report as a plain-text table."""
        header = ("parameter", "named shape", "layout", "dtype", "bytes/device")
        body = [(r.path, r.shape, r.layout, r.dtype, _fmt_bytes(r.bytes_per_device)) for r in self.rows]
        total = ("total", "", "", "", _fmt_bytes(self.total_bytes_per_device))
        widths = [max(len(row[i]) for row in [header, *body, total]) for i in range(len(header))]

        def line(row: tuple[str, ...]) -> str:
            return "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()

        rule = "  ".join("-" * w for w in widths)
        return "\n".join([f"mesh {self.mesh}", line(header), rule, *map(line, body), rule, line(total)])

    def __str__(self) -> str:
        return self.to_text()

    def to_rich_table(self) -> Any:
        """The report as a ``rich.table.Table`` (requires rich)."""
        from rich.table import Table

        table = Table(title=f"mesh {self.mesh}", show_footer=True)
        table.add_column("parameter", footer="total")
        table.add_column("named shape")
        table.add_column("layout")
        table.add_column("dtype")
        table.add_column("bytes/device", justify="right", footer=_fmt_bytes(self.total_bytes_per_device))
        for r in self.rows:
            table.add_row(r.path, r.shape, r.layout, r.dtype, _fmt_bytes(r.bytes_per_device))
        return table


def _fmt_bytes(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]  # becomes a float for the larger units
    return f"{n} B"


def _layout(names: tuple[str, ...], spec: Any) -> str:
    parts = []
    for name, entry in zip(names, tuple(spec) + (None,) * (len(names) - len(spec)), strict=True):
        if entry is None:
            continue
        target = entry if isinstance(entry, str) else "*".join(entry)
        parts.append(f"{name}->{target}")
    return ", ".join(parts) if parts else "replicated"


def explain_sharding(
    tree: Any,
    mapping: ResourceMapping | None = None,
    mesh: MeshLike | None = None,
    *,
    file: TextIO | None = None,
    use_rich: bool | None = None,
) -> ShardingReport:
    """Print, and return, each array's named shape, its layout on the mesh and bytes per device.

    Args:
        tree: a model or any pytree; NamedArrays and plain arrays (or ``ShapeDtypeStruct``s) are listed.
        mapping: the parameter mapping (default: the context's).
        mesh: the mesh (default: the active one).
        file: where to print (default: stdout); pass ``io.StringIO()`` to capture.
        use_rich: print a rich table; default: when rich is installed and ``file`` is a terminal.
    """
    mapping = current_thread_local_mapping() if mapping is None else mapping
    found = current_mesh(mesh)
    shape = dict(mesh_shape(found)) if found is not None else {}
    rows = []
    for path, leaf in jax.tree_util.tree_flatten_with_path(tree, is_leaf=is_named_array)[0]:
        if isinstance(leaf, NamedArray):
            axes = leaf.axes
            dtype = leaf.dtype
        elif hasattr(leaf, "shape") and hasattr(leaf, "dtype"):
            axes = ()
            dtype = leaf.dtype
        else:
            continue
        names = tuple(a.name for a in axes)
        spec = spec_for_axes("explain_sharding", axes, mapping, found)
        local = [
            -(
                -ax.size
                // (1 if e is None else math.prod(shape[m] for m in ((e,) if isinstance(e, str) else e)))
            )
            for ax, e in zip(axes, tuple(spec) + (None,) * (len(axes) - len(spec)), strict=True)
        ]
        if isinstance(leaf, NamedArray):
            shape_text = "{" + ", ".join(f"{a.name}: {a.size}" for a in axes) + "}"
            nbytes = math.prod(local) * np.dtype(dtype).itemsize
        else:
            shape_text = str(tuple(leaf.shape))
            nbytes = math.prod(leaf.shape) * np.dtype(dtype).itemsize
        rows.append(
            ParameterLayout(
                jax.tree_util.keystr(path), shape_text, _layout(names, spec), dtype_abbrev(dtype), nbytes
            )
        )
    report = ShardingReport(format_mesh(found) if found is not None else "(none)", tuple(rows))
    out = sys.stdout if file is None else file
    if use_rich is None:
        use_rich = _rich_available() and hasattr(out, "isatty") and out.isatty()
    if use_rich:
        from rich.console import Console

        Console(file=out).print(report.to_rich_table())
    else:
        print(report.to_text(), file=out)
    return report


def _rich_available() -> bool:
    return importlib.util.find_spec("rich") is not None
