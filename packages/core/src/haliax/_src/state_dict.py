"""Flat, torch-style state dicts of any pytree or module, and safetensors files.

Keys are dotted paths from the pytree: ``"layers.0.attn.q_proj.weight"`` (fields of Equinox
modules, dict keys, sequence indices). NamedArrays are stored as their raw arrays; the template
passed to `from_state_dict` supplies the axes back. Loading checks every shape against the template
and never unpickles (safetensors is a flat, typed format).

Modules customise their entries through `ModuleWithStateDictSerialization`:

- ``_state_dict_key_map()`` renames fields (``{"weight": "kernel"}``; ``None`` puts a field's
  entries directly under the module's own prefix);
- overriding ``to_state_dict`` / ``from_state_dict`` changes the key layout (a stack of layers
  writes ``layers.0.``, ``layers.1.``, ... by slicing its leading Block axis, and stacks them back);
- ``flatten_for_export`` / ``unflatten_from_export`` change shapes for export (a Linear with
  several In axes becomes a 2-D matrix) and are applied by the torch-compatible functions.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, Self, TypeAlias, TypeVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .errors import StateDictError, format_shape
from .named_array import NamedArray

StateDict: TypeAlias = dict[str, Any]
"""A flat mapping from dotted keys to arrays, as torch's ``state_dict()`` is."""

T = TypeVar("T")


def with_prefix(prefix: str | None, leaf: str | None) -> str | None:
    """Join two optional dotted key parts: ``with_prefix("a", "b") == "a.b"``.

    Examples:
        >>> from haliax.state_dict import with_prefix
        >>> with_prefix("model", "embed"), with_prefix(None, "embed"), with_prefix("model", None)
        ('model.embed', 'embed', 'model')
    """
    if prefix is None or prefix == "":
        return leaf
    if leaf is None or leaf == "":
        return prefix
    return f"{prefix}.{leaf}"


def _is_array(x: Any) -> bool:
    return hasattr(x, "shape") and hasattr(x, "dtype") and not isinstance(x, NamedArray)


def _key_str(k: Any) -> str:
    for attr in ("name", "key", "idx"):
        if hasattr(k, attr):
            return str(getattr(k, attr))
    return str(k)


def _children(node: Any) -> tuple[list[tuple[str, Any]], Any]:
    """One level of a pytree node: ``[(key, child)]`` and the treedef to rebuild it."""
    leaves, treedef = jax.tree_util.tree_flatten_with_path(node, is_leaf=lambda x: x is not node)
    return [(".".join(_key_str(k) for k in path), leaf) for path, leaf in leaves], treedef


# ----- to -----
def _is_leaf(x: Any) -> bool:
    return jax.tree_util.treedef_is_leaf(jax.tree_util.tree_structure(x))


def _to(node: Any, prefix: str | None, out: StateDict) -> None:
    if isinstance(node, ModuleWithStateDictSerialization):
        out.update(node.to_state_dict(prefix))
    elif isinstance(node, NamedArray):
        out[_require_key(prefix)] = node.array
    elif _is_array(node):
        out[_require_key(prefix)] = node
    elif not _is_leaf(node):
        for key, child in _children(node)[0]:
            _to(child, with_prefix(prefix, key), out)
    # other leaves (None, Python scalars, callables) hold no arrays and are skipped


def _require_key(prefix: str | None) -> str:
    if prefix is None:
        raise StateDictError("to_state_dict: a bare array has no key; pass a prefix to name it")
    return prefix


def to_state_dict(tree: Any, prefix: str | None = None) -> StateDict:
    """Flatten a module or pytree into ``{dotted key: array}``; NamedArrays become raw arrays.

    Examples:
        >>> import haliax as hax, jax.numpy as jnp
        >>> from haliax.state_dict import to_state_dict
        >>> tree = {"embed": {"weight": hax.named(jnp.zeros((2, 3)), ("vocab", "embed"))}}
        >>> {k: v.shape for k, v in to_state_dict(tree, prefix="model").items()}
        {'model.embed.weight': (2, 3)}
    """
    out: StateDict = {}
    _to(tree, prefix, out)
    return out


