"""Helpers around jax: checkpointing, named scopes, PRNG keys, tree prefixes, multi-host calls."""

from ._src.base.axis import to_jax_shape as to_jax_shape
from ._src.base.pytree import Static as Static
from ._src.base.pytree import broadcast_prefix as broadcast_prefix
from ._src.base.pytree import combine as combine
from ._src.base.pytree import filter_eval_shape as filter_eval_shape
from ._src.base.pytypes import ensure_scalar as ensure_scalar
from ._src.base.pytypes import is_jax_array_like as is_jax_array_like
from ._src.base.pytypes import is_pallas_dslice as is_pallas_dslice
from ._src.base.pytypes import is_scalarish as is_scalarish
from ._src.base.runtime import assert_equal as assert_equal
from ._src.base.runtime import broadcast_one_to_all as broadcast_one_to_all
from ._src.base.runtime import is_in_jit as is_in_jit
from ._src.base.runtime import is_on_mac_metal as is_on_mac_metal
from ._src.base.runtime import sync_global_devices as sync_global_devices
from ._src.ops.random import maybe_rng_split as maybe_rng_split
from ._src.ops.random import shaped_rng_split as shaped_rng_split
from ._src.transforms.checkpoint import filter_checkpoint as filter_checkpoint
from ._src.transforms.checkpoint import multilevel_scan as multilevel_scan
from ._src.transforms.checkpoint import named_call as named_call
from ._src.transforms.checkpoint import tree_checkpoint_name as tree_checkpoint_name
