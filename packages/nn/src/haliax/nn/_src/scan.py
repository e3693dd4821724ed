"""Stacks of identical layers: `Stacked` (one module with a leading ``Block`` axis, run by scan)
and `BlockSeq` (a Python list of modules, run by a loop). Both offer the same interface.

`Stacked` follows core's stacked-module protocol (attributes ``Block`` and ``stacked``), so
``haliax.tree_util.scan_aware_tree_map`` visits it one layer at a time. Its state dict uses
per-layer keys (``layers.0.``, ``layers.1.``, ...), like `BlockSeq` and like PyTorch's
``nn.ModuleList``, so checkpoints move between the two and to torch.

`Stacked` runs its layers through ``haliax.fold`` / ``haliax.scan`` looked up on the package at
call time (as Haliax does), so a wrapped or patched version of either is what it uses.
"""

from __future__ import annotations

import abc
import dataclasses
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, Protocol, TypeVar

import equinox as eqx
import jax
import jax.numpy as jnp

import haliax  # nn depends on core; the package root imports nn lazily, so there is no cycle
from haliax import NamedArray, ScanCheckpointPolicy, is_named_array, vmap
from haliax.axis import Axis
from haliax.errors import AxisSizeError, LayerStackError, NamedIndexError, StateDictError
from haliax.extend import ScanCheckpointSpec, format_shape, named_unchecked, reported_as, reports_as
from haliax.jax_utils import tree_checkpoint_name
from haliax.state_dict import ModuleWithStateDictSerialization, StateDict, to_state_dict, with_prefix

M = TypeVar("M", bound=eqx.Module)
M_co = TypeVar("M_co", covariant=True)
CarryT = TypeVar("CarryT")


class ModuleInit(Protocol[M_co]):
    """A curried initializer: ``init(*args, **kwargs) -> module``."""

    def __call__(self, *args: Any, **kwargs: Any) -> M_co: ...


class FoldFunction(Protocol):
    """A step for `Stacked.fold_via`: ``f(layer, carry, *args, **kwargs) -> carry``."""

    def __call__(self, module: Any, carry: Any, *args: Any, **kwargs: Any) -> Any: ...


class ScanFunction(Protocol):
    """A step for `Stacked.scan_via`: ``f(layer, carry, *args, **kwargs) -> (carry, output)``."""

    def __call__(self, module: Any, carry: Any, *args: Any, **kwargs: Any) -> tuple[Any, Any]: ...


class VmapFunction(Protocol):
    """A function for `Stacked.vmap_via`: ``f(layer, *args, **kwargs) -> output``."""

    def __call__(self, module: Any, *args: Any, **kwargs: Any) -> Any: ...


class BlockFoldable(Protocol[M_co]):
    """The interface `Stacked` and `BlockSeq` share (a protocol: use it as a type hint)."""

    Block: Axis

    def fold(self, init: Any, *args: Any, unroll: int | bool | None = None, **kwargs: Any) -> Any: ...

    def scan(
        self, init: Any, *args: Any, unroll: int | bool | None = None, **kwargs: Any
    ) -> tuple[Any, Any]: ...

    def fold_via(self, fn: Callable[..., Any], *, unroll: int | bool | None = None) -> Callable[..., Any]: ...

    def scan_via(
        self, fn: Callable[..., Any], *, unroll: int | bool | None = None
    ) -> Callable[..., tuple[Any, Any]]: ...

    def vmap_via(self, fn: Callable[..., Any]) -> Callable[..., Any]: ...

    def unstacked(self) -> Sequence[M_co]: ...

    def get_layer(self, index: int) -> M_co: ...


def _policy(
    op: str, gradient_checkpointing: ScanCheckpointSpec, prevent_cse: bool | None
) -> ScanCheckpointPolicy:
    """The stack's policy; ``prevent_cse`` is deprecated (it belongs in the policy), as in Haliax 1.4."""
    p = ScanCheckpointPolicy.from_bool_or_str(gradient_checkpointing)
    if prevent_cse is not None:
        warnings.warn(
            f"{op}: prevent_cse is deprecated; pass ScanCheckpointPolicy(prevent_cse=...) as gradient_checkpointing",
            DeprecationWarning,
            stacklevel=3,
        )
        p = dataclasses.replace(p, prevent_cse=prevent_cse)
    return p


