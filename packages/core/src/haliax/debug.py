"""Debugging aids: array descriptions, common module problems, sharding tables."""

from ._src.trees.debug import ArrayLike as ArrayLike
from ._src.trees.debug import ModuleProblems as ModuleProblems
from ._src.trees.debug import describe_array as describe_array
from ._src.trees.debug import diagnose_common_issues as diagnose_common_issues
from ._src.trees.debug import visualize_named_sharding as visualize_named_sharding
from ._src.trees.debug import visualize_shardings as visualize_shardings
