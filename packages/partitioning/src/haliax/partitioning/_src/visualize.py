"""Pictures of a layout: the mesh, and which block of each array sits on which device.

The blocks come from each array's own sharding (``Sharding.devices_indices_map``), so the picture
shows where the numbers really are. Arrays that are not laid out yet (``jax.eval_shape`` output,
``ShapeDtypeStruct``) are drawn from the mapping and the mesh instead, as `explain_sharding` does.
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Sequence
from typing import Any, Literal

import jax
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec

from haliax import NamedArray, is_named_array
from haliax.errors import NamedTypeError, PartitioningError
from haliax.extend import dtype_abbrev

from .mapping import ResourceMapping, current_thread_local_mapping, spec_for_axes
from .mesh import MeshLike, current_mesh, format_mesh

Range = tuple[int, int]

# Light fills that stay readable under dark text, one per device (cycled past ten devices).
_PALETTE = (
    "#8fb8de",
    "#f4b183",
    "#a9d18e",
    "#f19c99",
    "#c5b0d5",
    "#d9b99b",
    "#f7b6d2",
    "#c7c7c7",
    "#dbdb8d",
    "#9edae5",
)


@dataclasses.dataclass(frozen=True)
class _Layout:
    """One array: its label, axis names and sizes, and the devices holding each block."""

    path: str
    names: tuple[str, ...]
    sizes: tuple[int, ...]
    dtype: str
    layout: str
    blocks: dict[tuple[Range, ...], tuple[int, ...]]

    @property
    def rows(self) -> list[Range]:
        if len(self.sizes) < 2:
            return [(0, 1)]
        return sorted({block[0] for block in self.blocks})

    @property
    def cols(self) -> list[tuple[Range, ...]]:
        rest = 0 if len(self.sizes) < 2 else 1
        return sorted({block[rest:] for block in self.blocks})

    def devices(self, row: Range, col: tuple[Range, ...]) -> tuple[int, ...]:
        key = col if len(self.sizes) < 2 else (row, *col)
        return self.blocks[key]


def visualize_sharding(
    tree: Any,
    mesh: MeshLike | None = None,
    *,
    mapping: ResourceMapping | None = None,
    format: Literal["text", "svg"] = "text",
) -> str:
    """Draw the mesh and, for each array in ``tree``, which block of it each device holds.

    Each array is drawn as a grid: rows are ranges of its first axis, columns ranges of the
    others; a block lists the ids of the devices that hold it (several when the block is
    replicated). The mesh is drawn first, as a grid of device ids over its axes. Blocks come from
    the arrays' own shardings; arrays without one (e.g. from ``jax.eval_shape``) are laid out by
    ``mapping`` (default: the context's) on ``mesh`` (default: the active one).

    Examples:
        >>> import jax, numpy as np
        >>> import haliax as hax, haliax.partitioning as hp
        >>> mesh = jax.sharding.Mesh(np.array(jax.devices()[:2]), ("data",))
        >>> w = hax.ones((hax.Axis("embed", 4), hax.Axis("mlp", 6)))
        >>> w = hax.shard(w, {"embed": "data"}, mesh)
        >>> print(hp.visualize_sharding(w), end="")
        mesh {data: 2}: device ids
            data=0  data=1
            0       1
        array {embed: 4, mlp: 6} f32: embed->data
                      mlp[0:6]
          embed[0:2]  0
          embed[2:4]  1

    ``format="svg"`` draws the same as an image; the tutorials' figures are made this way.

    Args:
        tree: a NamedArray, a model or any pytree; NamedArrays and plain arrays are drawn.
        mesh: the mesh to draw, and to lay out arrays that have no sharding yet (default: the
            mesh of the arrays' shardings, else the active mesh).
        mapping: the axis mapping for arrays that have no sharding yet (default: the context's).
        format: ``"text"`` for a plain-text picture, ``"svg"`` for an SVG image (shown inline by
            notebooks through ``IPython.display.SVG``, or embedded in HTML).

    Returns:
        The picture, as text or SVG markup.
    """
    if format not in ("text", "svg"):
        raise NamedTypeError(
            f"visualize_sharding: format={format!r} is not 'text' or 'svg'; pick one of them"
        )
    leaves = jax.tree_util.tree_flatten_with_path(tree, is_leaf=is_named_array)[0]
    found = mesh if mesh is not None else _mesh_of(leaves)
    found = current_mesh(found)
    mapping = current_thread_local_mapping() if mapping is None else mapping
    layouts = [
        layout for path, leaf in leaves if (layout := _layout_of(path, leaf, found, mapping)) is not None
    ]
    if not layouts:
        raise NamedTypeError(
            "visualize_sharding: the tree holds no arrays; pass a NamedArray, a jax.Array or a "
            "pytree (e.g. a model) that contains some"
        )
    grid = _device_grid(found)
    if format == "svg":
        return _to_svg(found, grid, layouts)
    return _to_text(found, grid, layouts)


def _mesh_of(leaves: Sequence[tuple[Any, Any]]) -> MeshLike | None:
    for _, leaf in leaves:
        sharding = getattr(_array_of(leaf), "sharding", None)
        if isinstance(sharding, NamedSharding):
            return sharding.mesh
    return None


def _array_of(leaf: Any) -> Any:
    return leaf.array if isinstance(leaf, NamedArray) else leaf


def _layout_of(
    path: Any, leaf: Any, mesh: MeshLike | None, mapping: ResourceMapping | None
) -> _Layout | None:
    array = _array_of(leaf)
    if not (hasattr(array, "shape") and hasattr(array, "dtype")):
        return None
    shape = tuple(int(s) for s in array.shape)
    if isinstance(leaf, NamedArray):
        names = tuple(a.name for a in leaf.axes)
    else:
        names = tuple(f"dim{i}" for i in range(len(shape)))
    sharding = getattr(array, "sharding", None)
    if not isinstance(sharding, jax.sharding.Sharding):
        if mesh is None or not hasattr(mesh, "devices"):
            raise PartitioningError(
                f"visualize_sharding: {_label(path)} has no sharding and there is no concrete mesh to "
                "lay it out on; pass mesh= (and mapping=), or lay the arrays out with hax.shard first"
            )
        axes = leaf.axes if isinstance(leaf, NamedArray) else ()
        spec = spec_for_axes("visualize_sharding", axes, mapping, mesh) if axes else PartitionSpec()
        sharding = NamedSharding(mesh, spec)  # type: ignore[arg-type]  # checked concrete above
    blocks: dict[tuple[Range, ...], list[int]] = {}
    for device, index in sharding.devices_indices_map(shape).items():
        ranges = tuple(s.indices(n)[:2] for s, n in zip(index, shape, strict=True))
        blocks.setdefault(ranges, []).append(device.id)
    spec = sharding.spec if isinstance(sharding, NamedSharding) else None
    return _Layout(
        _label(path),
        names,
        shape,
        dtype_abbrev(array.dtype),
        _describe(names, spec) if spec is not None else type(sharding).__name__,
        {k: tuple(sorted(v)) for k, v in blocks.items()},
    )


def _label(path: Any) -> str:
    text = jax.tree_util.keystr(path)
    return text.lstrip(".") or "array"


def _describe(names: tuple[str, ...], spec: PartitionSpec) -> str:
    parts = []
    for name, entry in zip(names, (*spec, *(None,) * (len(names) - len(spec))), strict=True):
        if entry is not None:
            parts.append(f"{name}->{entry if isinstance(entry, str) else '*'.join(entry)}")
    return ", ".join(parts) if parts else "replicated"


def _device_grid(mesh: MeshLike | None) -> tuple[str, str, list[list[int]]] | None:
    """The mesh's device ids as rows (first mesh axis) by columns (the others), with axis labels."""
    devices = getattr(mesh, "devices", None)
    if mesh is None or not isinstance(devices, np.ndarray):
        return None
    names = tuple(mesh.axis_names)
    ids = np.vectorize(lambda d: d.id, otypes=[int])(devices)
    if ids.ndim == 1:
        return "", str(names[0]), [list(ids)]
    return str(names[0]), "*".join(str(n) for n in names[1:]), ids.reshape(ids.shape[0], -1).tolist()


def _devices_text(ids: tuple[int, ...]) -> str:
    """Device ids, runs of consecutive ids written as ranges: ``0-3,8``."""
    runs: list[list[int]] = []
    for i in ids:
        if runs and i == runs[-1][-1] + 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return ",".join(str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs)


def _range_text(name: str, r: Range) -> str:
    return f"{name}[{r[0]}:{r[1]}]"


def _col_text(layout: _Layout, col: tuple[Range, ...]) -> str:
    names = layout.names if len(layout.sizes) < 2 else layout.names[1:]
    return " ".join(_range_text(n, r) for n, r in zip(names, col, strict=True)) or "(scalar)"


def _row_text(layout: _Layout, row: Range) -> str:
    return _range_text(layout.names[0], row) if len(layout.sizes) >= 2 else ""


def _shape_text(layout: _Layout) -> str:
    return "{" + ", ".join(f"{n}: {s}" for n, s in zip(layout.names, layout.sizes, strict=True)) + "}"


def _table(cells: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]


def _to_text(
    mesh: MeshLike | None, grid: tuple[str, str, list[list[int]]] | None, layouts: list[_Layout]
) -> str:
    lines: list[str] = []
    if mesh is not None:
        lines.append(f"mesh {format_mesh(mesh)}: device ids")
    if grid is not None:
        row_name, col_name, ids = grid
        header = ["", *(f"{col_name}={j}" for j in range(len(ids[0])))]
        body = [[f"{row_name}={i}" if row_name else "", *map(str, row)] for i, row in enumerate(ids)]
        lines += ["  " + line for line in _table([header, *body])]
    for layout in layouts:
        lines.append(f"{layout.path} {_shape_text(layout)} {layout.dtype}: {layout.layout}")
        cols = layout.cols
        cells = [["", *(_col_text(layout, c) for c in cols)]]
        for row in layout.rows:
            cells.append([_row_text(layout, row), *(_devices_text(layout.devices(row, c)) for c in cols)])
        lines += ["  " + line for line in _table(cells)]
    return "\n".join(lines) + "\n"


_FONT = 'font-family="ui-monospace, SFMono-Regular, Menlo, monospace"'
_INK = "#222"  # text on the light device fills; everything else uses currentColor (dark mode)


class _Svg:
    """An SVG drawn top to bottom: ``y`` is where the next element goes."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.y = 12.0
        self.width = 0.0

    def text(
        self, x: float, y: float, body: str, size: int = 12, anchor: str = "start", ink: bool = False
    ) -> None:
        fill = _INK if ink else "currentColor"
        self.parts.append(
            f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{fill}" '
            f"{_FONT}>{html.escape(body)}</text>"
        )

    def rect(self, x: float, y: float, w: float, h: float, device: int | None = None) -> None:
        fill = "none" if device is None else _PALETTE[device % len(_PALETTE)]
        stroke = ' stroke="currentColor"' if device is None else ""
        self.parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{fill}"{stroke}/>'
        )
        self.width = max(self.width, x + w)

    def markup(self, margin: float) -> str:
        w, h = self.width + margin, self.y + margin
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0f}" height="{h:.0f}" '
            f'viewBox="0 0 {w:.0f} {h:.0f}" role="img">' + "".join(self.parts) + "</svg>"
        )


def _to_svg(
    mesh: MeshLike | None, grid: tuple[str, str, list[list[int]]] | None, layouts: list[_Layout]
) -> str:
    margin, left, box, cell = 12, 122, 240, 30
    svg = _Svg()
    if mesh is not None:
        svg.text(margin, svg.y + 12, f"mesh {format_mesh(mesh)}", size=13)
        svg.y += 22
    if grid is not None:
        row_name, col_name, ids = grid
        svg.text(left + len(ids[0]) * cell / 2, svg.y + 10, f"{col_name} \u2192", size=10, anchor="middle")
        svg.y += 14
        for i, row in enumerate(ids):
            top = svg.y + i * cell
            if row_name:
                svg.text(left - 6, top + cell / 2 + 4, f"{row_name}={i}", size=10, anchor="end")
            for j, dev in enumerate(row):
                svg.rect(left + j * cell, top, cell, cell, dev)
                svg.rect(left + j * cell, top, cell, cell)
                svg.text(left + j * cell + cell / 2, top + cell / 2 + 4, str(dev), anchor="middle", ink=True)
        svg.y += len(ids) * cell + 10
    for layout in layouts:
        _svg_array(svg, layout, margin, left, box)
    return svg.markup(margin)


def _svg_array(svg: _Svg, layout: _Layout, margin: float, left: float, box: float) -> None:
    """One array: a caption, then its blocks, sized in proportion to the array and the blocks."""
    svg.text(margin, svg.y + 14, f"{layout.path} {_shape_text(layout)} {layout.dtype}")
    svg.text(margin, svg.y + 29, layout.layout, size=11)
    svg.y += 40
    matrix = len(layout.sizes) >= 2
    if matrix:
        tall, wide = layout.sizes[0], int(np.prod(layout.sizes[1:]))
        # Full width; the height follows the array's shape, within what keeps labels readable.
        total_w = box
        total_h = min(max(box * tall / wide, 22.0 * len(layout.rows)), 200.0)
    else:
        total_w, total_h = box, 26.0
    across = layout.names[1:] if matrix else layout.names
    if across:
        svg.text(left + total_w / 2, svg.y + 10, " ".join(across) + " \u2192", size=10, anchor="middle")
    svg.y += 14
    if matrix:
        svg.text(left - 6, svg.y + 12, f"{layout.names[0]} \u2193", size=10, anchor="end")
    rows, cols = layout.rows, layout.cols
    row_h = [float(b - a) for a, b in rows]
    col_w = [float(np.prod([b - a for a, b in c])) for c in cols]
    y = svg.y
    for row, rh in zip(rows, row_h, strict=True):
        h = total_h * rh / sum(row_h)
        x = left
        for col, cw in zip(cols, col_w, strict=True):
            w = total_w * cw / sum(col_w)
            devices = layout.devices(row, col)
            for k, dev in enumerate(devices):  # a replicated block: one stripe per device
                svg.rect(x + k * w / len(devices), y, w / len(devices), h, dev)
            svg.rect(x, y, w, h)
            label = _devices_text(devices)
            if len(label) * 7 <= w + 2 and h >= 14:
                if len(devices) > 1:  # a plate under the label, so it reads across the stripes
                    lw = len(label) * 7 + 6
                    svg.parts.append(
                        f'<rect x="{x + (w - lw) / 2:.1f}" y="{y + h / 2 - 8:.1f}" width="{lw}" height="16" '
                        'rx="3" fill="#fff" fill-opacity="0.8"/>'
                    )
                svg.text(x + w / 2, y + h / 2 + 4, label, size=11, anchor="middle", ink=True)
            x += w
        y += h
    svg.y = y + 8