def _check_unroll(op: str, unroll: int | bool) -> int | bool:
    if isinstance(unroll, bool):
        return unroll
    if int(unroll) < 1:
        raise LayerStackError(
            f"{op}: unroll must be at least 1 (layers per loop iteration), got {unroll}; "
            f"pass True to unroll every layer"
        )
    return int(unroll)


def _is_per_layer(x: Any, Block: Axis) -> bool:
    """Sliced per layer: NamedArrays that have Block, unnamed arrays with a leading dimension."""
    if isinstance(x, NamedArray):
        return any(ax.name == Block.name for ax in x.axes)
    return hasattr(x, "shape") and len(x.shape) > 0


def _index_layer(op: str, tree: Any, Block: Axis, i: int) -> Any:
    """Slice ``i`` along Block of every per-layer array in ``tree``; others are returned whole."""

    def one(x: Any) -> Any:
        if not _is_per_layer(x, Block):
            return x
        if isinstance(x, NamedArray):
            pos = next(j for j, ax in enumerate(x.axes) if ax.name == Block.name)
            if x.axes[pos].size != Block.size:
                raise AxisSizeError(
                    f"{op}: axis {Block.name!r} has size {Block.size} in the stack but {x.axes[pos].size} "
                    f"in an argument {format_shape(x.axes)}; give per-layer arguments one entry per layer"
                )
            return named_unchecked(jnp.take(x.array, i, axis=pos), x.axes[:pos] + x.axes[pos + 1 :])
        if x.shape[0] != Block.size:
            raise AxisSizeError(
                f"{op}: an unnamed argument of shape {tuple(x.shape)} is sliced per layer along its first "
                f"dimension, which must be {Block.size} (the size of {Block.name!r}); name its axes so it is "
                f"passed whole, or give it one entry per layer"
            )
        return x[i]

    return jax.tree_util.tree_map(one, tree, is_leaf=is_named_array)


def _stack_outputs(outs: Sequence[Any], Block: Axis) -> Any:
    """Stack per-layer outputs along a new leading Block axis (NamedArrays by name, arrays by position)."""

    def one(*xs: Any) -> Any:
        if isinstance(xs[0], NamedArray):
            return named_unchecked(jnp.stack([x.array for x in xs]), (Block, *xs[0].axes))
        if hasattr(xs[0], "shape"):
            return jnp.stack(xs)
        return jnp.stack([jnp.asarray(x) for x in xs])

    return jax.tree_util.tree_map(one, *outs, is_leaf=is_named_array)


def _check_pair(op: str, result: Any) -> tuple[Any, Any]:
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        shown = format_shape(result.axes) if isinstance(result, NamedArray) else type(result).__name__
        raise LayerStackError(
            f"{op}: each layer must return a pair (carry, output), but one returned {shown}; "
            f"use fold for layers that return only the carry"
        )
    return result[0], result[1]


def _check_index(op: str, Block: Axis, i: int) -> None:
    if not -Block.size <= i < Block.size:
        raise NamedIndexError(
            f"{op}: index {i} is out of range for axis {Block.name!r} of size {Block.size}; "
            f"valid indices are {-Block.size} to {Block.size - 1}"
        )


