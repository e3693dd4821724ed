"""`named_jit` and `fsdp`: ``jax.jit`` whose in/out shardings come from axis mappings.

Arguments are split into array leaves (traced; NamedArrays keep their axes as static metadata)
and everything else (static, hashed). Array leaves get ``in_shardings`` from the input mapping;
the body runs under the compute mapping; NamedArray outputs are constrained by the output
mapping. One ``jax.jit`` object is kept per argument structure, so repeated calls hit JAX's
compilation cache.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, Generic, ParamSpec, TypeVar

import jax
import jax.core  # jax.core.Tracer; the submodule is not re-exported by `import jax` for type checkers
from jax.sharding import Mesh, NamedSharding

from haliax._src.errors import PartitioningError
from haliax._src.named_array import NamedArray, is_named_array

from .mapping import ResourceMapping, axis_mapping, current_thread_local_mapping, spec_for_axes
from .mesh import MeshLike, _TraceMesh, check_auto_axes, current_mesh
from .shard import _existing_sharding, _is_array, put, shard

P = ParamSpec("P")
R = TypeVar("R")


class WrappedCallable(Generic[P, R]):
    """A callable wrapper that keeps the wrapped function's ``__name__``, ``__qualname__`` and docs."""

    def __init__(self, fn: Callable[P, R]):
        """Wrap ``fn``."""
        self.fn = fn
        functools.update_wrapper(self, fn)  # type: ignore[arg-type]  # copies __name__, __doc__, __wrapped__

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({getattr(self.fn, '__qualname__', self.fn)!r})"


class _Static:
    """Hashable holder of the static leaves (unhashable ones compare by identity)."""

    __slots__ = ("key", "values")

    def __init__(self, values: tuple[Any, ...]):
        self.values = values
        key = []
        for v in values:
            try:
                hash(v)
                key.append((True, v))
            except TypeError:
                key.append((False, id(v)))
        self.key = tuple(key)

    def __hash__(self) -> int:
        return hash(self.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Static) and self.key == other.key


def _donation_flags(donate: Any, tree: Any, n: int) -> list[bool]:
    """One bool per leaf of ``tree`` from a bool or a pytree prefix of bools."""
    if donate is None or donate is False:
        return [False] * n
    if donate is True:
        return [True] * n
    per_leaf = jax.tree.map(
        lambda flag, sub: [bool(flag)] * len(jax.tree.leaves(sub, is_leaf=is_named_array)),
        donate,
        tree,
        is_leaf=lambda x: isinstance(x, bool),
    )
    return [f for chunk in jax.tree.leaves(per_leaf, is_leaf=lambda x: isinstance(x, list)) for f in chunk]


class _NamedJit(WrappedCallable[P, R]):
    def __init__(
        self,
        fn: Callable[P, R],
        axis_resources: ResourceMapping | None,
        in_axis_resources: ResourceMapping | None,
        out_axis_resources: ResourceMapping | None,
        donate_args: Sequence[Any] | None,
        donate_kwargs: dict[str, Any] | None,
        jit_kwargs: dict[str, Any],
    ):
        super().__init__(fn)
        self.axis_resources = axis_resources
        self.in_axis_resources = in_axis_resources
        self.out_axis_resources = out_axis_resources
        self.donate_args = donate_args
        self.donate_kwargs = donate_kwargs
        self.jit_kwargs = jit_kwargs
        self._cache: dict[Any, Any] = {}

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        jitted, dynamic = self._prepare(args, kwargs)
        return jitted(*dynamic)

    def lower(self, *args: P.args, **kwargs: P.kwargs) -> Any:
        """Lower for the given arguments without running (``.compile()``, ``.as_text()`` follow)."""
        jitted, dynamic = self._prepare(args, kwargs)
        return jitted.lower(*dynamic)

    def _prepare(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, list[Any]]:
        mesh = current_mesh()
        if mesh is None:
            raise PartitioningError(
                f"named_jit: calling {getattr(self.fn, '__qualname__', self.fn)!s} needs a mesh and none is "
                f"active; enter one with `with hax.set_mesh(mesh):` (or jax.set_mesh)"
            )
        check_auto_axes("named_jit", mesh)
        compute = self.axis_resources if self.axis_resources is not None else current_thread_local_mapping()
        compute = dict(compute or {})
        in_mapping = self.in_axis_resources if self.in_axis_resources is not None else compute
        out_mapping = self.out_axis_resources if self.out_axis_resources is not None else compute
        preserve = self.in_axis_resources is None

        leaves, treedef = jax.tree.flatten((args, kwargs), is_leaf=is_named_array)
        n_args = len(jax.tree.leaves(args, is_leaf=is_named_array))
        donate = _donation_flags(self.donate_args and tuple(self.donate_args), args, n_args)
        if len(donate) < n_args:  # donate_args shorter than args: the rest are not donated
            donate += [False] * (n_args - len(donate))
        kw_flags = {k: self.donate_kwargs.get(k, False) for k in kwargs} if self.donate_kwargs else None
        donate += _donation_flags(kw_flags, kwargs, len(leaves) - n_args)

        dynamic: list[Any] = []
        shardings: list[Any] = []
        donated: list[int] = []
        layout: list[Any] = []  # per leaf: ("n", axes) named, ("a",) array, ("s", i) static
        statics: list[Any] = []
        for leaf, flag in zip(leaves, donate, strict=True):
            if isinstance(leaf, NamedArray):
                target = _existing_sharding(leaf.array, mesh) if preserve else None
                if target is None:
                    target = NamedSharding(mesh, spec_for_axes("named_jit", leaf.axes, in_mapping, mesh))
                layout.append(("n", leaf.axes))
                array = leaf.array
            elif _is_array(leaf):
                target = _existing_sharding(leaf, mesh) if preserve else None
                if target is None:
                    target = NamedSharding(mesh, jax.sharding.PartitionSpec())
                layout.append(("a",))
                array = leaf
            else:
                layout.append(("s", len(statics)))
                statics.append(leaf)
                continue
            if flag:
                donated.append(len(dynamic))
            if not isinstance(array, jax.core.Tracer) and isinstance(mesh, Mesh):
                array = put(array, target)
            dynamic.append(array)
            shardings.append(target)

        static = _Static(tuple(statics))
        key = (
            treedef,
            tuple(layout),
            static,
            tuple(shardings),
            tuple(donated),
            _freeze(compute),
            _freeze(out_mapping),
        )
        jitted = self._cache.get(key)
        if jitted is None:
            body = _make_body(self.fn, treedef, tuple(layout), static.values, compute, out_mapping, mesh)
            jitted = jax.jit(
                body, in_shardings=tuple(shardings), donate_argnums=tuple(donated), **self.jit_kwargs
            )
            self._cache[key] = jitted
        return jitted, dynamic


