"""`QuantizationConfig` and `quantize_linear_layers`: swap the matmul of chosen `Linear` layers."""

from __future__ import annotations

import dataclasses
import re
import warnings
from collections.abc import Sequence
from typing import Any, TypeVar

import equinox as eqx
import jax
from jax.typing import DTypeLike

from haliax import NamedArray
from haliax.axis import Axis
from haliax.errors import NamedTypeError, QuantizationError
from haliax.nn._src.linear import Linear
from haliax.nn._src.scan import Stacked

from .fp8 import Fp8DotGeneralOp
from .int8 import Int8DotGeneralOp

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class QuantizationConfig:
    """Which `Linear` layers to quantize, and how.

    Attributes:
        targets: which Linear layers to quantize, by module path (field names, dict keys and
            list indices joined by dots, as ``jax.tree_util`` key paths give them; a `Stacked`'s
            layers are under its ``stacked`` field: ``"blocks.stacked.attn.qkv"``). ``None``:
            every Linear. A list: the layers whose last path part is in it (``["qkv", "0"]``).
            A string: a regular expression matched (``re.match``, i.e. from the start) against
            the whole path (``"layers.0"``, ``"blocks\\..*qkv"``).
        amax_history_length: steps of amax history behind each fp8 scale.
        compute_dtype: the GEMM output dtype (default: the operands' dtype).
        fp8: use `Fp8DotGeneralOp` (delayed scaling).
        int8: use `Int8DotGeneralOp`.
    """

    targets: str | Sequence[str] | None = None
    amax_history_length: int = 1024
    compute_dtype: DTypeLike | None = None
    fp8: bool = False
    int8: bool = False

    def __post_init__(self) -> None:
        if self.fp8 and self.int8:
            raise QuantizationError(
                "QuantizationConfig: fp8=True and int8=True were both given; choose one of them"
            )
        t = self.targets
        if isinstance(t, str):
            try:
                re.compile(t)
            except re.error as e:
                raise QuantizationError(
                    f"QuantizationConfig: targets {t!r} is not a valid regular expression ({e}); escape "
                    f"special characters with re.escape, or pass a list of layer names"
                ) from None
        elif t is not None and (
            not isinstance(t, (list, tuple, set, frozenset)) or not all(isinstance(n, str) for n in t)
        ):
            raise NamedTypeError(
                f"QuantizationConfig: targets must be None, a regular expression string or a list of layer "
                f"names (strings), got a {type(t).__name__}; e.g. targets=['qkv', 'up']"
            )


def _target_matches(targets: str | Sequence[str], path: str) -> bool:
    if isinstance(targets, str):
        return re.match(targets, path) is not None
    return path.rsplit(".", 1)[-1] in targets


def _key_str(k: Any) -> str:
    for attr in ("name", "key", "idx"):
        if hasattr(k, attr):
            return str(getattr(k, attr))
    return str(k)


def _join(prefix: str, part: str) -> str:
    return f"{prefix}.{part}" if prefix else part


def _walk(node: Any, path: str, lead: tuple[Axis, ...], visit: Any, modules: list[tuple[str, type]]) -> Any:
    """Rebuild ``node`` with ``visit(path, linear, lead)`` applied to every `Linear` in it.

    ``lead`` holds the ``Block`` axes of the `Stacked` modules on the way down.
    """
    if isinstance(node, Linear):
        modules.append((path, type(node)))
        return visit(path, node, lead)
    if isinstance(node, NamedArray) or node is None:
        return node
    leaves, treedef = jax.tree_util.tree_flatten_with_path(node, is_leaf=lambda x: x is not node)
    if jax.tree_util.treedef_is_leaf(treedef):
        return node
    if isinstance(node, eqx.Module):
        modules.append((path, type(node)))
    new = []
    for key_path, child in leaves:
        name = ".".join(_key_str(k) for k in key_path)
        inner = (*lead, node.Block) if isinstance(node, Stacked) and name == "stacked" else lead
        new.append(_walk(child, _join(path, name), inner, visit, modules))
    return treedef.unflatten(new)


