"""Stacks of identical layers: `Stacked` (one module with a leading ``Block`` axis, run by scan)
and `BlockSeq` (a Python list of modules, run by a loop). Both offer the same interface.

`Stacked` follows core's stacked-module protocol (attributes ``Block`` and ``stacked``), so
``haliax.tree_util.scan_aware_tree_map`` visits it one layer at a time. Its state dict uses
per-layer keys (``layers.0.``, ``layers.1.``, ...), like `BlockSeq` and like PyTorch's
``nn.ModuleList``, so checkpoints move between the two and to torch.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, Protocol, TypeVar

import equinox as eqx
import jax
import jax.numpy as jnp

from haliax._src.axis import Axis
from haliax._src.errors import AxisNotFoundError, NamedIndexError
from haliax._src.named_array import NamedArray, is_named_array
from haliax._src.scan import ScanCheckpointPolicy, fold, scan
from haliax._src.state_dict import (
    ModuleWithStateDictSerialization,
    StateDict,
    from_state_dict,
    to_state_dict,
    with_prefix,
)
from haliax._src.vmap import vmap

M = TypeVar("M", bound=eqx.Module)
M_co = TypeVar("M_co", covariant=True)
CarryT = TypeVar("CarryT")


class ModuleInit(Protocol[M_co]):
    """A curried initializer: ``init(*args, **kwargs) -> module``."""

    def __call__(self, *args: Any, **kwargs: Any) -> M_co: ...


class FoldFunction(Protocol):
    """What `Stacked.fold_via` returns: ``f(init, *args, **kwargs) -> carry``."""

    def __call__(self, init: Any, *args: Any, **kwargs: Any) -> Any: ...


class ScanFunction(Protocol):
    """What `Stacked.scan_via` returns: ``f(init, *args, **kwargs) -> (carry, outputs stacked along Block)``."""

    def __call__(self, init: Any, *args: Any, **kwargs: Any) -> tuple[Any, Any]: ...


class VmapFunction(Protocol):
    """What `Stacked.vmap_via` returns: ``f(*args, **kwargs) -> outputs stacked along Block``."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...


class BlockFoldable(Protocol[M_co]):
    """The interface `Stacked` and `BlockSeq` share."""

    Block: Axis

    def fold(self, init: Any, *args: Any, **kwargs: Any) -> Any: ...

    def scan(self, init: Any, *args: Any, **kwargs: Any) -> tuple[Any, Any]: ...

    def vmap(self, init: Any, *args: Any, **kwargs: Any) -> Any: ...

    def fold_via(self, fn: Callable[..., Any]) -> FoldFunction: ...

    def scan_via(self, fn: Callable[..., Any]) -> ScanFunction: ...

    def vmap_via(self, fn: Callable[..., Any]) -> VmapFunction: ...

    def unstacked(self) -> Sequence[M_co]: ...

    def get_layer(self, index: int) -> M_co: ...


def _policy(gradient_checkpointing: Any, prevent_cse: bool) -> ScanCheckpointPolicy:
    """The stack's policy (ScanCheckpointPolicy keeps its name lists as tuples: hashable, static)."""
    p = ScanCheckpointPolicy.from_bool_or_str(gradient_checkpointing)
    return dataclasses.replace(p, prevent_cse=True) if prevent_cse and not p.prevent_cse else p


def _has_block(x: Any, Block: Axis) -> bool:
    return isinstance(x, NamedArray) and any(ax.name == Block.name for ax in x.axes)


def _scanned_along(Block: Axis) -> Callable[[Any], bool]:
    """Leaves scanned along Block: NamedArrays that have it, unnamed arrays with a leading dimension."""

    def pred(x: Any) -> bool:
        if isinstance(x, NamedArray):
            return _has_block(x, Block)
        return hasattr(x, "shape") and len(x.shape) > 0

    return pred


def _index_layer(tree: Any, Block: Axis, i: int) -> Any:
    """Slice ``i`` along Block of every array in ``tree`` (NamedArrays by name, raw arrays by first dim)."""

    def one(x: Any) -> Any:
        if isinstance(x, NamedArray):
            names = [ax.name for ax in x.axes]
            if Block.name not in names:
                return x
            pos = names.index(Block.name)
            return NamedArray._new(jnp.take(x.array, i, axis=pos), x.axes[:pos] + x.axes[pos + 1 :])
        if hasattr(x, "shape") and len(x.shape) > 0:
            return x[i]
        return x

    return jax.tree_util.tree_map(one, tree, is_leaf=is_named_array)


def _stack_layers(layers: Sequence[Any], Block: Axis) -> Any:
    """Stack per-layer pytrees along a new leading Block axis."""

    def one(*xs: Any) -> Any:
        if isinstance(xs[0], NamedArray):
            return NamedArray._new(jnp.stack([x.array for x in xs]), (Block, *xs[0].axes))
        if hasattr(xs[0], "shape"):
            return jnp.stack(xs)
        return xs[0]

    return jax.tree_util.tree_map(one, *layers, is_leaf=is_named_array)