# ----- from -----
def _take(state_dict: Mapping[str, Any], key: str | None, template_shape: tuple[int, ...], named: str) -> Any:
    if key is None:
        raise StateDictError("from_state_dict: a bare array template has no key; pass a prefix to name it")
    if key not in state_dict:
        near = [k for k in state_dict if k.rsplit(".", 1)[-1] == key.rsplit(".", 1)[-1]][:3]
        hint = f"; keys with the same last part: {', '.join(map(repr, near))}" if near else ""
        raise StateDictError(f"from_state_dict: key {key!r} is missing from the state dict{hint}")
    value = state_dict[key]
    found = tuple(np.shape(value))
    if found != tuple(template_shape):
        raise StateDictError(
            f"from_state_dict: key {key!r} has shape {found} in the state dict but the template expects "
            f"{tuple(template_shape)}{named}; check that the model config matches the checkpoint"
        )
    return value


def _as_array(value: Any) -> Any:
    return value if isinstance(value, jax.Array) else jnp.asarray(value)


def _from(template: Any, state_dict: Mapping[str, Any], prefix: str | None) -> Any:
    if isinstance(template, ModuleWithStateDictSerialization):
        return template.from_state_dict(state_dict, prefix)
    if isinstance(template, NamedArray):
        shape = tuple(ax.size for ax in template.axes)
        value = _take(state_dict, prefix, shape, f" {format_shape(template.axes)}")
        return NamedArray._new(_as_array(value), template.axes)
    if _is_array(template):
        return _as_array(_take(state_dict, prefix, tuple(template.shape), ""))
    if _is_leaf(template):
        return template
    children, treedef = _children(template)
    return treedef.unflatten([_from(child, state_dict, with_prefix(prefix, key)) for key, child in children])


def from_state_dict(
    template: T, state_dict: Mapping[str, Any], prefix: str | None = None, *, strict: bool = True
) -> T:
    """Fill ``template`` (a module or pytree) with the arrays of ``state_dict``, checking shapes.

    Args:
        template: gives the structure, the keys and the axes; its array values are not used
            (``jax.ShapeDtypeStruct`` leaves, e.g. from ``eqx.filter_eval_shape``, work).
        state_dict: ``{dotted key: array}``, as `to_state_dict` or `load_state_dict` return.
        prefix: read the keys under this dotted prefix only.
        strict: raise if ``state_dict`` has keys (under ``prefix``) that the template does not use.

    Raises:
        StateDictError: a key is missing, a shape differs (the message names the key, the
            expected and the found shape), or (``strict``) keys are left over.
    """
    out = _from(template, state_dict, prefix)
    if strict:
        used = set(to_state_dict(out, prefix))
        scope = "" if not prefix else prefix + "."
        extra = sorted(k for k in state_dict if k not in used and (not scope or k.startswith(scope)))
        if extra:
            shown = ", ".join(map(repr, extra[:5])) + (
                f" and {len(extra) - 5} more" if len(extra) > 5 else ""
            )
            raise StateDictError(
                f"from_state_dict: the state dict has {len(extra)} key(s) the template does not use: {shown}; "
                f"pass strict=False to ignore them, or a prefix to load part of it"
            )
    return out


# ----- modules with custom serialization -----
class ModuleWithStateDictSerialization(eqx.Module):
    """An Equinox module base that controls its own state-dict keys and export shapes.

    Override `_state_dict_key_map` to rename fields, `to_state_dict` / `from_state_dict` to change
    the key layout, and `flatten_for_export` / `unflatten_from_export` to change shapes in
    torch-compatible exports.
    """

    def _state_dict_key_map(self) -> dict[str, str | None]:
        """Field name -> state-dict key part (``None``: the field's entries go under the module's prefix)."""
        return {}

    def _state_dict_fields(self) -> list[tuple[str, str | None]]:
        key_map = self._state_dict_key_map()
        fields = [f.name for f in self.__dataclass_fields__.values() if not f.metadata.get("static", False)]
        return [(name, key_map.get(name, name)) for name in fields]

    def to_state_dict(self, prefix: str | None = None) -> StateDict:
        """This module's entries, keys under ``prefix``, fields renamed by `_state_dict_key_map`."""
        out: StateDict = {}
        for name, key in self._state_dict_fields():
            _to(getattr(self, name), with_prefix(prefix, key), out)
        return out

    def from_state_dict(self, state_dict: Mapping[str, Any], prefix: str | None = None) -> Self:
        """A copy of this module with its arrays read from ``state_dict`` under ``prefix``."""
        fields = self._state_dict_fields()
        values = [_from(getattr(self, name), state_dict, with_prefix(prefix, key)) for name, key in fields]
        names = [name for name, _ in fields]
        return eqx.tree_at(
            lambda m: [getattr(m, n) for n in names], self, values, is_leaf=lambda x: x is None
        )

    def flatten_for_export(self) -> Self:
        """This module with shapes as an exported (e.g. torch) checkpoint has them; default: unchanged."""
        return self

    def unflatten_from_export(self, template: Self) -> Self:
        """Undo `flatten_for_export`, taking axes from ``template``; default: unchanged."""
        return self


