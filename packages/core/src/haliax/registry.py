"""Plugin registries (named ops, sharding strategies, attention kernels), filled lazily from entry points."""

from ._src.errors import RegistryError as RegistryError
from ._src.registry import AxisMapping as AxisMapping
from ._src.registry import PluginLoadWarning as PluginLoadWarning
from ._src.registry import Registry as Registry
from ._src.registry import ShardingStrategy as ShardingStrategy
from ._src.registry import get_op as get_op
from ._src.registry import get_sharding_strategy as get_sharding_strategy
from ._src.registry import list_ops as list_ops
from ._src.registry import list_sharding_strategies as list_sharding_strategies
from ._src.registry import ops as ops
from ._src.registry import register_op as register_op
from ._src.registry import registry_for as registry_for
from ._src.registry import sharding_strategies as sharding_strategies
