"""Internal helpers for sibling packages and plugin authors: the supported way into core's internals.

``haliax.nn``, ``haliax.partitioning``, ``haliax.quantization`` and ``haliax.testing`` import core
only through its public modules and this one, never through ``haliax._src``; a third-party op or
sharding strategy should do the same. These names are stable within a minor version of
``haliax-core`` (pin ``haliax-core>=X.Y,<X.(Y+1)``); they may change between minor versions.
Users writing models do not need them. In the spirit of ``jax.extend`` and ``equinox.internal``.
"""

from ._src.base.axis import axis_position as axis_position
from ._src.base.axis import selector_name as selector_name
from ._src.base.axis import sized_axes as sized_axes
from ._src.base.display import dtype_abbrev as dtype_abbrev
from ._src.base.errors import axis_not_found as axis_not_found
from ._src.base.errors import axis_size_mismatch as axis_size_mismatch
from ._src.base.errors import did_you_mean as did_you_mean
from ._src.base.errors import format_names as format_names
from ._src.base.errors import format_shape as format_shape
from ._src.base.errors import reported_as as reported_as
from ._src.base.errors import reports_as as reports_as
from ._src.base.named_array import named_unchecked as named_unchecked
from ._src.base.named_array import require_named as require_named
from ._src.base.sharding_hook import constrain as constrain
from ._src.base.sharding_hook import set_constraint_provider as set_constraint_provider
from ._src.contractions.dot import contraction_plan as contraction_plan
from ._src.ops.lift import axis_positions as axis_positions
from ._src.transforms.layout import LeafLayout as LeafLayout
from ._src.transforms.scan import ScanCheckpointSpec as ScanCheckpointSpec
