"""Pytree utilities aware of NamedArrays and stacked modules."""

from ._src.trees.tree import hashable_combine as hashable_combine
from ._src.trees.tree import hashable_partition as hashable_partition
from ._src.trees.tree import resize_axis as resize_axis
from ._src.trees.tree import scan_aware_tree_map as scan_aware_tree_map
from ._src.trees.tree import tree_flatten as tree_flatten
from ._src.trees.tree import tree_leaves as tree_leaves
from ._src.trees.tree import tree_map as tree_map
from ._src.trees.tree import tree_structure as tree_structure
from ._src.trees.tree import tree_unflatten as tree_unflatten
