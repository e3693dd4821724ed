"""`named_jit` and `fsdp`: ``jax.jit`` whose in/out shardings come from axis mappings.

Arguments are split into array leaves (traced; NamedArrays keep their axes as static metadata)
and everything else (static, hashed). Array leaves get ``in_shardings`` from the input mapping;
the body runs under the compute mapping; NamedArray outputs are constrained by the output
mapping. One ``jax.jit`` object is kept per argument structure, so repeated calls hit JAX's
compilation cache.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from typing import Any, Generic, ParamSpec, TypeVar

import jax
import jax.core  # jax.core.Tracer; the submodule is not re-exported by `import jax` for type checkers
from jax.sharding import Mesh, NamedSharding

from haliax import NamedArray, is_named_array
from haliax.errors import PartitioningError
from haliax.extend import LeafLayout

from .mapping import ResourceMapping, axis_mapping, current_thread_local_mapping, spec_for_axes
from .mesh import MeshLike, _TraceMesh, current_mesh
from .shard import _existing_sharding, _is_array, _shard, put

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

    def lower(self, *args: P.args, **kwargs: P.kwargs) -> Any:
        """Lower for the given arguments without running (``.compile()``, ``.as_text()`` follow)."""
        return jax.jit(self.fn).lower(*args, **kwargs)


def _donation_flags(donate: Any, tree: Any, n: int) -> list[bool]:
    """One bool per leaf of ``tree`` from a bool, or a pytree prefix of bools or ``leaf -> bool`` functions."""
    if donate is None or donate is False:
        return [False] * n
    if donate is True:
        return [True] * n

    def expand(flag: Any, sub: Any) -> list[bool]:
        leaves = jax.tree.leaves(sub, is_leaf=is_named_array)
        if callable(flag):
            return [bool(flag(leaf)) for leaf in leaves]
        return [bool(flag)] * len(leaves)

    per_leaf = jax.tree.map(expand, donate, tree, is_leaf=lambda x: isinstance(x, bool) or callable(x))
    return [f for chunk in jax.tree.leaves(per_leaf, is_leaf=lambda x: isinstance(x, list)) for f in chunk]


def _positional_donation(name: str, donate_args: Any, n_args: int) -> tuple[Any, ...] | None:
    """``donate_args`` as one entry per positional argument (a bool applies to all; short is padded)."""
    if donate_args is None:
        return None
    if isinstance(donate_args, bool):
        return (donate_args,) * n_args
    flags = tuple(donate_args)
    if len(flags) > n_args:
        raise PartitioningError(
            f"named_jit: donate_args of {name} has {len(flags)} entries but it was called with {n_args} "
            f"positional arguments; give at most one entry per positional argument"
        )
    return flags + (False,) * (n_args - len(flags))


def _is_input(x: Any) -> bool:
    """Traced arguments: NamedArrays and arrays; every other leaf is static (part of the cache key)."""
    return isinstance(x, NamedArray) or _is_array(x)


def _is_output(x: Any) -> bool:
    """Results jit returns: arrays and NamedArrays of arrays; every other leaf comes back as it is."""
    return _is_array(x.array if isinstance(x, NamedArray) else x)


class _NamedJit(WrappedCallable[P, R]):
    def __init__(
        self,
        fn: Callable[P, R],
        axis_resources: ResourceMapping | None,
        in_axis_resources: ResourceMapping | None,
        out_axis_resources: ResourceMapping | None,
        donate_args: Any,
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
        arrays, out_layout = jitted(*dynamic)
        return out_layout.rebuild(arrays)

    def lower(self, *args: P.args, **kwargs: P.kwargs) -> Any:
        """Lower for the given arguments without running (``.compile()``, ``.as_text()`` follow)."""
        jitted, dynamic = self._prepare(args, kwargs)
        return jitted.lower(*dynamic)

    def _name(self) -> str:
        return str(getattr(self.fn, "__qualname__", self.fn))

    def _mappings(self) -> tuple[MeshLike | None, ResourceMapping | None, ResourceMapping, ResourceMapping]:
        """The mesh, and the compute (None: none in effect), input and output mappings of this call."""
        mesh = current_mesh()
        context = current_thread_local_mapping()
        compute = self.axis_resources if self.axis_resources is not None else context
        if mesh is None and (
            compute is not None or self.in_axis_resources is not None or self.out_axis_resources is not None
        ):
            raise PartitioningError(
                f"named_jit: calling {self._name()} under an axis mapping needs a mesh and none is active; "
                f"enter one with `with hax.set_mesh(mesh):` (or jax.set_mesh), or drop the axis mapping "
                f"to compile it as plain jax.jit"
            )
        compute_mapping = dict(compute or {})
        in_mapping = self.in_axis_resources if self.in_axis_resources is not None else compute_mapping
        out_mapping = self.out_axis_resources if self.out_axis_resources is not None else compute_mapping
        return mesh, compute, in_mapping, out_mapping

    def _donated(self, args: tuple[Any, ...], kwargs: dict[str, Any], layout: LeafLayout) -> tuple[int, ...]:
        """The positions, among the arrays handed to jit, of those whose buffers are donated."""
        if self.donate_args is None and not self.donate_kwargs:
            return ()
        n_args = layout.treedef.children()[0].num_leaves  # the leaves of (args, kwargs) that are in args
        positional = _positional_donation(self._name(), self.donate_args, len(args))
        flags = _donation_flags(positional, args, n_args)
        kw_flags = {k: self.donate_kwargs.get(k, False) for k in kwargs} if self.donate_kwargs else None
        flags += _donation_flags(kw_flags, kwargs, len(layout.kinds) - n_args)
        return tuple(j for j, i in enumerate(layout.dynamic_indices) if flags[i])

    def _prepare(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, list[Any]]:
        mesh, compute, in_mapping, out_mapping = self._mappings()
        layout, dynamic = LeafLayout.split((args, kwargs), is_dynamic=_is_input)
        donated = self._donated(args, kwargs, layout)
        shardings: list[Any] = []
        if mesh is not None:
            preserve = self.in_axis_resources is None
            dynamic, shardings = _placed(dynamic, layout.dynamic_axes, in_mapping, mesh, preserve)
        key = (
            layout,
            tuple(shardings),
            donated,
            None if compute is None else _freeze(dict(compute)),
            _freeze(out_mapping),
        )
        jitted = self._cache.get(key)
        if jitted is None:
            body = _make_body(self.fn, layout, compute, out_mapping, mesh)
            in_shardings = {"in_shardings": tuple(shardings)} if mesh is not None else {}
            jitted = jax.jit(body, donate_argnums=donated, **in_shardings, **self.jit_kwargs)
            self._cache[key] = jitted
        return jitted, dynamic


def _placed(
    arrays: list[Any], axes: tuple[Any, ...], in_mapping: ResourceMapping, mesh: MeshLike, preserve: bool
) -> tuple[list[Any], list[Any]]:
    """The arguments' arrays on ``mesh`` and their shardings: kept when ``preserve`` and already there, else from the mapping."""
    placed: list[Any] = []
    shardings: list[Any] = []
    for array, named_axes in zip(arrays, axes, strict=True):
        target = _existing_sharding(array, mesh) if preserve else None
        if target is None:
            spec = (
                spec_for_axes("named_jit", named_axes, in_mapping, mesh) if named_axes is not None else None
            )
            target = NamedSharding(mesh, spec if spec is not None else jax.sharding.PartitionSpec())
        if not isinstance(array, jax.core.Tracer) and isinstance(mesh, Mesh):
            array = put(array, target)
        shardings.append(target)
        placed.append(array)
    return placed, shardings


