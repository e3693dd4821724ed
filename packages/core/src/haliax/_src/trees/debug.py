"""Debugging aids: short array descriptions, module checks, and sharding tables."""

from __future__ import annotations

import dataclasses
import importlib.util
from typing import Any, TypeAlias

import equinox as eqx
import jax
import numpy as np

from ..base.display import dtype_abbrev
from ..base.errors import HaliaxError
from ..base.named_array import NamedArray

ArrayLike: TypeAlias = jax.Array | NamedArray
"""A jax array or a NamedArray."""


def describe_array(arr: Any) -> str:
    """A short description: ``f32{batch: 4, embed: 3}`` for a NamedArray, ``f32[4, 3]`` for an array.

    Examples:
        >>> import haliax as hax, jax.numpy as jnp
        >>> from haliax.debug import describe_array
        >>> describe_array(hax.zeros({"batch": 4, "embed": 3})), describe_array(jnp.zeros((2,), jnp.int32))
        ('f32{batch: 4, embed: 3}', 'i32[2]')
    """
    if isinstance(arr, NamedArray):
        from ..base.display import named_shape_str

        return named_shape_str(arr)
    if hasattr(arr, "shape") and hasattr(arr, "dtype"):
        return f"{dtype_abbrev(arr.dtype)}[{', '.join(str(n) for n in arr.shape)}]"
    return type(arr).__name__


class ModuleProblems(HaliaxError, ValueError):
    """The problems `diagnose_common_issues` found in a module; ``str()`` lists them with fixes."""

    __module__ = "haliax.debug"  # its public home, as tracebacks show it

    def __init__(self, reused_arrays: list[tuple[ArrayLike, list[str]]], static_arrays: list[str]):
        """Record arrays reused across fields (each with its paths) and arrays held in static fields."""
        self.reused_arrays = reused_arrays
        self.static_arrays = static_arrays
        lines = ["diagnose_common_issues: found problems in the module:"]
        for _, paths in reused_arrays:
            lines.append(
                f"- one array is reused by {len(paths)} fields ({', '.join(paths)}); each field becomes a separate "
                f"parameter in gradients and optimizer state: share one field, or copy the array if they should differ"
            )
        for path in static_arrays:
            lines.append(
                f"- {path} is a static field holding an array; static fields are compile-time constants, hashed "
                f"and never differentiated: make it a regular field"
            )
        super().__init__("\n".join(lines))

    def __bool__(self) -> bool:
        return bool(self.reused_arrays or self.static_arrays)


def _path_str(path: tuple[Any, ...]) -> str:
    return jax.tree_util.keystr(path) or "<root>"


def _holds_array(x: Any) -> bool:
    return any(
        isinstance(leaf, (jax.Array, np.ndarray, NamedArray))
        for leaf in jax.tree_util.tree_leaves(x, is_leaf=lambda v: isinstance(v, NamedArray))
    ) or isinstance(x, (jax.Array, np.ndarray, NamedArray))


def _static_arrays(node: Any, path: str, out: list[str]) -> None:
    if isinstance(node, eqx.Module):
        for f in dataclasses.fields(node):
            value = getattr(node, f.name, None)
            sub = f"{path}.{f.name}" if path else f.name
            if f.metadata.get("static", False):
                if _holds_array(value):
                    out.append(sub)
            else:
                _static_arrays(value, sub, out)
    elif isinstance(node, (list, tuple)):
        for i, v in enumerate(node):
            _static_arrays(v, f"{path}[{i}]", out)
    elif isinstance(node, dict):
        for k, v in node.items():
            _static_arrays(v, f"{path}[{k!r}]", out)