def _freeze(mapping: ResourceMapping) -> tuple[Any, ...]:
    return tuple(sorted((k, v if isinstance(v, str) or v is None else tuple(v)) for k, v in mapping.items()))


def _make_body(
    fn: Callable[..., Any],
    treedef: Any,
    layout: tuple[Any, ...],
    statics: tuple[Any, ...],
    compute: ResourceMapping,
    out_mapping: ResourceMapping,
    mesh: MeshLike,
) -> Callable[..., Any]:
    def body(*dynamic: Any) -> Any:
        it = iter(dynamic)
        leaves = []
        for entry in layout:
            if entry[0] == "n":
                leaves.append(NamedArray._new(next(it), entry[1]))
            elif entry[0] == "a":
                leaves.append(next(it))
            else:
                leaves.append(statics[entry[1]])
        args, kwargs = jax.tree.unflatten(treedef, leaves)
        with _TraceMesh(mesh), axis_mapping(compute):
            out = fn(*args, **kwargs)
        return shard(out, out_mapping, mesh) if out_mapping else out

    body.__name__ = getattr(fn, "__name__", "named_jit_body")
    body.__qualname__ = getattr(fn, "__qualname__", body.__name__)
    return body


def named_jit(
    fn: Callable[P, R] | None = None,
    axis_resources: ResourceMapping | None = None,
    *,
    in_axis_resources: ResourceMapping | None = None,
    out_axis_resources: ResourceMapping | None = None,
    donate_args: Sequence[Any] | None = None,
    donate_kwargs: dict[str, Any] | None = None,
    **jax_jit_kwargs: Any,
) -> Any:
    """``jax.jit`` with shardings from axis mappings; use as a decorator (with or without arguments) or a function.

    Args:
        fn: the function to compile; its arguments may be any pytrees.
        axis_resources: the mapping the body runs under (default: the context's at call time).
        in_axis_resources: the mapping inputs are laid out by. When omitted, NamedArrays that are
            already sharded on the mesh keep their layout and the others follow ``axis_resources``.
        out_axis_resources: the mapping NamedArray outputs are laid out by (default: ``axis_resources``).
        donate_args: per positional argument, a bool or a pytree prefix of bools: donate its buffers.
        donate_kwargs: per keyword argument name, the same.
        **jax_jit_kwargs: passed to ``jax.jit``.

    Returns:
        A `WrappedCallable` with a ``.lower(*args, **kwargs)`` method.
    """
    if fn is None:
        return functools.partial(
            named_jit,
            axis_resources=axis_resources,
            in_axis_resources=in_axis_resources,
            out_axis_resources=out_axis_resources,
            donate_args=donate_args,
            donate_kwargs=donate_kwargs,
            **jax_jit_kwargs,
        )
    if isinstance(fn, dict):  # named_jit(mapping) used as a decorator factory
        return named_jit(
            None,
            fn,
            in_axis_resources=in_axis_resources,
            out_axis_resources=out_axis_resources,
            donate_args=donate_args,
            donate_kwargs=donate_kwargs,
            **jax_jit_kwargs,
        )
    return _NamedJit(
        fn, axis_resources, in_axis_resources, out_axis_resources, donate_args, donate_kwargs, jax_jit_kwargs
    )


def fsdp(
    fn: Callable[P, R] | None = None,
    parameter_mapping: ResourceMapping | None = None,
    compute_mapping: ResourceMapping | None = None,
) -> Any:
    """`named_jit` for fully sharded data parallelism: inputs and outputs laid out by ``parameter_mapping``, the body by ``compute_mapping``.

    Use as ``fsdp(step, parameter_mapping, compute_mapping)`` or as a decorator
    ``@fsdp(parameter_mapping=..., compute_mapping=...)``.
    """
    if parameter_mapping is None or compute_mapping is None:
        raise PartitioningError("fsdp: pass both parameter_mapping= and compute_mapping=")
    if fn is None:
        return functools.partial(fsdp, parameter_mapping=parameter_mapping, compute_mapping=compute_mapping)
    return named_jit(
        fn,
        axis_resources=compute_mapping,
        in_axis_resources=parameter_mapping,
        out_axis_resources=parameter_mapping,
    )
