"""Meshes, logical axis mappings, sharding, named_jit/fsdp and sharding strategies for haliax.

Importing this module installs core's sharding hook, so ops such as ``hax.dot`` constrain their
results by the active axis mapping while tracing.
"""

from jax.sharding import Mesh as Mesh

from ._src.checkpoint import CheckpointManager as CheckpointManager
from ._src.checkpoint import restore_checkpoint as restore_checkpoint
from ._src.checkpoint import save_checkpoint as save_checkpoint
from ._src.checkpoint import wait_for_checkpoints as wait_for_checkpoints
from ._src.checkpoint_dir import checkpoint_steps as checkpoint_steps
from ._src.checkpoint_dir import latest_checkpoint_step as latest_checkpoint_step
from ._src.checkpoint_restore import Checkpoint as Checkpoint
from ._src.explain import ParameterLayout as ParameterLayout
from ._src.explain import ShardingReport as ShardingReport
from ._src.explain import explain_sharding as explain_sharding
from ._src.mapping import PhysicalAxisSpec as PhysicalAxisSpec
from ._src.mapping import ResourceMapping as ResourceMapping
from ._src.mapping import axis_mapping as axis_mapping
from ._src.mapping import current_thread_local_mapping as current_thread_local_mapping
from ._src.mapping import physical_axis_name as physical_axis_name
from ._src.mapping import physical_axis_size as physical_axis_size
from ._src.mapping import pspec_for_axis as pspec_for_axis
from ._src.mapping import round_axis_for_partitioning as round_axis_for_partitioning
from ._src.mesh import MeshLike as MeshLike
from ._src.mesh import ResourceAxis as ResourceAxis
from ._src.mesh import _get_mesh as _get_mesh
from ._src.mesh import current_mesh as current_mesh
from ._src.mesh import mesh_context as mesh_context
from ._src.mesh import set_mesh as set_mesh
from ._src.named_jit import WrappedCallable as WrappedCallable
from ._src.named_jit import fsdp as fsdp
from ._src.named_jit import named_jit as named_jit
from ._src.shard import auto_sharded as auto_sharded
from ._src.shard import infer_resource_partitions as infer_resource_partitions
from ._src.shard import install_constraint_hook as _install_constraint_hook
from ._src.shard import pspec_for as pspec_for
from ._src.shard import shard as shard
from ._src.shard import shard_with_axis_mapping as shard_with_axis_mapping
from ._src.shard import sharding_for_axis as sharding_for_axis
from ._src.shard_map import shard_map as shard_map
from ._src.strategies import MappingStrategy as MappingStrategy
from ._src.strategies import data_parallel as data_parallel
from ._src.strategies import fully_sharded as fully_sharded
from ._src.strategies import fully_sharded_tensor_parallel as fully_sharded_tensor_parallel
from ._src.strategies import tensor_parallel as tensor_parallel
from ._src.visualize import visualize_sharding as visualize_sharding

_install_constraint_hook()
