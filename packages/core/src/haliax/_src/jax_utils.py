"""Helpers around jax itself: checkpointing, named scopes, keys, tree prefixes, multi-host calls.

Nothing here knows about axis names beyond treating a `NamedArray` as the pytree it is; the
transforms (`scan.py`, `vmap.py`) and the random module build on these.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import equinox as eqx
import jax
import jax.numpy as jnp
from jax.ad_checkpoint import checkpoint_name
from jax.core import Tracer
from jax.experimental import multihost_utils

from .axis import to_jax_shape as to_jax_shape
from .errors import AxisSizeError, NamedTypeError, format_shape
from .named_array import NamedArray

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


def combine(*pytrees: Any, is_leaf: Callable[[Any], bool] | None = None) -> Any:
    """Merge pytrees of one structure, taking each leaf from the first tree where it is not None.

    The inverse of `equinox.partition`; same as `equinox.combine`.

    Examples:
        >>> from haliax.jax_utils import combine
        >>> combine({"a": None, "b": 2}, {"a": 1, "b": None})
        {'a': 1, 'b': 2}
    """
    return eqx.combine(*pytrees, is_leaf=is_leaf)


class Static(eqx.Module):
    """A module that carries one static (non-array, hashable) value through jax transforms.

    Examples:
        >>> from haliax.jax_utils import Static
        >>> import jax
        >>> jax.tree_util.tree_leaves(Static("relu"))
        []
    """

    value: Any = eqx.field(static=True)


def is_jax_array_like(x: Any) -> bool:
    """True for anything with a ``shape`` and a ``dtype``: jax/numpy arrays, ``ShapeDtypeStruct``."""
    return hasattr(x, "shape") and hasattr(x, "dtype")


def is_scalarish(x: Any) -> bool:
    """True for Python scalars, 0-d arrays and 0-d NamedArrays."""
    if isinstance(x, NamedArray):
        return len(x.axes) == 0
    if isinstance(x, (bool, int, float, complex)):
        return True
    return is_jax_array_like(x) and len(x.shape) == 0


def ensure_scalar(x: Any, *, name: str = "value") -> Any:
    """Return ``x`` (the raw array of a 0-d NamedArray); a NamedArray with axes is a `TypeError`."""
    if isinstance(x, NamedArray):
        if x.axes:
            raise NamedTypeError(
                f"ensure_scalar: expected a scalar for {name!r}, got a NamedArray {format_shape(x.axes)}; "
                f"reduce its axes first"
            )
        return x.array
    return x


def is_in_jit() -> bool:
    """True when called while jax is tracing (under ``jit``, ``grad``, ``vmap``, ``scan``...)."""
    return isinstance(jnp.zeros(()), Tracer)


def is_on_mac_metal() -> bool:
    """True when the default jax backend is Apple's Metal plugin."""
    return jax.devices()[0].platform.lower() == "metal"


def is_pallas_dslice(x: Any) -> bool:
    """True for the ``Slice`` objects built by ``jax.experimental.pallas.dslice``."""
    try:
        from jax.experimental import pallas
    except ImportError:  # pallas is optional in some jax builds
        return False
    return isinstance(x, pallas.Slice)


def maybe_rng_split(key: Any, num: int = 2) -> Any:
    """Split ``key`` into ``num`` keys; a ``None`` key gives a list of ``num`` Nones."""
    if key is None:
        return [None] * num
    return jax.random.split(key, num)


def shaped_rng_split(key: Any, split_shape: int | Sequence[int] = 2) -> Any:
    """Split a PRNG key into an array of keys of shape ``split_shape`` (plus the key's own shape).

    Examples:
        >>> import jax
        >>> from haliax.jax_utils import shaped_rng_split
        >>> shaped_rng_split(jax.random.PRNGKey(0), (2, 3)).shape
        (2, 3, 2)
    """
    shape = (split_shape,) if isinstance(split_shape, int) else tuple(split_shape)
    return jax.random.split(key, shape)


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


def filter_eval_shape(fun: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """`jax.eval_shape` that accepts any Python objects: arrays become ``ShapeDtypeStruct`` leaves.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> from haliax.jax_utils import filter_eval_shape
        >>> out = filter_eval_shape(lambda x, n: x * n, hax.named(jnp.ones(3), "a"), 2)
        >>> out.axes, out.array.shape
        ((Axis(name='a', size=3),), (3,))
    """
    return eqx.filter_eval_shape(fun, *args, **kwargs)


def broadcast_prefix(prefix_tree: Any, full_tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> Any:
    """Expand the prefix pytree ``prefix_tree`` to the structure of ``full_tree``: each of its leaves is copied to every leaf below it.

    ``None`` in ``prefix_tree`` is a leaf (it means "this whole subtree gets None").

    Examples:
        >>> from haliax.jax_utils import broadcast_prefix
        >>> broadcast_prefix((0, None), ([1, 2], {"a": 3}))
        ([0, 0], {'a': None})
    """

    def expand(p: Any, sub: Any) -> Any:
        return jax.tree_util.tree_map(lambda _: p, sub, is_leaf=is_leaf)

    return jax.tree_util.tree_map(expand, prefix_tree, full_tree, is_leaf=lambda x: x is None)


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


def _unname(tree: Any) -> Any:
    return jax.tree_util.tree_map(
        lambda x: x.array if isinstance(x, NamedArray) else x,
        tree,
        is_leaf=lambda x: isinstance(x, NamedArray),
    )


def assert_equal(in_tree: Any, fail_message: str = "") -> None:
    """Multi-host: raise unless every process holds the same pytree (NamedArrays included)."""
    multihost_utils.assert_equal(_unname(in_tree), fail_message=fail_message)


def broadcast_one_to_all(in_tree: T, is_source: bool | None = None) -> T:
    """Multi-host: every process gets the pytree held by the source process (process 0 by default)."""
    leaves, treedef = jax.tree_util.tree_flatten(in_tree, is_leaf=lambda x: isinstance(x, NamedArray))
    raw = multihost_utils.broadcast_one_to_all(_unname(leaves), is_source=is_source)
    out = [
        NamedArray._new(r, x.axes) if isinstance(x, NamedArray) else r
        for r, x in zip(raw, leaves, strict=True)
    ]
    return jax.tree_util.tree_unflatten(treedef, out)


def sync_global_devices(name: str) -> None:
    """Multi-host: a barrier that every process must reach with the same ``name``."""
    multihost_utils.sync_global_devices(name)
