"""Flat, torch-style state dicts of any pytree or module, and safetensors files.

Keys are dotted paths from the pytree: ``"layers.0.attn.q_proj.weight"`` (fields of Equinox
modules, dict keys, sequence indices). NamedArrays are stored as their raw arrays and Python
scalars as themselves; the template passed to `from_state_dict` supplies the axes back. Loading
checks every shape and dtype kind against the template and never unpickles (safetensors is a
flat, typed format).

Modules customise their entries through `ModuleWithStateDictSerialization`:

- ``_state_dict_key_map()`` renames fields (``{"weight": "kernel"}``; ``None`` puts a field's
  entries directly under the module's own prefix);
- overriding ``to_state_dict`` / ``from_state_dict`` changes the key layout (a stack of layers
  writes ``layers.0.``, ``layers.1.``, ... by slicing its leading Block axis, and stacks them back);
- ``flatten_for_export`` / ``unflatten_from_export`` change shapes for export (a Linear with
  several In axes becomes a 2-D matrix) and are applied by the torch-compatible functions, one
  layer at a time inside stacks.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, Self, TypeAlias, TypeVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.core import Tracer

from ..base.errors import MissingFileError, MissingKeyError, StateDictError, format_shape
from ..base.named_array import NamedArray
from ..base.pytypes import is_jax_array_like
from ..base.runtime import sync_global_devices
from .tree import scan_aware_tree_map

StateDict: TypeAlias = dict[str, Any]
"""A flat mapping from dotted keys to arrays, as torch's ``state_dict()`` is."""

T = TypeVar("T")


def with_prefix(prefix: str | None, leaf: str | None) -> str | None:
    """Join two optional dotted key parts: ``with_prefix("a", "b") == "a.b"``; a ``None`` part is left out.

    Examples:
        >>> from haliax.state_dict import with_prefix
        >>> with_prefix("model", "embed"), with_prefix(None, "embed"), with_prefix("model", None)
        ('model.embed', 'embed', 'model')
    """
    if prefix is None:
        return leaf
    if leaf is None:
        return prefix
    return f"{prefix}.{leaf}"


def _is_array(x: Any) -> bool:
    return is_jax_array_like(x) and not isinstance(x, NamedArray)


def _is_python_scalar(x: Any) -> bool:
    return isinstance(x, (bool, int, float, complex, np.generic))


def _key_str(k: Any) -> str:
    for attr in ("name", "key", "idx"):
        if hasattr(k, attr):
            return str(getattr(k, attr))
    return str(k)


def _children(node: Any) -> tuple[list[tuple[str, Any]], Any]:
    """One level of a pytree node: ``[(key, child)]`` and the treedef to rebuild it."""
    leaves, treedef = jax.tree_util.tree_flatten_with_path(node, is_leaf=lambda x: x is not node or x is None)
    return [(".".join(_key_str(k) for k in path), leaf) for path, leaf in leaves], treedef


def _is_leaf(x: Any) -> bool:
    """A true pytree leaf (not a container, not a node without children such as an empty module)."""
    leaves = jax.tree_util.tree_leaves(x, is_leaf=lambda y: y is None)
    return len(leaves) == 1 and leaves[0] is x


# ----- to -----
def _to(node: Any, prefix: str | None, out: StateDict) -> None:
    if node is None:
        return
    if isinstance(node, ModuleWithStateDictSerialization):
        out.update(node.to_state_dict(prefix))
    elif isinstance(node, NamedArray):
        if node.array is not None:
            out[_require_key(prefix)] = node.array
    elif _is_array(node) or _is_python_scalar(node):
        out[_require_key(prefix)] = node
    elif not _is_leaf(node):
        for key, child in _children(node)[0]:
            _to(child, with_prefix(prefix, key), out)
    else:
        raise StateDictError(
            f"to_state_dict: the value at {prefix!r} is a {type(node).__name__}, which a state dict cannot "
            f"hold (only arrays and numbers); mark that field static (eqx.field(static=True)) or filter it out"
        )


def _require_key(prefix: str | None) -> str:
    if prefix is None:
        raise StateDictError("to_state_dict: a bare array has no key; pass a prefix to name it")
    return prefix