def _check_index(Block: Axis, i: int) -> None:
    if not -Block.size <= i < Block.size:
        raise NamedIndexError(
            f"get_layer: index {i} is out of range for axis {Block.name!r} of size {Block.size}"
        )


class _LayerStack(ModuleWithStateDictSerialization):
    """What `Stacked` and `BlockSeq` share: fold/scan/vmap in terms of their ``*_via`` forms."""

    @abc.abstractmethod
    def fold_via(self, fn: Callable[..., Any]) -> FoldFunction: ...

    @abc.abstractmethod
    def scan_via(self, fn: Callable[..., Any]) -> ScanFunction: ...

    @abc.abstractmethod
    def vmap_via(self, fn: Callable[..., Any]) -> VmapFunction: ...

    def fold(self, init: Any, *args: Any, **kwargs: Any) -> Any:
        """``carry = layer(carry, *args, **kwargs)`` for each layer in order; returns the final carry.

        Arguments with the ``Block`` axis (and unnamed arrays, by their first dimension) are
        sliced per layer; NamedArrays without it reach every layer whole.
        """
        return self.fold_via(lambda layer, carry, *a, **kw: layer(carry, *a, **kw))(init, *args, **kwargs)

    def scan(self, init: Any, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
        """``carry, out = layer(carry, *args, **kwargs)`` per layer; outputs stacked along ``Block``."""
        return self.scan_via(lambda layer, carry, *a, **kw: layer(carry, *a, **kw))(init, *args, **kwargs)

    def vmap(self, init: Any, *args: Any, **kwargs: Any) -> Any:
        """Apply every layer to the same ``init`` independently; outputs stacked along ``Block``."""
        return self.vmap_via(lambda layer, x, *a, **kw: layer(x, *a, **kw))(init, *args, **kwargs)


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

    @classmethod
    def init(
        cls,
        Block: Axis,
        module: type[M],
        *,
        gradient_checkpointing: ScanCheckpointPolicy | bool | str = False,
        prevent_cse: bool = False,
        unroll: int | bool = 1,
    ) -> ModuleInit[Stacked[M]]:
        """A curried initializer: ``Stacked.init(Block, Module)(*args, **kwargs)`` vmaps ``Module.init``.

        ``unroll`` is the layers per loop iteration of the scan (``True``: all of them). Unrolling
        trades compile time for speed: a loop body stores residuals into stacked buffers with
        dynamic-update-slices and copies, which an unrolled stack avoids (on an H100 this was
        about 15% of a GPT-2 124M step).
        """
        policy = _policy(gradient_checkpointing, prevent_cse)

        def make(*args: Any, **kwargs: Any) -> Stacked[M]:
            stacked = vmap(module.init, Block)(*args, **kwargs)  # type: ignore[attr-defined]  # modules define init
            return Stacked(stacked, Block, policy, unroll)

        return make

    def _is_scanned(self) -> Callable[[Any], bool]:
        return _scanned_along(self.Block)

    def fold_via(self, fn: Callable[..., Any]) -> FoldFunction:
        """A fold whose step is ``fn(layer, carry, *args, **kwargs) -> carry``."""
        return self._over_layers(fold, fn)

    def scan_via(self, fn: Callable[..., Any]) -> ScanFunction:
        """A scan whose step is ``fn(layer, carry, *args, **kwargs) -> (carry, output)``."""
        return self._over_layers(scan, fn)

    def _over_layers(self, transform: Callable[..., Any], fn: Callable[..., Any]) -> Any:
        """``transform`` (`fold` or `scan`) over the layers, with this stack's policy and unroll."""

        def step(carry: Any, layer: Any, *a: Any, **kw: Any) -> Any:
            return fn(layer, carry, *a, **kw)

        def run(init: Any, *args: Any, **kwargs: Any) -> Any:
            f = transform(
                step,
                self.Block,
                remat=self.gradient_checkpointing,
                unroll=self.unroll,
                is_scanned=self._is_scanned(),
            )
            return f(init, self.stacked, *args, **kwargs)

        return run

    def vmap_via(self, fn: Callable[..., Any]) -> VmapFunction:
        """A vmap over layers of ``fn(layer, *args, **kwargs) -> output``; outputs stacked along ``Block``."""

        def run(*args: Any, **kwargs: Any) -> Any:
            return vmap(fn, self.Block)(self.stacked, *args, **kwargs)

        return run

    def unstacked(self) -> Sequence[M]:
        """The layers as a tuple of modules without the ``Block`` axis."""
        return tuple(_index_layer(self.stacked, self.Block, i) for i in range(self.Block.size))

    def get_layer(self, index: int) -> M:
        """Layer ``index`` as a module without the ``Block`` axis."""
        _check_index(self.Block, index)
        return _index_layer(self.stacked, self.Block, index)

    # ----- state dict: one key prefix per layer -----
    def to_state_dict(self, prefix: str | None = None) -> StateDict:
        """Per-layer keys: ``prefix.0.<field>``, ``prefix.1.<field>``, ..."""
        out: StateDict = {}
        for i, layer in enumerate(self.unstacked()):
            out.update(to_state_dict(layer, with_prefix(prefix, str(i))))
        return out

    def from_state_dict(self, state_dict: Mapping[str, Any], prefix: str | None = None) -> Stacked[M]:
        """Read ``prefix.<i>.<field>`` for every layer and stack them along ``Block``."""
        template = _layer_template(self.stacked, self.Block)
        layers = [
            from_state_dict(template, state_dict, with_prefix(prefix, str(i)), strict=False)
            for i in range(self.Block.size)
        ]
        return Stacked(_stack_layers(layers, self.Block), self.Block, self.gradient_checkpointing)


def _layer_template(stacked: Any, Block: Axis) -> Any:
    """One layer's template: every array without its Block axis, as a shape-dtype struct."""

    def one(x: Any) -> Any:
        if isinstance(x, NamedArray):
            names = [ax.name for ax in x.axes]
            if Block.name not in names:
                raise AxisNotFoundError(
                    f"Stacked.from_state_dict: a parameter lacks the block axis {Block.name!r}"
                )
            pos = names.index(Block.name)
            shape = tuple(ax.size for j, ax in enumerate(x.axes) if j != pos)
            return NamedArray._new(jax.ShapeDtypeStruct(shape, x.dtype), x.axes[:pos] + x.axes[pos + 1 :])
        if hasattr(x, "shape") and len(x.shape) > 0:
            return jax.ShapeDtypeStruct(tuple(x.shape[1:]), x.dtype)
        return x

    return jax.tree_util.tree_map(one, stacked, is_leaf=is_named_array)


class BlockSeq(_LayerStack, Generic[M]):
    """The `Stacked` interface over a Python list of layers, applied by an unrolled loop.

    Use it where layers must differ in structure, or to compare against `Stacked`. State-dict
    keys are the same as `Stacked`'s (``prefix.0.``, ``prefix.1.``, ...).
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
        gradient_checkpointing: ScanCheckpointPolicy | bool | str = False,
        prevent_cse: bool = False,
    ) -> ModuleInit[BlockSeq[M]]:
        """A curried initializer: ``Module.init`` once per layer, slicing per-layer arguments."""
        policy = _policy(gradient_checkpointing, prevent_cse)

        def make(*args: Any, **kwargs: Any) -> BlockSeq[M]:
            blocks = []
            for i in range(Block.size):
                a, kw = _index_layer((args, kwargs), Block, i)
                blocks.append(module.init(*a, **kw))  # type: ignore[attr-defined]  # modules define init
            return BlockSeq(tuple(blocks), Block, policy)

        return make

    def _state_dict_key_map(self) -> dict[str, str | None]:
        return {"blocks": None}

    def _call(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        if self.gradient_checkpointing.disable:
            return fn
        return eqx.filter_checkpoint(fn, prevent_cse=self.gradient_checkpointing.prevent_cse)

    def _slices(self, i: int, args: Any, kwargs: Any) -> tuple[Any, Any]:
        pred = _scanned_along(self.Block)
        sliced = jax.tree_util.tree_map(
            lambda x: _index_layer(x, self.Block, i) if pred(x) else x, (args, kwargs), is_leaf=is_named_array
        )
        return sliced

    def fold_via(self, fn: Callable[..., Any]) -> FoldFunction:
        """A loop whose step is ``fn(layer, carry, *args, **kwargs) -> carry``."""

        def run(init: Any, *args: Any, **kwargs: Any) -> Any:
            carry = init
            for i, layer in enumerate(self.blocks):
                a, kw = self._slices(i, args, kwargs)
                carry = self._call(fn)(layer, carry, *a, **kw)
            return carry

        return run

    def scan_via(self, fn: Callable[..., Any]) -> ScanFunction:
        """A loop whose step is ``fn(layer, carry, *args, **kwargs) -> (carry, output)``."""

        def run(init: Any, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
            carry, outs = init, []
            for i, layer in enumerate(self.blocks):
                a, kw = self._slices(i, args, kwargs)
                carry, out = self._call(fn)(layer, carry, *a, **kw)
                outs.append(out)
            return carry, _stack_layers(outs, self.Block)

        return run

    def vmap_via(self, fn: Callable[..., Any]) -> VmapFunction:
        """``fn(layer, *args, **kwargs)`` for every layer; outputs stacked along ``Block``."""

        def run(*args: Any, **kwargs: Any) -> Any:
            outs = []
            for i, layer in enumerate(self.blocks):
                a, kw = self._slices(i, args, kwargs)
                outs.append(self._call(fn)(layer, *a, **kw))
            return _stack_layers(outs, self.Block)

        return run

    def unstacked(self) -> Sequence[M]:
        """The layers."""
        return tuple(self.blocks)

    def get_layer(self, index: int) -> M:
        """Layer ``index``."""
        _check_index(self.Block, index)
        return self.blocks[index]