def _make_op(config: QuantizationConfig, lead: tuple[Axis, ...]) -> Any:
    if config.int8:
        return Int8DotGeneralOp.init(compute_dtype=config.compute_dtype)
    return Fp8DotGeneralOp.init(config.amax_history_length, config.compute_dtype, leading_axes=lead)


def quantize_linear_layers(tree: T, config: QuantizationConfig) -> T:
    """Replace the ``dot_general`` of matching `Linear` layers in ``tree`` with Fp8/Int8 ops per ``config``.

    Linears inside a `haliax.nn.Stacked` get fp8 state with a leading dimension per stack, so the
    stack's scan gives each layer its own scales. With neither ``fp8`` nor ``int8`` set, the tree
    comes back unchanged, with a warning (as in Haliax).

    Raises:
        QuantizationError: a target matches no Linear (the message lists the Linear paths
            found), or matches only modules that are not Linear (the message names them and
            their types).

    Examples:
        >>> import jax, haliax as hax, haliax.nn as hnn
        >>> import haliax.quantization as hq
        >>> Embed, Hidden = hax.Axis("embed", 4), hax.Axis("hidden", 8)
        >>> k1, k2 = jax.random.split(jax.random.PRNGKey(0))
        >>> mlp = {"up": hnn.Linear.init(Embed, Hidden, key=k1), "down": hnn.Linear.init(Hidden, Embed, key=k2)}
        >>> q = hq.quantize_linear_layers(mlp, hq.QuantizationConfig(targets=["up"], int8=True))
        >>> type(q["up"].dot_general).__name__, type(q["down"].dot_general).__name__
        ('Int8DotGeneralOp', 'DefaultDotGeneralOp')
    """
    op = "quantize_linear_layers"
    if not (config.fp8 or config.int8):
        warnings.warn(
            f"{op}: the config asks for no quantization (fp8=False, int8=False), so the model is returned "
            f"unchanged; set fp8=True or int8=True",
            stacklevel=2,
        )
        return tree
    targets = config.targets

    def visit(path: str, layer: Linear, lead: tuple[Axis, ...]) -> Linear:
        if targets is not None and not _target_matches(targets, path):
            return layer
        return eqx.tree_at(lambda m: m.dot_general, layer, _make_op(config, lead))

    modules: list[tuple[str, type]] = []
    out = _walk(tree, "", (), visit, modules)
    if targets is not None:
        _check_targets(op, targets, modules)
    return out


def _check_targets(op: str, targets: str | Sequence[str], modules: list[tuple[str, type]]) -> None:
    """Every target must select some Linear: a typo would otherwise leave the model unquantized."""
    linear_paths = [p for p, t in modules if issubclass(t, Linear)]
    single = isinstance(targets, str)
    for target in [targets] if single else list(targets):
        matched = [(p, t) for p, t in modules if _target_matches(target if single else [target], p)]
        if any(issubclass(t, Linear) for _, t in matched):
            continue
        others = [(p, t) for p, t in matched if not issubclass(t, Linear)]
        if others:
            shown = ", ".join(f"{p!r} ({t.__name__})" for p, t in others[:5])
            raise QuantizationError(
                f"{op}: target {target!r} matches {shown}, which is not a Linear; only Linear layers "
                f"can be quantized: target one of the Linear paths {_listing(linear_paths)}"
            )
        raise QuantizationError(
            f"{op}: target {target!r} matches no Linear layer; the Linear paths in this model are "
            f"{_listing(linear_paths)}"
        )


def _listing(paths: list[str]) -> str:
    if not paths:
        return "(none: the model has no Linear layers)"
    shown = ", ".join(repr(p) for p in paths[:8])
    return shown + (f" and {len(paths) - 8} more" if len(paths) > 8 else "")