def to_state_dict(tree: Any, prefix: str | None = None) -> StateDict:
    """Flatten a module or pytree into ``{dotted key: array}``; NamedArrays become raw arrays.

    Python numbers in non-static fields are kept as they are; ``None`` entries are left out.

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
def _dtype_kind(dtype: Any) -> str:
    """'f' for real and complex floats (bfloat16 and fp8 included), 'i' for integers and bools."""
    d = jnp.dtype(dtype)
    return "f" if jnp.issubdtype(d, jnp.inexact) else "i"


def _take(state_dict: Mapping[str, Any], key: str | None, template: Any, named: str) -> Any:
    if key is None:
        raise StateDictError("from_state_dict: a bare array template has no key; pass a prefix to name it")
    if key not in state_dict:
        near = [k for k in state_dict if k.rsplit(".", 1)[-1] == key.rsplit(".", 1)[-1]][:3]
        hint = f"; keys with the same last part: {', '.join(map(repr, near))}" if near else ""
        raise MissingKeyError(f"from_state_dict: key {key!r} is missing from the state dict{hint}")
    value = state_dict[key]
    if not is_jax_array_like(value):
        raise StateDictError(
            f"from_state_dict: key {key!r} holds a {type(value).__name__} where the template has an array"
            f"{named}; check that the state dict came from to_state_dict or load_state_dict"
        )
    found, expected = tuple(np.shape(value)), tuple(template.shape)
    if found != expected:
        raise StateDictError(
            f"from_state_dict: key {key!r} has shape {found} in the state dict but the template expects "
            f"{expected}{named}; check that the model config matches the checkpoint"
        )
    if _dtype_kind(value.dtype) != _dtype_kind(template.dtype):
        raise StateDictError(
            f"from_state_dict: key {key!r} has dtype {jnp.dtype(value.dtype).name} in the state dict but the "
            f"template has {jnp.dtype(template.dtype).name}{named}; integers do not load into floating-point "
            f"parameters or back (a quantized or index tensor under a weight's key?); convert it with "
            f".astype before loading if that is what you mean"
        )
    return _place_like(value, template)


def _template_sharding(template: Any) -> jax.sharding.Sharding | None:
    """The layout of a template leaf laid out over several devices (a concrete array or a ShapeDtypeStruct)."""
    if isinstance(template, Tracer):
        return None
    sharding = getattr(template, "sharding", None)
    if isinstance(sharding, jax.sharding.Sharding) and len(sharding.device_set) > 1:
        return sharding
    return None


def _place_like(value: Any, template: Any) -> jax.Array:
    """``value`` as a jax array, laid out as ``template`` is when the template is sharded over a mesh.

    A loaded model is then sharded like the (sharded) template it was read into, also when the
    value passed through a host numpy array (a file) or a per-layer stack.
    """
    sharding = _template_sharding(template)
    if sharding is None or isinstance(value, Tracer):
        return value if isinstance(value, jax.Array) else jnp.asarray(value)
    if isinstance(value, jax.Array):
        return value if value.sharding == sharding else jax.device_put(value, sharding)
    host = np.asarray(value)
    return jax.make_array_from_callback(host.shape, sharding, lambda index: host[index])


def _scalar_like(value: Any, template: Any) -> Any:
    """A number read back from a file (a 0-d numpy array) as the template's Python type (``bool``, ``int``, ...)."""
    scalar = type(template) in (bool, int, float, complex)
    if scalar and isinstance(value, (np.ndarray, np.generic)) and np.ndim(value) == 0:
        return type(template)(value.item())
    return value


def _from(template: Any, state_dict: Mapping[str, Any], prefix: str | None) -> Any:
    if template is None:
        return None
    if isinstance(template, ModuleWithStateDictSerialization):
        return template.from_state_dict(state_dict, prefix)
    if isinstance(template, NamedArray):
        value = _take(state_dict, prefix, template.array, f" {format_shape(template.axes)}")
        return NamedArray._new(value, template.axes)
    if _is_array(template):
        return _take(state_dict, prefix, template, "")
    if _is_leaf(template):
        # numbers (and anything else without arrays) come back from the state dict when present
        return template if prefix is None else _scalar_like(state_dict.get(prefix, template), template)
    children, treedef = _children(template)
    return treedef.unflatten([_from(child, state_dict, with_prefix(prefix, key)) for key, child in children])