class _LayerStack(ModuleWithStateDictSerialization):
    """What `Stacked` and `BlockSeq` share: fold/scan in terms of their ``*_via`` forms."""

    @abc.abstractmethod
    def fold_via(self, fn: Callable[..., Any], *, unroll: int | bool | None = None) -> Callable[..., Any]: ...

    @abc.abstractmethod
    def scan_via(
        self, fn: Callable[..., Any], *, unroll: int | bool | None = None
    ) -> Callable[..., tuple[Any, Any]]: ...

    @abc.abstractmethod
    def vmap_via(self, fn: Callable[..., Any]) -> Callable[..., Any]: ...

    def fold(self, init: Any, *args: Any, unroll: int | bool | None = None, **kwargs: Any) -> Any:
        """``carry = layer(carry, *args, **kwargs)`` for each layer in order; returns the final carry.

        Arguments with the ``Block`` axis (and unnamed arrays, by their first dimension) are
        sliced per layer; NamedArrays without it, and scalars, reach every layer whole.
        ``unroll`` (layers per loop iteration, ``True`` for all) overrides the stack's own.
        """
        with reported_as(f"{type(self).__name__}.fold"):
            return self.fold_via(lambda layer, carry, *a, **kw: layer(carry, *a, **kw), unroll=unroll)(
                init, *args, **kwargs
            )

    def scan(self, init: Any, *args: Any, unroll: int | bool | None = None, **kwargs: Any) -> tuple[Any, Any]:
        """``carry, out = layer(carry, *args, **kwargs)`` per layer; outputs stacked along ``Block``.

        Raises:
            LayerStackError: a layer returns something other than a ``(carry, output)`` pair.
        """
        with reported_as(f"{type(self).__name__}.scan"):
            return self.scan_via(lambda layer, carry, *a, **kw: layer(carry, *a, **kw), unroll=unroll)(
                init, *args, **kwargs
            )