def _freeze(mapping: ResourceMapping) -> tuple[Any, ...]:
    return tuple(sorted((k, v if isinstance(v, str) or v is None else tuple(v)) for k, v in mapping.items()))


def _make_body(
    fn: Callable[..., Any],
    layout: LeafLayout,
    compute: ResourceMapping | None,
    out_mapping: ResourceMapping,
    mesh: MeshLike | None,
) -> Callable[..., Any]:
    def body(*dynamic: Any) -> tuple[list[Any], LeafLayout]:
        args, kwargs = layout.rebuild(dynamic)
        with contextlib.ExitStack() as stack:
            if mesh is not None:
                stack.enter_context(_TraceMesh(mesh))
            if compute is not None:
                stack.enter_context(axis_mapping(compute))
            out = fn(*args, **kwargs)
        if mesh is not None and out_mapping:
            out = _shard("named_jit", out, out_mapping, mesh, stacklevel=2)
        out_layout, arrays = LeafLayout.split(out, is_dynamic=_is_output)
        return arrays, out_layout  # the layout has no leaves: jit hands it back as it is

    body.__name__ = getattr(fn, "__name__", "named_jit_body")
    body.__qualname__ = getattr(fn, "__qualname__", body.__name__)
    return body


def named_jit(
    fn: Callable[P, R] | None = None,
    axis_resources: ResourceMapping | None = None,
    *,
    in_axis_resources: ResourceMapping | None = None,
    out_axis_resources: ResourceMapping | None = None,
    donate_args: Any = None,
    donate_kwargs: dict[str, Any] | None = None,
    **jax_jit_kwargs: Any,
) -> Any:
    """``jax.jit`` with shardings from axis mappings; use as a decorator (with or without arguments) or a function.

    With no mesh active and no axis mapping (passed or in the context) it is plain ``jax.jit``
    over arbitrary pytrees: array leaves are traced, everything else is static, and non-array
    parts of the result come back as they are.

    Args:
        fn: the function to compile; its arguments may be any pytrees.
        axis_resources: the mapping the body runs under (default: the context's at call time).
        in_axis_resources: the mapping inputs are laid out by. When omitted, NamedArrays that are
            already sharded on the mesh keep their layout and the others follow ``axis_resources``.
        out_axis_resources: the mapping NamedArray outputs are laid out by (default: ``axis_resources``).
        donate_args: ``True`` for every positional argument, or one entry per positional argument
            (a bool, a pytree prefix of bools, or a ``leaf -> bool`` function): donate its buffers.
            A shorter sequence leaves the remaining arguments undonated.
        donate_kwargs: per keyword argument name, the same.
        **jax_jit_kwargs: passed to ``jax.jit``.

    Returns:
        A `WrappedCallable` with a ``.lower(*args, **kwargs)`` method.

    Raises:
        PartitioningError: when called, an axis mapping is in effect but no mesh is active, or
            ``donate_args`` has more entries than there are positional arguments.
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
