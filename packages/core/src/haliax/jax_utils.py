"""Helpers around jax: checkpointing, named scopes, PRNG keys, tree prefixes, multi-host calls."""

from ._src.jax_utils import Static as Static
from ._src.jax_utils import assert_equal as assert_equal
from ._src.jax_utils import broadcast_one_to_all as broadcast_one_to_all
from ._src.jax_utils import broadcast_prefix as broadcast_prefix
from ._src.jax_utils import combine as combine
from ._src.jax_utils import ensure_scalar as ensure_scalar
from ._src.jax_utils import filter_checkpoint as filter_checkpoint
from ._src.jax_utils import filter_eval_shape as filter_eval_shape
from ._src.jax_utils import is_in_jit as is_in_jit
from ._src.jax_utils import is_jax_array_like as is_jax_array_like
from ._src.jax_utils import is_on_mac_metal as is_on_mac_metal
from ._src.jax_utils import is_pallas_dslice as is_pallas_dslice
from ._src.jax_utils import is_scalarish as is_scalarish
from ._src.jax_utils import maybe_rng_split as maybe_rng_split
from ._src.jax_utils import multilevel_scan as multilevel_scan
from ._src.jax_utils import named_call as named_call
from ._src.jax_utils import shaped_rng_split as shaped_rng_split
from ._src.jax_utils import sync_global_devices as sync_global_devices
from ._src.jax_utils import to_jax_shape as to_jax_shape
from ._src.jax_utils import tree_checkpoint_name as tree_checkpoint_name
