"""Plugin registries (named ops, sharding strategies, attention kernels), filled lazily from entry points."""

from ._src.base.errors import RegistryError as RegistryError
from ._src.plugins.registry import AxisMapping as AxisMapping
from ._src.plugins.registry import PluginLoadWarning as PluginLoadWarning
from ._src.plugins.registry import Registry as Registry
from ._src.plugins.registry import ShardingStrategy as ShardingStrategy
from ._src.plugins.registry import get_op as get_op
from ._src.plugins.registry import get_sharding_strategy as get_sharding_strategy
from ._src.plugins.registry import list_ops as list_ops
from ._src.plugins.registry import list_sharding_strategies as list_sharding_strategies
from ._src.plugins.registry import ops as ops
from ._src.plugins.registry import register_op as register_op
from ._src.plugins.registry import registry_for as registry_for
from ._src.plugins.registry import sharding_strategies as sharding_strategies
