"""Rematerialisation and naming inside transforms: named scopes, remat names, filtered checkpoint, multilevel scan."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import equinox as eqx
import jax
from jax.ad_checkpoint import checkpoint_name

from ..base.errors import AxisSizeError
from ..base.pytypes import is_jax_array_like

T = TypeVar("T")


F = TypeVar("F", bound=Callable[..., Any])


def named_call(f: Callable[..., Any] | None = None, name: str | None = None) -> Any:
    """Give a function a named scope in jaxprs, HLO and profiles (decorator, with or without arguments).

    The name defaults to the function's qualified name; ``Module.__call__`` becomes ``Module``.

    Examples:
        >>> from haliax.jax_utils import named_call
        >>> @named_call
        ... def attention(x):
        ...     return x * 2
        >>> attention(3)
        6
    """
    if f is None:
        return functools.partial(named_call, name=name)
    if name is None:
        qual: str = getattr(f, "__qualname__", None) or getattr(f, "__name__", "fn")
        scope = qual[: -len(".__call__")] if qual.endswith(".__call__") else qual
    else:
        scope = name

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with jax.named_scope(scope):
            return f(*args, **kwargs)

    return wrapper


def tree_checkpoint_name(x: T, name: str) -> T:
    """Tag every array leaf of a pytree (NamedArrays included) with a remat name.

    Checkpoint policies such as `jax.checkpoint_policies.save_only_these_names` (and
    [haliax.ScanCheckpointPolicy][]'s ``save_block_internals``) then select these values by name.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> x = hax.named(jnp.ones(3), "embed")
        >>> hax.tree_checkpoint_name(x, "hidden").axes == x.axes
        True
    """
    return jax.tree_util.tree_map(lambda a: checkpoint_name(a, name) if is_jax_array_like(a) else a, x)


def filter_checkpoint(
    fun: Callable[..., Any], *, prevent_cse: bool = True, policy: Callable[..., bool] | None = None
) -> Callable[..., Any]:
    """`jax.checkpoint` that accepts and returns any Python objects: only array leaves are traced.

    Non-array arguments are closed over and non-array results are passed back unchanged.
    """

    @functools.wraps(fun)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        dynamic, static = eqx.partition((args, kwargs), is_jax_array_like)
        static_out: list[Any] = []

        def inner(dyn: Any) -> Any:
            a, kw = eqx.combine(dyn, static)
            out = fun(*a, **kw)
            dyn_out, st_out = eqx.partition(out, is_jax_array_like)
            static_out.append(st_out)
            return dyn_out

        dyn_out = jax.checkpoint(inner, prevent_cse=prevent_cse, policy=policy)(dynamic)
        return eqx.combine(dyn_out, static_out[-1])

    return wrapper


def multilevel_scan(
    f: Callable[[Any, Any], tuple[Any, Any]],
    carry: Any,
    xs: Any,
    outer_size: int,
    length: int,
    reverse: bool = False,
    unroll: int | bool = 1,
) -> tuple[Any, Any]:
    """A `jax.lax.scan` of ``length`` steps run as ``outer_size`` checkpointed blocks of inner scans.

    The backward pass keeps only the carries at block boundaries and recomputes each block, so the
    memory for ``length`` steps is O(outer_size + length / outer_size): O(sqrt(N)) when
    ``outer_size`` is about ``sqrt(length)``. ``xs`` leaves have ``length`` as their first dimension;
    the stacked outputs do too.
    """
    if outer_size <= 0 or length % outer_size != 0:
        raise AxisSizeError(
            f"multilevel_scan: a scan of length {length} cannot be split into {outer_size} equal blocks; "
            f"pick an outer_size that divides {length}"
        )
    inner_size = length // outer_size

    def split(x: Any) -> Any:
        return x.reshape((outer_size, inner_size, *x.shape[1:]))

    def merge(x: Any) -> Any:
        return x.reshape((length, *x.shape[2:]))

    @jax.checkpoint
    def block(c: Any, block_xs: Any) -> tuple[Any, Any]:
        return jax.lax.scan(f, c, block_xs, length=inner_size, reverse=reverse, unroll=unroll)

    carry, ys = jax.lax.scan(
        block, carry, jax.tree_util.tree_map(split, xs), length=outer_size, reverse=reverse
    )
    return carry, jax.tree_util.tree_map(merge, ys)