def diagnose_common_issues(module: Any) -> None:
    """Raise `ModuleProblems` if ``module`` reuses one array in several fields or keeps arrays in static fields.

    The error's ``reused_arrays`` holds one ``(array, paths)`` pair per reused array (paths such
    as ``".m.a"``), its ``static_arrays`` the paths of static fields holding arrays.

    Examples:
        >>> import equinox as eqx, haliax as hax
        >>> from haliax.debug import diagnose_common_issues
        >>> class Tied(eqx.Module):
        ...     a: hax.NamedArray
        ...     b: hax.NamedArray
        >>> w = hax.zeros({"embed": 2})
        >>> diagnose_common_issues(Tied(w, w))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        haliax.debug.ModuleProblems: diagnose_common_issues: found problems in the module:
        - one array is reused by 2 fields (.a, .b); ...
    """
    seen: dict[int, tuple[ArrayLike, list[str]]] = {}
    leaves = jax.tree_util.tree_flatten_with_path(module, is_leaf=lambda v: isinstance(v, NamedArray))[0]
    for path, leaf in leaves:
        raw = leaf.array if isinstance(leaf, NamedArray) else leaf
        if isinstance(raw, (jax.Array, np.ndarray)):
            seen.setdefault(id(raw), (leaf, []))[1].append(_path_str(path))
    reused = [(leaf, paths) for leaf, paths in seen.values() if len(paths) > 1]
    static: list[str] = []
    _static_arrays(module, "", static)
    problems = ModuleProblems(reused, static)
    if problems:
        raise problems


# ----- sharding tables -----
def _sharding_rows(x: Any) -> list[tuple[str, int, str, int]]:
    """``(axis, size, mesh axes, per-device size)`` for each dimension of ``x``."""
    raw = x.array if isinstance(x, NamedArray) else x
    names = (
        [ax.name for ax in x.axes] if isinstance(x, NamedArray) else [f"dim {i}" for i in range(np.ndim(raw))]
    )
    shape = tuple(np.shape(raw))
    sharding = getattr(raw, "sharding", None)
    spec: tuple[Any, ...] = ()
    mesh_shape: dict[str, int] = {}
    if isinstance(sharding, jax.sharding.NamedSharding):
        spec = tuple(sharding.spec)
        mesh_shape = dict(sharding.mesh.shape)
    shard_shape = tuple(sharding.shard_shape(shape)) if sharding is not None and shape else shape
    rows = []
    for i, (name, size) in enumerate(zip(names, shape, strict=True)):
        entry = spec[i] if i < len(spec) else None
        if entry is None:
            where = "replicated"
        else:
            axes = entry if isinstance(entry, tuple) else (entry,)
            where = ", ".join(f"{a} ({mesh_shape.get(a, '?')})" for a in axes)
        rows.append((name, size, where, shard_shape[i]))
    return rows


def _text_table(title: str, rows: list[tuple[str, int, str, int]]) -> str:
    header = ("axis", "size", "mesh axes", "per device")
    cells = [header, *[(str(a), str(b), c, str(d)) for a, b, c, d in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(4)]
    line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
    body = [line(header), "  ".join("-" * w for w in widths), *[line(r) for r in cells[1:]]]
    if not rows:
        body.append("(0-d array: replicated)")
    return "\n".join([title, *body])


def _print(title: str, rows: list[tuple[str, int, str, int]], use_rich: bool | None) -> None:
    if use_rich is None:
        use_rich = importlib.util.find_spec("rich") is not None
    if not use_rich:
        print(_text_table(title, rows))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for col in ("axis", "size", "mesh axes", "per device"):
        table.add_column(col)
    for a, b, c, d in rows:
        table.add_row(a, str(b), c, str(d))
    Console().print(table)


def visualize_named_sharding(x: ArrayLike, *, title: str | None = None, use_rich: bool | None = None) -> None:
    """Print how each named axis of ``x`` maps onto mesh axes, and its size per device.

    Uses a `rich` table when rich is installed (``use_rich=None``), plain text otherwise.
    """
    _print(title or describe_array(x), _sharding_rows(x), use_rich)


def visualize_shardings(tree: Any, *, use_rich: bool | None = None) -> None:
    """Print a sharding table for every array leaf of a pytree, titled by its path.

    Examples:
        >>> import haliax as hax
        >>> from haliax.debug import visualize_shardings
        >>> visualize_shardings({"w": hax.zeros({"embed": 4})}, use_rich=False)  # doctest: +NORMALIZE_WHITESPACE
        ['w']: f32{embed: 4}
        axis   size  mesh axes   per device
        -----  ----  ----------  ----------
        embed  4     replicated  4
    """
    leaves = jax.tree_util.tree_flatten_with_path(tree, is_leaf=lambda v: isinstance(v, NamedArray))[0]
    for path, leaf in leaves:
        if isinstance(leaf, (NamedArray, jax.Array)):
            _print(f"{_path_str(path)}: {describe_array(leaf)}", _sharding_rows(leaf), use_rich)
