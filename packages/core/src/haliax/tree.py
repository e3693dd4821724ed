"""Pytree functions that treat each NamedArray as one leaf (``hax.tree.map`` and friends)."""

from ._src.trees.tree import scan_aware_tree_map as scan_aware_map
from ._src.trees.tree import tree_flatten as flatten
from ._src.trees.tree import tree_leaves as leaves
from ._src.trees.tree import tree_map as map
from ._src.trees.tree import tree_structure as structure
from ._src.trees.tree import tree_unflatten as unflatten