def from_state_dict(
    tree: T, state_dict: Mapping[str, Any], prefix: str | None = None, *, strict: bool = False
) -> T:
    """Fill ``tree`` (a module or pytree used as a template) with the arrays of ``state_dict``.

    Args:
        tree: gives the structure, the keys and the axes; its array values are not used
            (``jax.ShapeDtypeStruct`` leaves, e.g. from ``eqx.filter_eval_shape``, work).
        state_dict: ``{dotted key: array}``, as `to_state_dict` or `load_state_dict` return.
        prefix: read the keys under this dotted prefix only.
        strict: also raise if ``state_dict`` has keys (under ``prefix``) that the template does
            not use; by default they are ignored, so a checkpoint can hold more than one model.

    Where a template array is sharded over several devices, the loaded array gets its sharding.

    Raises:
        StateDictError: a key is missing, a shape differs (the message names the key, the
            expected and the found shape), an integer array meets a floating-point parameter (or
            the reverse), or (``strict``) keys are left over.
    """
    out = _from(tree, state_dict, prefix)
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
        names, values = [], []
        for name, key in self._state_dict_fields():
            old = getattr(self, name)
            if old is None:  # a parameter the module does not have is never read (e.g. a missing bias)
                continue
            names.append(name)
            values.append(_from(old, state_dict, with_prefix(prefix, key)))
        return eqx.tree_at(
            lambda m: [getattr(m, n) for n in names], self, values, is_leaf=lambda x: x is None
        )

    def flatten_for_export(self) -> Self:
        """This module with shapes as an exported (e.g. torch) checkpoint has them; default: unchanged."""
        return self

    def unflatten_from_export(self, template: Self) -> Self:
        """Undo `flatten_for_export`, taking axes from ``template``; default: unchanged.

        ``template`` is a module of the same class as ``self``. Overrides name their own class for
        it, which type checkers report as an unsafe override (a parameter may not narrow); it is
        safe here because the export functions only pair a module with one of its own class.
        """
        return self


def _is_module(x: Any) -> bool:
    return isinstance(x, ModuleWithStateDictSerialization)


def flatten_modules_for_export(t: T) -> T:
    """Apply ``flatten_for_export`` to every `ModuleWithStateDictSerialization` in ``t``, outermost first.

    Inside a stack of layers (`haliax.nn.Stacked`) each layer is flattened on its own, so the
    stack's Block axis is never merged into a layer's axes.
    """

    def go(node: Any) -> Any:
        if not _is_module(node):
            return node
        node = node.flatten_for_export()
        return scan_aware_tree_map(go, node, is_leaf=lambda x: x is not node and _is_module(x))

    return scan_aware_tree_map(go, t, is_leaf=_is_module)


def unflatten_modules_from_export(t: T, template: T) -> T:
    """Apply ``unflatten_from_export`` (against ``template``) to every module in ``t``, outermost first."""

    def go(node: Any, tmpl: Any) -> Any:
        if not _is_module(node):
            return node
        node = node.unflatten_from_export(tmpl)
        stop: Callable[[Any], bool] = lambda x: x is not node and _is_module(x)
        try:
            return scan_aware_tree_map(go, node, tmpl, is_leaf=stop)
        except ValueError as e:
            if isinstance(e, StateDictError):
                raise
            raise StateDictError(
                f"unflatten_modules_from_export: a {type(node).__name__} does not have the structure of its "
                f"template ({e}); pass the template the tree was flattened from"
            ) from None

    return scan_aware_tree_map(go, t, template, is_leaf=_is_module)


def _realize(t: Any) -> Any:
    """Zeros for ``ShapeDtypeStruct`` leaves, so export hooks can reshape them (free under jit)."""
    return jax.tree_util.tree_map(
        lambda s: jnp.zeros(s.shape, s.dtype) if isinstance(s, jax.ShapeDtypeStruct) else s, t
    )


def to_torch_compatible_state_dict(
    t: Any,
    *,
    flatten: bool = True,
    prefix: str | None = None,
    filter: Callable[[Any], bool] | Any = is_jax_array_like,
) -> StateDict:
    """A host-numpy state dict laid out as torch would have it.

    Keeps the leaves that ``filter`` (an Equinox filter spec) selects, applies
    `flatten_modules_for_export` when ``flatten`` is true, then `to_numpy_state_dict`.
    """
    t = eqx.filter(t, filter)
    if flatten:
        t = flatten_modules_for_export(t)
    return to_numpy_state_dict(t, prefix=prefix)


