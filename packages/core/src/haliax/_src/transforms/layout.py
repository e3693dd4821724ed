"""`LeafLayout`: what a transform keeps of a pytree when it hands JAX only the tree's raw arrays.

`vmap`, `scan`/`fold`/`map`, and haliax.partitioning's `named_jit` and `shard_map` all do the same
thing: flatten their arguments (NamedArrays as leaves), pass the raw arrays through a JAX
transform, and rebuild the tree inside it, often with an axis taken out of or put into each
NamedArray. A layout is that protocol written once, as `equinox.partition`/`equinox.combine` are
for filtering: the tree's structure plus, per leaf, its kind, a NamedArray (with its axes), a raw
array, or a static value passed through unchanged.

A layout is frozen and hashable, so it can key a cache of compiled functions; a static value
that cannot be hashed is compared by identity (the layout holds it, so its id stays valid while a
cache does). As a pytree a layout has no leaves, so a traced function can return it beside its
arrays.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, final

import jax

from ..base.axis import Axis
from ..base.errors import NamedTypeError, ShapeMismatchError, format_shape
from ..base.named_array import NamedArray, is_named_array
from ..base.pytypes import is_jax_array_like


def is_named_or_array(x: Any) -> bool:
    """The default ``is_dynamic``: NamedArrays and anything with a ``shape`` and a ``dtype``."""
    return isinstance(x, NamedArray) or is_jax_array_like(x)


@final
class _Static:
    """A static leaf: equal and hashed by value, or by identity when the value is unhashable."""

    __slots__ = ("_key", "value")

    def __init__(self, value: Any):
        self.value = value

    def key(self) -> tuple[bool, Any]:
        try:
            return self._key
        except AttributeError:
            pass
        try:
            hash(self.value)
            self._key: tuple[bool, Any] = (True, self.value)
        except TypeError:
            self._key = (False, id(self.value))
        return self._key

    def __hash__(self) -> int:
        return hash(self.key())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Static) and self.key() == other.key()

    def __repr__(self) -> str:
        return f"static {type(self.value).__name__}"


# Per leaf, a layout records the NamedArray's axes (a tuple), None for a raw array, or a _Static.
_Kind = tuple[Axis, ...] | _Static | None


@final
class LeafLayout:
    """The structure of a pytree and the kind of each leaf: NamedArray (with its axes), raw array or static value.

    Build one with `LeafLayout.split`, which also returns the tree's arrays (a NamedArray's raw
    array, a raw array itself) in leaf order; `rebuild` puts arrays of that count back into the
    tree. Between the two a transform can change each NamedArray's axes (`without_axis`,
    `with_leading_axis`, `with_axes`), e.g. to describe one slice of a mapped axis.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> from haliax.extend import LeafLayout
        >>> tree = {"x": hax.named(jnp.ones((2, 3)), ("batch", "embed")), "scale": 2.0}
        >>> layout, arrays = LeafLayout.split(tree)
        >>> [a.shape for a in arrays], layout.dynamic_axes
        ([(2, 3)], ((Axis(name='batch', size=2), Axis(name='embed', size=3)),))
        >>> row = layout.without_axis("batch").rebuild([arrays[0][0]])
        >>> row["x"].axes, row["scale"]
        ((Axis(name='embed', size=3),), 2.0)
        >>> hash(layout) == hash(LeafLayout.split(tree)[0])
        True
    """

    __slots__ = ("_hash", "kinds", "treedef")
    treedef: Any  # jax.tree_util.PyTreeDef, NamedArrays as leaves
    kinds: tuple[_Kind, ...]

    def __init__(self, treedef: Any, kinds: tuple[_Kind, ...]):
        object.__setattr__(self, "treedef", treedef)
        object.__setattr__(self, "kinds", kinds)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"LeafLayout is frozen; cannot set {name!r}")

    @classmethod
    def split(
        cls, tree: Any, *, is_dynamic: Callable[[Any], bool] = is_named_or_array
    ) -> tuple[LeafLayout, list[Any]]:
        """The layout of ``tree`` and its dynamic leaves' arrays, in leaf order.

        NamedArrays are leaves. A leaf for which ``is_dynamic`` is true is dynamic: a NamedArray
        contributes its raw array and keeps its axes in the layout, anything else is passed as it
        is. Every other leaf is static: kept in the layout and put back unchanged by `rebuild`.
        """
        leaves, treedef = jax.tree_util.tree_flatten(tree, is_leaf=is_named_array)
        kinds: list[_Kind] = []
        arrays: list[Any] = []
        for leaf in leaves:
            if not is_dynamic(leaf):
                kinds.append(_Static(leaf))
            elif isinstance(leaf, NamedArray):
                kinds.append(leaf.axes)
                arrays.append(leaf.array)
            else:
                kinds.append(None)
                arrays.append(leaf)
        return cls(treedef, tuple(kinds)), arrays

    def rebuild(self, arrays: Iterable[Any]) -> Any:
        """The tree with ``arrays`` (one per dynamic leaf, in order) in place of its dynamic leaves.

        NamedArrays are rebuilt with the layout's axes and not validated: the arrays are expected
        to have those shapes (as inside the transform that split them).
        """
        it = iter(arrays)
        leaves = [
            NamedArray._new(next(it), kind)
            if type(kind) is tuple
            else next(it)
            if kind is None
            else kind.value  # type: ignore[union-attr]  # the remaining kind is _Static
            for kind in self.kinds
        ]
        return self.treedef.unflatten(leaves)

    @property
    def dynamic_axes(self) -> tuple[tuple[Axis, ...] | None, ...]:
        """Per dynamic leaf, in order: the NamedArray's axes, or None for a raw array."""
        return tuple(kind for kind in self.kinds if type(kind) is not _Static)  # type: ignore[misc]

    @property
    def dynamic_indices(self) -> tuple[int, ...]:
        """The positions of the dynamic leaves among all the tree's leaves (to line up per-leaf data)."""
        return tuple(i for i, kind in enumerate(self.kinds) if type(kind) is not _Static)

    def with_axes(self, axes: Sequence[tuple[Axis, ...] | None]) -> LeafLayout:
        """This layout with new axes for its NamedArrays: one entry per dynamic leaf, None for raw arrays."""
        old = self.dynamic_axes
        if len(axes) != len(old):
            raise ShapeMismatchError(
                f"LeafLayout.with_axes: got {len(axes)} entries for a layout with {len(old)} dynamic "
                f"leaves; give one per dynamic leaf (None for a raw array)"
            )
        it = iter(axes)
        kinds: list[_Kind] = []
        for kind in self.kinds:
            if type(kind) is _Static:
                kinds.append(kind)
                continue
            new = next(it)
            if (new is None) != (kind is None):
                raise NamedTypeError(
                    f"LeafLayout.with_axes: a {'raw array' if kind is None else 'NamedArray'} leaf was "
                    f"given {new!r}; give a NamedArray leaf its axes and a raw array None"
                )
            kinds.append(None if new is None else tuple(new))
        return LeafLayout(self.treedef, tuple(kinds))

    def without_axis(self, name: str) -> LeafLayout:
        """This layout with the axis ``name`` taken out of every NamedArray that has it."""
        return LeafLayout(
            self.treedef,
            tuple(
                tuple(ax for ax in kind if ax.name != name) if type(kind) is tuple else kind
                for kind in self.kinds
            ),
        )

    def with_leading_axis(self, axis: Axis) -> LeafLayout:
        """This layout with ``axis`` put in front of every NamedArray's axes (raw arrays stay raw)."""
        return LeafLayout(
            self.treedef,
            tuple((axis, *kind) if type(kind) is tuple else kind for kind in self.kinds),
        )

    def __hash__(self) -> int:
        try:
            return self._hash
        except AttributeError:
            h = hash((self.treedef, self.kinds))
            object.__setattr__(self, "_hash", h)
            return h

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LeafLayout):
            return NotImplemented
        return self is other or (self.treedef == other.treedef and self.kinds == other.kinds)

    def __repr__(self) -> str:
        shown = ", ".join(
            format_shape(kind) if type(kind) is tuple else "array" if kind is None else repr(kind)
            for kind in self.kinds
        )
        return f"LeafLayout({self.treedef}, [{shown}])"


# A layout is static metadata: a pytree node with no children, so a jitted or vmapped function
# can return it beside its arrays.
jax.tree_util.register_pytree_node(LeafLayout, lambda layout: ((), layout), lambda layout, _: layout)


def leaf_paths(tree: Any) -> list[Any]:
    """The key path of each leaf of ``tree`` (NamedArrays as leaves), in a layout's leaf order; for messages."""
    return [path for path, _ in jax.tree_util.tree_flatten_with_path(tree, is_leaf=is_named_array)[0]]
