"""Named `scan`, `fold` and `map`, and `ScanCheckpointPolicy` (gradient checkpointing for them).

``scan(f, axis)(init, *xs)`` runs ``f(carry, *x)`` once per position of ``axis``. Each scanned
leaf of ``xs`` is a NamedArray that has ``axis`` (moved to the front with one transpose when it is
not already leading) or an unnamed array whose first dimension is scanned; everything else is
passed unchanged to every step. The step sees NamedArrays without ``axis``; NamedArray outputs get
``axis`` back as their leading axis. The loop is one `jax.lax.scan`, so compile time does not grow
with the length.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
from collections.abc import Callable, Sequence
from typing import Any, Literal

import jax
import jax.numpy as jnp

from ..base.axis import Axis, AxisSelector, selector_name
from ..base.errors import AxisNotFoundError, AxisSizeError, DuplicateAxisError, NamedTypeError, format_shape
from ..base.named_array import NamedArray, is_named_array
from ..base.pytypes import is_jax_array_like
from .checkpoint import multilevel_scan, tree_checkpoint_name
from .layout import LeafLayout, leaf_paths

CARRY_NAME = "carry"
INPUT_NAME = "input"


def is_named_or_shaped_array_like(x: Any) -> bool:
    """The default ``is_scanned``: NamedArrays, and unnamed arrays with at least one dimension."""
    return isinstance(x, NamedArray) or (is_jax_array_like(x) and len(x.shape) >= 1)


def _positional_names(fn: Callable[..., Any], skip: int) -> Callable[[int], str]:
    """How to call the ``i``-th scanned positional argument of ``fn`` in messages: by its parameter name.

    ``skip`` leading parameters (the carry) are not scanned. Falls back to ``args[i]``.
    """
    names: list[str] = []
    var: str | None = None
    try:
        params = list(inspect.signature(fn).parameters.values())[skip:]
    except (TypeError, ValueError):
        params = []
    for p in params:
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            names.append(p.name)
        elif p.kind == p.VAR_POSITIONAL:
            var = p.name
            break

    def name(i: int) -> str:
        if i < len(names):
            return names[i]
        return f"{var or 'args'}[{i - len(names) if var else i}]"

    return name


def _path_str(path: tuple[Any, ...], arg_name: Callable[[int], str]) -> str:
    """Render a path into ``(args, kwargs)`` as the user wrote it: ``foo.w``, ``y``, ``xs[0]``."""
    if len(path) < 2:
        return "xs"
    head, key, rest = path[0], path[1], tuple(path[2:])
    if getattr(head, "idx", 0) == 0:
        base = arg_name(getattr(key, "idx", 0))
    else:
        base = str(getattr(key, "key", key))
    return base + jax.tree_util.keystr(rest)


@dataclasses.dataclass(frozen=True)
class ScanCheckpointPolicy:
    """What the backward pass of a scan keeps from the forward pass, and what it recomputes.

    Each step of a scan takes a *carry* and *inputs* (the scanned slices) and computes *block
    internals* on the way to its outputs. Without checkpointing every internal that the gradient
    needs is stored for every step; a policy trades that memory for recomputation. Use it as
    ``remat=`` of [haliax.scan][], [haliax.fold][] and [haliax.map][] (and ``gradient_checkpointing=``
    of ``haliax.nn.Stacked``). Mark internals by name inside the step with
    [haliax.tree_checkpoint_name][] to save or offload them selectively.

    Examples:
        >>> import haliax as hax
        >>> hax.ScanCheckpointPolicy.from_bool_or_str("nested").nested
        True
        >>> hax.ScanCheckpointPolicy(save_block_internals=["attn_out"]).to_jax_policy() is not None
        True
    """

    save_carries: bool | Literal["offload"] = True
    """Keep each step's carry (True), recompute it (False) or keep it on the host ("offload")."""

    save_inputs: bool | Literal["offload"] = False
    """Keep each step's scanned inputs (True), recompute (False) or keep them on the host ("offload")."""

    save_block_internals: bool | Sequence[str] = False
    """Keep every internal (True), none (False), or only those tagged with these checkpoint names."""

    offload_block_internals: Sequence[str] = ()
    """Checkpoint names of internals to keep on the host instead of recomputing them."""

    prevent_cse: bool = False
    """Passed to `jax.checkpoint`: stop XLA from merging the recomputation with the forward pass."""

    disable: bool = False
    """No checkpointing at all: jax keeps whatever the gradient needs."""

    simple: bool = False
    """Plain `jax.checkpoint` of each step with its default policy (keep only the step's inputs)."""

    nested: bool | int = False
    """Split the scan into this many checkpointed blocks of inner scans (True: a divisor of the
    length close to its square root), so the backward pass keeps O(sqrt(N)) carries."""

    def __post_init__(self) -> None:
        # Name lists are stored as tuples so a policy is hashable (a static field of a module).
        if not isinstance(self.save_block_internals, bool):
            object.__setattr__(self, "save_block_internals", tuple(self.save_block_internals))
        object.__setattr__(self, "offload_block_internals", tuple(self.offload_block_internals))

    @staticmethod
    def from_bool_or_str(remat_policy: bool | str | ScanCheckpointPolicy) -> ScanCheckpointPolicy:
        """The policy for a user-facing ``remat``/``gradient_checkpointing`` value.

        * ``True``: checkpoint each step, keeping only its inputs and carry (classic Haliax).
        * ``False``: no checkpointing.
        * ``"offload"``: carries and inputs go to the host; internals are recomputed.
        * ``"recompute"`` or ``"full"``: keep nothing, recompute everything.
        * ``"save_all"``: keep carries, inputs and every internal.
        * ``"nested"``: the O(sqrt(N)) nested scan.

        A `ScanCheckpointPolicy` is returned unchanged.
        """
        if isinstance(remat_policy, ScanCheckpointPolicy):
            return remat_policy
        if remat_policy is True:
            return ScanCheckpointPolicy(simple=True)
        if remat_policy is False or remat_policy is None:
            return ScanCheckpointPolicy(disable=True)
        if remat_policy == "offload":
            return ScanCheckpointPolicy(save_carries="offload", save_inputs="offload")
        if remat_policy in ("recompute", "full"):
            return ScanCheckpointPolicy(save_carries=False, save_inputs=False)
        if remat_policy == "save_all":
            return ScanCheckpointPolicy(save_carries=True, save_inputs=True, save_block_internals=True)
        if remat_policy == "nested":
            return ScanCheckpointPolicy(nested=True)
        raise NamedTypeError(
            f"ScanCheckpointPolicy: unknown checkpoint policy {remat_policy!r}; use True, False, 'offload', "
            f"'recompute', 'full', 'save_all', 'nested' or a ScanCheckpointPolicy"
        )

    # The name haliax.nn uses for the same conversion.
    _mk = from_bool_or_str

    def to_jax_policy(
        self, carry_name: str = CARRY_NAME, input_name: str = INPUT_NAME
    ) -> Callable[..., Any] | None:
        """The `jax.checkpoint` policy, given the names the scan tags carries and inputs with.

        ``None`` means jax's default (keep nothing but the checkpointed function's own inputs).
        """
        save: list[str] = []
        offload: list[str] = []
        recompute: list[str] = []
        for name, setting in ((carry_name, self.save_carries), (input_name, self.save_inputs)):
            if setting == "offload":
                offload.append(name)
            elif setting is True:
                save.append(name)
            elif setting is False:
                recompute.append(name)
            else:
                raise NamedTypeError(
                    f"ScanCheckpointPolicy: {setting!r} is not a valid setting for {name!r}; "
                    f"use True, False or 'offload'"
                )
        internals = self.save_block_internals
        if not isinstance(internals, bool):
            save.extend(internals)
        offload.extend(self.offload_block_internals)

        policies = jax.checkpoint_policies
        if offload:
            if internals is True:
                raise NamedTypeError(
                    "ScanCheckpointPolicy: save_block_internals=True cannot be combined with offloading; "
                    "list the internals to save by name instead"
                )
            return policies.save_and_offload_only_these_names(
                names_which_can_be_saved=save,
                names_which_can_be_offloaded=offload,
                offload_src="device",
                offload_dst="pinned_host",
            )
        if internals is True:
            # Everything except what was asked to be recomputed.
            return (
                policies.save_anything_except_these_names(*recompute)
                if recompute
                else policies.everything_saveable
            )
        if save:
            return policies.save_only_these_names(*save)
        return None

    def checkpoint(self, carry_name: str, input_name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Wrap a step function in `jax.checkpoint` according to this policy (identity when disabled)."""
        if self.disable:
            return fn
        if self.simple:
            return jax.checkpoint(fn, prevent_cse=self.prevent_cse)
        return jax.checkpoint(
            fn, prevent_cse=self.prevent_cse, policy=self.to_jax_policy(carry_name, input_name)
        )

    def nested_outer_size(self, length: int) -> int | None:
        """Number of outer blocks for a nested scan of ``length`` steps (None when not nested)."""
        if self.nested is False or self.nested is None:
            return None
        if self.nested is True:
            target = math.isqrt(length)
            divisors = [d for d in range(1, length + 1) if length % d == 0]
            return min(divisors, key=lambda d: (abs(d - target), d))
        return int(self.nested)


def _scanned_inputs(
    op: str,
    axis: AxisSelector,
    xs: Any,
    is_scanned: Callable[[Any], bool],
    arg_name: Callable[[int], str],
) -> tuple[LeafLayout, list[Any], Axis]:
    """The layout of one step's inputs, the scanned leaves' arrays moved axis-first, and the scanned axis."""
    if not isinstance(axis, (Axis, str)):
        raise NamedTypeError(f"scan: axis must be an Axis or a name, got {type(axis).__name__}")
    name = selector_name(axis)
    layout, leaves = LeafLayout.split(xs, is_dynamic=is_scanned)

    def where(i: int) -> str:
        return _path_str(leaf_paths(xs)[i], arg_name)

    raw: list[Any] = []
    lengths: list[tuple[int, int, bool]] = []  # (leaf, length, named)
    for i, axes, leaf in zip(layout.dynamic_indices, layout.dynamic_axes, leaves, strict=True):
        if axes is not None:
            pos = next((j for j, ax in enumerate(axes) if ax.name == name), None)
            if pos is None:
                raise AxisNotFoundError(
                    f"{op}: axis {name!r} not found in {format_shape(axes)} at {where(i)}; "
                    f"give every scanned NamedArray the axis, or leave this one out with is_scanned=..."
                )
            lengths.append((i, axes[pos].size, True))
            raw.append(leaf if pos == 0 else jnp.moveaxis(leaf, pos, 0))
        else:
            if not leaf.shape:
                raise NamedTypeError(
                    f"{op}: the 0-d array at {where(i)} cannot be scanned along {name!r}; "
                    f"leave it out with is_scanned=..."
                )
            lengths.append((i, leaf.shape[0], False))
            raw.append(leaf)

    def length_of(i: int, n: int, named: bool) -> str:
        return (
            f"{where(i)} has axis {name!r} of size {n}" if named else f"{where(i)} has leading dimension {n}"
        )

    if isinstance(axis, Axis):
        size = axis.size
        source = f"the axis {format_shape([axis])}"
    elif lengths:
        size = lengths[0][1]
        source = length_of(*lengths[0])
    else:
        raise AxisNotFoundError(
            f"{op}: no input has axis {name!r}, so its length is unknown; "
            f"pass a sized axis such as hax.Axis({name!r}, n)"
        )
    wrong = [length_of(*entry) for entry in lengths if entry[1] != size]
    if wrong:
        raise AxisSizeError(
            f"{op}: scanning {name!r} of length {size} ({source}), but {', '.join(wrong)}; "
            f"every scanned input must have the same length along {name!r}"
        )
    return layout.without_axis(name), raw, Axis(name, size)


def _check_carry(op: str, before: Any, after: Any) -> None:
    s_before = jax.tree_util.tree_structure(before)
    s_after = jax.tree_util.tree_structure(after)
    if s_before == s_after:
        return
    b = jax.tree_util.tree_flatten_with_path(before, is_leaf=is_named_array)[0]
    a = jax.tree_util.tree_flatten_with_path(after, is_leaf=is_named_array)[0]
    for (pb, lb), (_, la) in zip(b, a, strict=False):
        if isinstance(lb, NamedArray) and isinstance(la, NamedArray) and lb.axes != la.axes:
            raise NamedTypeError(
                f"{op}: the carry at carry{jax.tree_util.keystr(pb)} comes in as {format_shape(lb.axes)} "
                f"but goes out as {format_shape(la.axes)}; a step must return the carry with the same axes "
                f"in the same order (use .rearrange to fix the order)"
            )
    hint = ""
    if isinstance(after, tuple) and len(after) == 2 and jax.tree_util.tree_structure(after[0]) == s_before:
        hint = (
            "; it looks like (carry, output): hax.fold's step returns only the new carry, "
            "use hax.scan to keep per-step outputs"
            if op == "fold"
            else "; it looks like (carry, output): return the carry alone here"
        )
    raise NamedTypeError(
        f"{op}: a step must return a carry with the structure it was given; got {_outline(before)} in "
        f"and {_outline(after)} out{hint}"
    )


class _Shown:
    """A leaf's stand-in in an outline: its named shape or raw shape, never its values."""

    def __init__(self, leaf: Any):
        if isinstance(leaf, NamedArray):
            self.text = format_shape(leaf.axes)
        elif hasattr(leaf, "shape") and hasattr(leaf, "dtype"):
            self.text = f"{leaf.dtype}{list(leaf.shape)}"
        else:
            self.text = type(leaf).__name__

    def __repr__(self) -> str:
        return self.text


def _outline(tree: Any) -> str:
    """The structure of ``tree`` with each leaf shown as its shape (``({embed: 3}, float32[])``)."""
    return repr(jax.tree_util.tree_map(_Shown, tree, is_leaf=is_named_array))


def _every_leaf(x: Any) -> bool:
    return True  # lax.scan stacks every output leaf that is not a NamedArray as an array


def _stack_outputs(op: str, axis: Axis, layout: LeafLayout, raw_ys: list[Any]) -> Any:
    """The step outputs (``layout`` of one step, ``raw_ys`` stacked by lax.scan) with ``axis`` in front."""
    for i, axes in enumerate(layout.dynamic_axes):
        if axes is not None and any(ax.name == axis.name for ax in axes):
            path = leaf_paths(layout.rebuild(raw_ys))[i]
            raise DuplicateAxisError(
                f"{op}: the step output at ys{jax.tree_util.keystr(path)} already has axis "
                f"{axis.name!r} {format_shape(axes)}; rename it before stacking along {axis.name!r}"
            )
    return layout.with_leading_axis(axis).rebuild(raw_ys)


def scan(
    f: Callable[..., tuple[Any, Any]],
    axis: AxisSelector,
    *,
    remat: ScanCheckpointPolicy | bool | str = False,
    reverse: bool = False,
    unroll: int | bool = 1,
    is_scanned: Callable[[Any], bool] = is_named_or_shaped_array_like,
) -> Callable[..., tuple[Any, Any]]:
    """Scan ``f(carry, *xs) -> (carry, y)`` along a named axis; curried: ``scan(f, axis)(init, *xs)``.

    Returns the final carry and the step outputs stacked along ``axis``: NamedArray outputs get
    ``axis`` as their leading axis, unnamed ones a leading dimension.

    Args:
        f: the step function.
        axis: the axis to scan along: a name (its size comes from the inputs) or an `Axis`.
        remat: gradient checkpointing of each step: a [haliax.ScanCheckpointPolicy][], or a bool or
            string accepted by `ScanCheckpointPolicy.from_bool_or_str`.
        reverse: run from the last position to the first (outputs still line up with inputs).
        unroll: steps per loop iteration, as in `jax.lax.scan`.
        is_scanned: which leaves of ``xs`` are scanned; the rest reach every step unchanged.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> x = hax.named(jnp.arange(6.0).reshape(2, 3), ("batch", "step"))
        >>> total, running = hax.scan(lambda c, xi: (c + xi, c + xi), "step")(hax.named(jnp.zeros(2), "batch"), x)
        >>> running.axes
        (Axis(name='step', size=3), Axis(name='batch', size=2))
        >>> total.array.tolist()
        [3.0, 12.0]
    """
    return _scan("scan", f, axis, remat, reverse, unroll, is_scanned, _positional_names(f, 1))


def _step_result(op: str, result: Any) -> tuple[Any, Any]:
    if isinstance(result, (tuple, list)) and len(result) == 2:
        return result[0], result[1]
    what = format_shape(result.axes) if isinstance(result, NamedArray) else type(result).__name__
    raise NamedTypeError(
        f"{op}: the step must return (carry, output), got {what}; "
        f"return (new_carry, None) for no output, or use hax.fold to keep only the carry"
    )


def _scan(
    op: str,
    f: Callable[..., Any],
    axis: AxisSelector,
    remat: ScanCheckpointPolicy | bool | str,
    reverse: bool,
    unroll: int | bool,
    is_scanned: Callable[[Any], bool],
    arg_name: Callable[[int], str],
) -> Callable[..., tuple[Any, Any]]:
    """`scan`, reporting errors as ``op`` and naming scanned arguments with ``arg_name``."""
    policy = ScanCheckpointPolicy.from_bool_or_str(remat)

    def scanned(init: Any, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
        inputs, xs, scan_axis = _scanned_inputs(op, axis, (args, kwargs), is_scanned, arg_name)

        def step(carry: Any, raw_slices: list[Any]) -> tuple[Any, tuple[list[Any], LeafLayout]]:
            a, kw = inputs.rebuild(raw_slices)
            if not policy.disable:
                carry = tree_checkpoint_name(carry, CARRY_NAME)
                a, kw = tree_checkpoint_name((a, kw), INPUT_NAME)
            new_carry, y = _step_result(op, f(carry, *a, **kw))
            _check_carry(op, carry, new_carry)
            out_layout, raw_y = LeafLayout.split(y, is_dynamic=_every_leaf)
            return new_carry, (raw_y, out_layout)  # the layout has no leaves: it comes back as traced

        body = policy.checkpoint(CARRY_NAME, INPUT_NAME, step)
        length = scan_axis.size
        outer = policy.nested_outer_size(length)
        if outer is not None and not policy.disable:
            carry, (raw_ys, out_layout) = multilevel_scan(
                body, init, xs, outer, length, reverse=reverse, unroll=unroll
            )
        else:
            carry, (raw_ys, out_layout) = jax.lax.scan(
                body, init, xs, length=length, reverse=reverse, unroll=unroll
            )
        return carry, _stack_outputs(op, scan_axis, out_layout, raw_ys)

    return scanned


def fold(
    fn: Callable[..., Any],
    axis: AxisSelector,
    *,
    remat: ScanCheckpointPolicy | bool | str = False,
    reverse: bool = False,
    unroll: int | bool = 1,
    is_scanned: Callable[[Any], bool] = is_named_or_shaped_array_like,
) -> Callable[..., Any]:
    """Fold ``fn(carry, *xs) -> carry`` along a named axis; curried: ``fold(fn, axis)(init, *xs)``.

    A [haliax.scan][] without per-step outputs: returns the final carry. Options as in `scan`.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> x = hax.named(jnp.arange(6.0).reshape(2, 3), ("batch", "step"))
        >>> hax.fold(lambda c, xi: c + xi, "step")(hax.named(jnp.zeros(2), "batch"), x).array.tolist()
        [3.0, 12.0]
    """

    def step(carry: Any, *args: Any, **kwargs: Any) -> tuple[Any, None]:
        return fn(carry, *args, **kwargs), None

    inner = _scan("fold", step, axis, remat, reverse, unroll, is_scanned, _positional_names(fn, 1))

    def folded(init: Any, *args: Any, **kwargs: Any) -> Any:
        return inner(init, *args, **kwargs)[0]

    return folded


def map(
    fn: Callable[..., Any],
    axis: AxisSelector,
    *,
    remat: ScanCheckpointPolicy | bool | str = False,
    reverse: bool = False,
    unroll: int | bool = 1,
    is_mapped: Callable[[Any], bool] = is_named_or_shaped_array_like,
) -> Callable[..., Any]:
    """Apply ``fn`` to each slice along a named axis, one after another, stacking the results.

    Like `jax.lax.map`: a loop rather than a vectorized [haliax.vmap][], for when the batched
    version would need too much memory. NamedArray results get ``axis`` as their leading axis.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> x = hax.named(jnp.arange(6.0).reshape(2, 3), ("batch", "step"))
        >>> y = hax.map(lambda xi: xi * 2, "step")(x)
        >>> y.axes, y.array[:, 0].tolist()
        ((Axis(name='step', size=3), Axis(name='batch', size=2)), [0.0, 2.0, 4.0])
    """

    def step(carry: None, *args: Any, **kwargs: Any) -> tuple[None, Any]:
        return None, fn(*args, **kwargs)

    inner = _scan("map", step, axis, remat, reverse, unroll, is_mapped, _positional_names(fn, 0))

    def mapped(*args: Any, **kwargs: Any) -> Any:
        return inner(None, *args, **kwargs)[1]

    return mapped


ScanCheckpointSpec = ScanCheckpointPolicy | bool | str  # what remat= / gradient_checkpointing= accept
