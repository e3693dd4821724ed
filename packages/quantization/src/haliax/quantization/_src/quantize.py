"""`QuantizationConfig` and `quantize_linear_layers`: swap the matmul of chosen `Linear` layers."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import Any, TypeVar

import equinox as eqx
import jax

from haliax._src.errors import QuantizationError
from haliax._src.named_array import NamedArray
from haliax._src.state_dict import ModuleWithStateDictSerialization
from haliax.nn._src.linear import Linear
from haliax.nn._src.sampling import as_axes
from haliax.nn._src.scan import Stacked

from .fp8 import Fp8DotGeneralOp
from .int8 import Int8DotGeneralOp

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class QuantizationConfig:
    """Which `Linear` layers to quantize, and how.

    Attributes:
        targets: module paths to quantize: ``None`` (every Linear), one regular expression, or a
            list of them. A pattern matches a path (``"blocks.attn.qkv"``: field names, dict keys
            and list indices joined by dots; a `Stacked`'s ``stacked`` field is left out) when it
            matches the whole path or a whole dotted suffix of it, so ``"qkv"``,
            ``"attn.qkv"`` and ``"attn\\..*"`` all match ``"blocks.attn.qkv"``.
        amax_history_length: steps of amax history behind each fp8 scale.
        compute_dtype: the GEMM output dtype (default: the operands' dtype).
        fp8: use `Fp8DotGeneralOp` (delayed scaling).
        int8: use `Int8DotGeneralOp`.
    """

    targets: str | Sequence[str] | None = None
    amax_history_length: int = 1024
    compute_dtype: Any = None
    fp8: bool = False
    int8: bool = False

    def __post_init__(self) -> None:
        if self.fp8 and self.int8:
            raise QuantizationError(
                "QuantizationConfig: fp8=True and int8=True were both given; choose one of them"
            )

    def patterns(self) -> tuple[str, ...] | None:
        """The target patterns as a tuple (``None``: every Linear)."""
        if self.targets is None:
            return None
        if isinstance(self.targets, str):
            return (self.targets,)
        return tuple(self.targets)


def _matches(pattern: str, path: str) -> bool:
    return re.fullmatch(rf"(?:.*\.)?(?:{pattern})", path) is not None


def _key_str(k: Any) -> str:
    for attr in ("name", "key", "idx"):
        if hasattr(k, attr):
            return str(getattr(k, attr))
    return str(k)


def _join(prefix: str, part: str | None) -> str:
    if not part:
        return prefix
    return f"{prefix}.{part}" if prefix else part


def _walk(node: Any, path: str, visit: Any, modules: list[tuple[str, type]]) -> Any:
    """Rebuild ``node`` with ``visit(path, linear)`` applied to every `Linear` in it."""
    if isinstance(node, Linear):
        modules.append((path, type(node)))
        return visit(path, node)
    if isinstance(node, NamedArray) or node is None:
        return node
    leaves, treedef = jax.tree_util.tree_flatten_with_path(node, is_leaf=lambda x: x is not node)
    if jax.tree_util.treedef_is_leaf(treedef):
        return node
    if isinstance(node, eqx.Module):
        modules.append((path, type(node)))
    renames: dict[str, str | None] = {}
    if isinstance(node, Stacked):
        renames["stacked"] = None
    elif isinstance(node, ModuleWithStateDictSerialization):
        renames = dict(node._state_dict_key_map())
    new = []
    for key_path, child in leaves:
        name = ".".join(_key_str(k) for k in key_path)
        part = renames.get(name, name)
        new.append(_walk(child, _join(path, part), visit, modules))
    return treedef.unflatten(new)


def _make_op(config: QuantizationConfig, layer: Linear) -> Any:
    if config.int8:
        return Int8DotGeneralOp.init(compute_dtype=config.compute_dtype)
    core = {ax.name for ax in as_axes(layer.In) + as_axes(layer.Out)}
    leading = tuple(ax for ax in layer.weight.axes if ax.name not in core)
    return Fp8DotGeneralOp.init(config.amax_history_length, config.compute_dtype, leading_axes=leading)


def quantize_linear_layers(tree: T, config: QuantizationConfig) -> T:
    """Replace the ``dot_general`` of matching `Linear` layers in ``tree`` with Fp8/Int8 ops per ``config``.

    Linears inside a `haliax.nn.Stacked` get fp8 state with the stack's ``Block`` axis in front,
    so the stack's scan gives each layer its own scales.

    Raises:
        QuantizationError: neither ``fp8`` nor ``int8`` is set; a target pattern matches no
            Linear (the message lists the Linear paths found), or matches only modules that are
            not Linear (the message names them and their types).

    Examples:
        >>> import jax, haliax as hax, haliax.nn as hnn
        >>> import haliax.quantization as hq
        >>> Embed, Hidden = hax.Axis("embed", 4), hax.Axis("hidden", 8)
        >>> k1, k2 = jax.random.split(jax.random.PRNGKey(0))
        >>> mlp = {"up": hnn.Linear.init(Embed, Hidden, key=k1), "down": hnn.Linear.init(Hidden, Embed, key=k2)}
        >>> q = hq.quantize_linear_layers(mlp, hq.QuantizationConfig(targets="up", int8=True))
        >>> type(q["up"].dot_general).__name__, type(q["down"].dot_general).__name__
        ('Int8DotGeneralOp', 'DefaultDotGeneralOp')
    """
    op = "quantize_linear_layers"
    if not (config.fp8 or config.int8):
        raise QuantizationError(
            f"{op}: the config asks for no quantization (fp8=False, int8=False); set fp8=True or int8=True"
        )
    patterns = config.patterns()

    def wanted(path: str) -> bool:
        return patterns is None or any(_matches(p, path) for p in patterns)

    def visit(path: str, layer: Linear) -> Linear:
        if not wanted(path):
            return layer
        return eqx.tree_at(lambda m: m.dot_general, layer, _make_op(config, layer))

    modules: list[tuple[str, type]] = []
    out = _walk(tree, "", visit, modules)
    if patterns is not None:
        linear_paths = [p for p, t in modules if issubclass(t, Linear)]
        for pattern in patterns:
            if any(_matches(pattern, p) for p in linear_paths):
                continue
            others = [(p, t) for p, t in modules if not issubclass(t, Linear) and _matches(pattern, p)]
            if others:
                shown = ", ".join(f"{p!r} ({t.__name__})" for p, t in others[:5])
                raise QuantizationError(
                    f"{op}: target {pattern!r} matches {shown}, which is not a Linear; only Linear layers "
                    f"can be quantized: target one of the Linear paths {_listing(linear_paths)}"
                )
            raise QuantizationError(
                f"{op}: target {pattern!r} matches no Linear layer; the Linear paths in this model are "
                f"{_listing(linear_paths)}"
            )
    return out


def _listing(paths: list[str]) -> str:
    if not paths:
        return "(none: the model has no Linear layers)"
    shown = ", ".join(repr(p) for p in paths[:8])
    return shown + (f" and {len(paths) - 8} more" if len(paths) > 8 else "")