class Stacked(_LayerStack, Generic[M]):
    """A homogeneous stack of one module type along a ``Block`` axis, applied with a scan.

    Every array of ``stacked`` has ``Block`` (NamedArrays by name, raw arrays as their first
    dimension). Build one with ``Stacked.init(Block, Module)(*init_args, key=keys)``, which
    vmaps ``Module.init`` over ``Block``: give per-layer arguments (keys, e.g. from
    ``jax.random.split(key, Block.size)``) a leading ``Block`` dimension.

    Examples:
        >>> import jax, haliax as hax, haliax.nn as hnn
        >>> Layers, Embed = hax.Axis("layers", 3), hax.Axis("embed", 4)
        >>> stack = hnn.Stacked.init(Layers, hnn.Linear)(Embed, Embed.alias("out"), key=jax.random.split(jax.random.PRNGKey(0), 3))
        >>> stack.stacked.weight.shape
        {'layers': 3, 'out': 4, 'embed': 4}
    """

    stacked: M
    Block: Axis = eqx.field(static=True)
    gradient_checkpointing: ScanCheckpointPolicy = eqx.field(
        static=True, default=ScanCheckpointPolicy(disable=True)
    )
    unroll: int | bool = eqx.field(static=True, default=1)

    @property
    def Layers(self) -> Axis:
        """The stack axis (another name for ``Block``)."""
        return self.Block

    @classmethod
    def init(
        cls,
        Block: Axis,
        module: type[M],
        *,
        gradient_checkpointing: ScanCheckpointSpec = False,
        prevent_cse: bool | None = None,
        unroll: int | bool = 1,
    ) -> ModuleInit[Stacked[M]]:
        """A curried initializer: ``Stacked.init(Block, Module)(*args, **kwargs)`` vmaps ``Module.init``.

        Args:
            gradient_checkpointing: a [haliax.ScanCheckpointPolicy][], or a bool or string that
                ``ScanCheckpointPolicy.from_bool_or_str`` accepts.
            prevent_cse: deprecated (warns); set it on the policy instead.
            unroll: the default layers per loop iteration of the scan (``True``: all of them).
                Unrolling trades compile time for speed: a loop body stores residuals into
                stacked buffers with dynamic-update-slices and copies, which an unrolled stack
                avoids (on an H100 this was about 15% of a GPT-2 124M step).
        """
        policy = _policy("Stacked.init", gradient_checkpointing, prevent_cse)
        unroll = _check_unroll("Stacked.init", unroll)

        def make(*args: Any, **kwargs: Any) -> Stacked[M]:
            with reported_as("Stacked.init"):
                stacked = vmap(module.init, Block)(*args, **kwargs)  # type: ignore[attr-defined]  # modules define init
                out: Stacked[M] = Stacked(stacked, Block, policy, unroll)
            return out

        return make

    def _resolve_unroll(self, op: str, unroll: int | bool | None) -> int | bool:
        return self.unroll if unroll is None else _check_unroll(op, unroll)

    def _over_layers(
        self, transform: str, step: Callable[..., Any], unroll: int | bool
    ) -> Callable[..., Any]:
        """``haliax.<transform>`` (``fold`` or ``scan``) over the layers, with this stack's policy."""
        Block = self.Block

        def run(init: Any, *args: Any, **kwargs: Any) -> Any:
            f = getattr(haliax, transform)(
                step,
                Block,
                remat=self.gradient_checkpointing,
                unroll=unroll,
                is_scanned=lambda x: _is_per_layer(x, Block),
            )
            with reported_as(f"Stacked.{transform}_via"):
                return f(init, self.stacked, *args, **kwargs)

        return run

    def fold_via(self, fn: Callable[..., Any], *, unroll: int | bool | None = None) -> Callable[..., Any]:
        """A fold whose step is ``fn(layer, carry, *args, **kwargs) -> carry``."""
        resolved = self._resolve_unroll("Stacked.fold_via", unroll)

        def step(carry: Any, layer: Any, *a: Any, **kw: Any) -> Any:
            return fn(layer, carry, *a, **kw)

        return self._over_layers("fold", step, resolved)

    def scan_via(
        self, fn: Callable[..., Any], *, unroll: int | bool | None = None
    ) -> Callable[..., tuple[Any, Any]]:
        """A scan whose step is ``fn(layer, carry, *args, **kwargs) -> (carry, output)``; outputs stacked along ``Block``."""
        resolved = self._resolve_unroll("Stacked.scan_via", unroll)

        def step(carry: Any, layer: Any, *a: Any, **kw: Any) -> tuple[Any, Any]:
            return _check_pair("Stacked.scan", fn(layer, carry, *a, **kw))

        return self._over_layers("scan", step, resolved)

    def vmap_via(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """A vmap over layers of ``fn(layer, *args, **kwargs) -> output``; outputs stacked along ``Block``."""

        def run(*args: Any, **kwargs: Any) -> Any:
            with reported_as("Stacked.vmap_via"):
                return vmap(fn, self.Block)(self.stacked, *args, **kwargs)

        return run

    def vmap(self, *args: Any, **kwargs: Any) -> Any:
        """Apply every layer to the same arguments independently; outputs stacked along ``Block``."""
        with reported_as("Stacked.vmap"):
            return self.vmap_via(lambda layer, *a, **kw: layer(*a, **kw))(*args, **kwargs)

    def unstacked(self) -> Sequence[M]:
        """The layers as a tuple of modules without the ``Block`` axis."""
        return tuple(
            _index_layer("Stacked.unstacked", self.stacked, self.Block, i) for i in range(self.Block.size)
        )

    def get_layer(self, index: int) -> M:
        """Layer ``index`` as a module without the ``Block`` axis."""
        _check_index("Stacked.get_layer", self.Block, index)
        return _index_layer("Stacked.get_layer", self.stacked, self.Block, index)

    # ----- state dict: one key prefix per layer -----
    def _state_dict_key_map(self) -> dict[str, str | None]:
        return {"stacked": None}

    def to_state_dict(self, prefix: str | None = None) -> StateDict:
        """Per-layer keys: ``prefix.0.<field>``, ``prefix.1.<field>``, ... (as a torch ``ModuleList``)."""
        return _unstack_state_dict(super().to_state_dict(prefix), prefix)

    def from_state_dict(self, state_dict: Mapping[str, Any], prefix: str | None = None) -> Stacked[M]:
        """Read ``prefix.<i>.<field>`` for every layer (or already stacked ``prefix.<field>``) and stack them.

        The policy and ``unroll`` of this stack are kept.
        """
        return super().from_state_dict(_stack_state_dict(state_dict, prefix, layers=self.Block.size), prefix)


class BlockSeq(_LayerStack, Generic[M]):
    """The `Stacked` interface over a Python list of layers, applied by an unrolled loop.

    Use it where layers must differ in structure, or to compare against `Stacked`. State-dict
    keys are the same as `Stacked`'s (``prefix.0.``, ``prefix.1.``, ...). ``unroll`` arguments are
    accepted and ignored (the loop is always unrolled).
    """

    blocks: Sequence[M]
    Block: Axis = eqx.field(static=True)
    gradient_checkpointing: ScanCheckpointPolicy = eqx.field(
        static=True, default=ScanCheckpointPolicy(disable=True)
    )

    @classmethod
    def init(
        cls,
        Block: Axis,
        module: type[M],
        *,
        gradient_checkpointing: ScanCheckpointSpec = False,
        prevent_cse: bool | None = None,
    ) -> ModuleInit[BlockSeq[M]]:
        """A curried initializer: ``Module.init`` once per layer, slicing per-layer arguments.

        Raises:
            AxisSizeError: a per-layer argument (e.g. the keys) has more or fewer entries than layers.
        """
        policy = _policy("BlockSeq.init", gradient_checkpointing, prevent_cse)

        @reports_as("BlockSeq.init")
        def make(*args: Any, **kwargs: Any) -> BlockSeq[M]:
            blocks = []
            for i in range(Block.size):
                a, kw = _index_layer("BlockSeq.init", (args, kwargs), Block, i)
                blocks.append(module.init(*a, **kw))  # type: ignore[attr-defined]  # modules define init
            return BlockSeq(blocks, Block, policy)

        return make

    def _state_dict_key_map(self) -> dict[str, str | None]:
        return {"blocks": None}

    @property
    def _ckpt_prefix(self) -> str:
        """Checkpoint names of the loop's values are ``<prefix>.carry`` and ``<prefix>.outputs``."""
        return f"BlockSeq[{self.Block}, {type(self.blocks[0]).__name__}]"

    def _call(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        if self.gradient_checkpointing.disable:
            return fn
        return eqx.filter_checkpoint(fn, prevent_cse=self.gradient_checkpointing.prevent_cse)

    def fold_via(self, fn: Callable[..., Any], *, unroll: int | bool | None = None) -> Callable[..., Any]:
        """A loop whose step is ``fn(layer, carry, *args, **kwargs) -> carry``."""

        @reports_as("BlockSeq.fold_via")
        def run(init: Any, *args: Any, **kwargs: Any) -> Any:
            step, carry_name = self._call(fn), f"{self._ckpt_prefix}.carry"
            carry = init
            for i, layer in enumerate(self.blocks):
                a, kw = _index_layer("BlockSeq.fold", (args, kwargs), self.Block, i)
                carry = tree_checkpoint_name(step(layer, carry, *a, **kw), carry_name)
            return carry

        return run

    def scan_via(
        self, fn: Callable[..., Any], *, unroll: int | bool | None = None
    ) -> Callable[..., tuple[Any, Any]]:
        """A loop whose step is ``fn(layer, carry, *args, **kwargs) -> (carry, output)``."""

        @reports_as("BlockSeq.scan_via")
        def run(init: Any, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
            step, name = self._call(fn), self._ckpt_prefix
            carry, outs = init, []
            for i, layer in enumerate(self.blocks):
                a, kw = _index_layer("BlockSeq.scan", (args, kwargs), self.Block, i)
                carry, out = _check_pair("BlockSeq.scan", step(layer, carry, *a, **kw))
                carry = tree_checkpoint_name(carry, f"{name}.carry")
                outs.append(tree_checkpoint_name(out, f"{name}.outputs"))
            return carry, _stack_outputs(outs, self.Block)

        return run

    def vmap_via(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """``fn(layer, *args, **kwargs)`` for every layer; outputs stacked along ``Block``."""

        @reports_as("BlockSeq.vmap_via")
        def run(*args: Any, **kwargs: Any) -> Any:
            step, outs = self._call(fn), []
            for i, layer in enumerate(self.blocks):
                a, kw = _index_layer("BlockSeq.vmap", (args, kwargs), self.Block, i)
                outs.append(step(layer, *a, **kw))
            return _stack_outputs(outs, self.Block)

        return run

    def vmap(self, *args: Any, **kwargs: Any) -> Any:
        """Apply every layer to the same arguments independently; outputs stacked along ``Block``."""
        with reported_as("BlockSeq.vmap"):
            return self.vmap_via(lambda layer, *a, **kw: layer(*a, **kw))(*args, **kwargs)

    def unstacked(self) -> Sequence[M]:
        """The layers."""
        return self.blocks

    def get_layer(self, index: int) -> M:
        """Layer ``index``."""
        _check_index("BlockSeq.get_layer", self.Block, index)
        return self.blocks[index]

    def to_state_dict(self, prefix: str | None = None) -> StateDict:
        """Per-layer keys: ``prefix.0.<field>``, ``prefix.1.<field>``, ..."""
        out: StateDict = {}
        for i, block in enumerate(self.blocks):
            out.update(to_state_dict(block, with_prefix(prefix, str(i))))
        return out


# ----- per-layer <-> stacked state dicts -----
def _stack_state_dict(
    state_dict: Mapping[str, Any], prefix: str | None = None, *, layers: int | None = None
) -> StateDict:
    """Merge per-layer keys ``prefix.<i>.<rest>`` into stacked ``prefix.<rest>`` entries (``jnp.stack``).

    Keys that do not match are copied unchanged. ``layers``, when given, is the number of layers
    every ``<rest>`` must have.

    Raises:
        StateDictError: a layer's key is missing (a gap in the indices, or fewer than ``layers``),
            or the layers of one ``<rest>`` differ in shape.
    """
    pattern = re.compile(("" if prefix is None else re.escape(prefix + ".")) + r"(\d+)\.(.*)")
    out: StateDict = {}
    per_layer: dict[str, dict[int, Any]] = {}
    for k, v in state_dict.items():
        match = pattern.fullmatch(k)
        if match is None:
            out[k] = v
            continue
        i, rest = int(match.group(1)), match.group(2)
        seen = per_layer.setdefault(rest, {})
        if i in seen:
            raise StateDictError(
                f"Stacked.from_state_dict: layer {i} of {rest!r} appears under two keys (e.g. {k!r}); "
                f"layer indices must be written one way"
            )
        seen[i] = v
    for rest, found in per_layer.items():
        count = max(max(found) + 1, layers or 0)
        missing = [i for i in range(count) if i not in found]
        if missing:
            key = with_prefix(prefix, f"{missing[0]}.{rest}")
            raise StateDictError(
                f"Stacked.from_state_dict: key {key!r} is missing from the state dict ({count} layers "
                f"expected, {len(found)} have {rest!r}); check that the checkpoint has every layer"
            )
        shapes = [tuple(getattr(found[i], "shape", ())) for i in range(count)]
        odd = next((i for i in range(count) if shapes[i] != shapes[0]), None)
        if odd is not None:
            raise StateDictError(
                f"Stacked.from_state_dict: key {with_prefix(prefix, f'{odd}.{rest}')!r} has shape "
                f"{shapes[odd]} but layer 0's has shape {shapes[0]}; every layer must have the same shapes"
            )
        out[str(with_prefix(prefix, rest))] = jnp.stack([found[i] for i in range(count)], axis=0)
    return out


def _unstack_state_dict(state_dict: Mapping[str, Any], prefix: str | None = None) -> StateDict:
    """Split every array under ``prefix`` along its first dimension into ``prefix.<i>.<rest>`` keys.

    Keys outside ``prefix``, numbers and 0-d arrays are copied unchanged. The inverse of
    `_stack_state_dict`.
    """
    scope = "" if prefix is None else prefix + "."
    out: StateDict = {}
    for k, v in state_dict.items():
        if k.startswith(scope) and hasattr(v, "shape") and len(v.shape) > 0:
            rest = k[len(scope) :]
            for i in range(v.shape[0]):
                out[f"{scope}{i}.{rest}"] = v[i]
        else:
            out[k] = v
    return out