def from_torch_compatible_state_dict(
    t: T,
    state_dict: Mapping[str, Any],
    *,
    unflatten: bool = True,
    prefix: str | None = None,
    strict: bool = False,
) -> T:
    """Load a torch-layout state dict into ``t``: the inverse of `to_torch_compatible_state_dict`.

    With ``unflatten`` (the default) the state dict's shapes are those of
    `flatten_modules_for_export`, and `unflatten_modules_from_export` restores ``t``'s axes.
    """
    if not unflatten:
        return from_state_dict(t, state_dict, prefix, strict=strict)
    template = t
    t = _realize(t)
    flat = from_state_dict(flatten_modules_for_export(t), state_dict, prefix, strict=strict)
    out = unflatten_modules_from_export(flat, t)
    # reshaping for export moved sharded arrays around; lay the result out as the template is
    return jax.tree_util.tree_map(
        lambda x, tmpl: _place_like(x, tmpl) if _is_array(x) else x, out, template, is_leaf=_is_none
    )


def _is_none(x: Any) -> bool:
    return x is None


# ----- host numpy and files -----
def _to_host(x: Any) -> np.ndarray:
    if isinstance(x, jax.Array) and not x.is_fully_addressable:
        from jax.experimental import multihost_utils

        x = multihost_utils.process_allgather(x, tiled=True)
    return np.asarray(jax.device_get(x))


def to_numpy_state_dict(model: Any, prefix: str | None = None) -> StateDict:
    """`to_state_dict` with every array gathered to host numpy (sharded arrays are assembled whole)."""
    return {k: _to_host(v) if is_jax_array_like(v) else v for k, v in to_state_dict(model, prefix).items()}


_SAVES = 0


def _host_value(key: str, value: Any, path: str) -> np.ndarray:
    if not (is_jax_array_like(value) or _is_python_scalar(value)) or isinstance(value, NamedArray):
        hint = " (pass NamedArray.array)" if isinstance(value, NamedArray) else ""
        raise StateDictError(
            f"save_state_dict: key {key!r} holds a {type(value).__name__}, which safetensors cannot store{hint}; "
            f"only arrays and numbers can be written to {path!r}"
        )
    host = _to_host(value)
    if host.dtype == object or host.dtype.kind in "US":
        raise StateDictError(
            f"save_state_dict: key {key!r} has dtype {host.dtype}, which safetensors cannot store; "
            f"only numeric arrays can be written to {path!r}"
        )
    # np.ascontiguousarray turns a 0-d array into shape (1,); reshape keeps scalars (fp8 scales) 0-d
    return np.ascontiguousarray(host).reshape(host.shape)


def save_state_dict(state_dict: Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    """Write a state dict to a safetensors file; ``None`` entries are skipped.

    Arrays are gathered to host numpy first (every process must call this); process 0 writes the
    file, with the ``{"format": "pt"}`` metadata that Hugging Face loaders expect.

    Raises:
        StateDictError: an entry is not an array or a number, or the file cannot be written.
    """
    from safetensors import SafetensorError
    from safetensors.numpy import save_file

    global _SAVES
    where = os.fspath(path)
    host = {k: _host_value(k, v, where) for k, v in state_dict.items() if v is not None}
    if jax.process_index() == 0:
        try:
            save_file(host, where, metadata={"format": "pt"})
        except (SafetensorError, ValueError, TypeError) as e:
            raise StateDictError(f"save_state_dict: could not write {where!r}: {e}") from e
    if jax.process_count() > 1:
        sync_global_devices(f"haliax save_state_dict {_SAVES}")
    _SAVES += 1


def load_state_dict(path: str | os.PathLike[str]) -> StateDict:
    """Read a safetensors file into ``{key: numpy array}`` (no pickle is involved).

    Raises:
        MissingFileError: there is no file at ``path`` (a `FileNotFoundError`).
        StateDictError: the file is not a complete safetensors file (truncated, or another format).
    """
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    where = os.fspath(path)
    if not os.path.exists(where):
        raise MissingFileError(
            f"load_state_dict: no file at {where!r}; check the path (and the working directory)"
        )
    try:
        return load_file(where)
    except (SafetensorError, ValueError, OSError) as e:
        raise StateDictError(
            f"load_state_dict: {where!r} is not a readable safetensors file ({e}); a truncated download or a "
            f"pickle/torch .bin checkpoint? convert it to safetensors first"
        ) from e