def _is_module(x: Any) -> bool:
    return isinstance(x, ModuleWithStateDictSerialization)


def flatten_modules_for_export(tree: T) -> T:
    """Apply ``flatten_for_export`` to every `ModuleWithStateDictSerialization` in ``tree``, innermost first."""

    def go(node: Any) -> Any:
        if not _is_module(node):
            return node
        inner = jax.tree_util.tree_map(go, node, is_leaf=lambda x: x is not node and _is_module(x))
        return inner.flatten_for_export()

    return jax.tree_util.tree_map(go, tree, is_leaf=_is_module)


def unflatten_modules_from_export(tree: T, template: T) -> T:
    """Apply ``unflatten_from_export`` (against ``template``) to every module in ``tree``, outermost first."""

    def go(node: Any, tmpl: Any) -> Any:
        if _is_module(tmpl):
            node = node.unflatten_from_export(tmpl)
        stop: Callable[[Any], Callable[[Any], bool]] = lambda root: (
            lambda x: x is not root and (_is_module(x) or isinstance(x, NamedArray))
        )
        node_leaves, node_def = jax.tree_util.tree_flatten(node, is_leaf=stop(node))
        tmpl_leaves = jax.tree_util.tree_leaves(tmpl, is_leaf=stop(tmpl))
        if len(node_leaves) != len(tmpl_leaves):
            raise StateDictError(
                f"unflatten_modules_from_export: the tree has {len(node_leaves)} leaves where the template has "
                f"{len(tmpl_leaves)}; pass the template the tree was flattened from"
            )
        return node_def.unflatten(
            [go(n, t) if _is_module(t) else n for n, t in zip(node_leaves, tmpl_leaves, strict=True)]
        )

    return go(tree, template)


def to_torch_compatible_state_dict(tree: Any, prefix: str | None = None) -> StateDict:
    """`to_state_dict` after `flatten_modules_for_export`, so shapes match the torch layout."""
    return to_state_dict(flatten_modules_for_export(tree), prefix)


def from_torch_compatible_state_dict(
    template: T, state_dict: Mapping[str, Any], prefix: str | None = None, *, strict: bool = True
) -> T:
    """Load a torch-layout state dict into ``template``: the inverse of `to_torch_compatible_state_dict`."""
    flat = from_state_dict(flatten_modules_for_export(template), state_dict, prefix, strict=strict)
    return unflatten_modules_from_export(flat, template)


# ----- host numpy and files -----
def _to_host(x: Any) -> np.ndarray:
    if isinstance(x, jax.Array) and not x.is_fully_addressable:
        from jax.experimental import multihost_utils

        x = multihost_utils.process_allgather(x, tiled=True)
    return np.asarray(jax.device_get(x))


def to_numpy_state_dict(tree: Any, prefix: str | None = None) -> dict[str, np.ndarray]:
    """`to_state_dict` with every array gathered to host numpy (sharded arrays are assembled whole)."""
    return {k: _to_host(v) for k, v in to_state_dict(tree, prefix).items()}


def save_state_dict(state_dict: Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    """Write a state dict to a safetensors file (arrays are gathered to host numpy first)."""
    from safetensors.numpy import save_file

    host = {k: np.asarray(_to_host(v)) for k, v in state_dict.items()}
    # np.ascontiguousarray turns a 0-d array into shape (1,); reshape keeps scalars (fp8 scales) 0-d
    save_file({k: np.ascontiguousarray(v).reshape(v.shape) for k, v in host.items()}, os.fspath(path))


def load_state_dict(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Read a safetensors file into ``{key: numpy array}`` (no pickle is involved)."""
    from safetensors.numpy import load_file

    return load_file(os.fspath(path))
