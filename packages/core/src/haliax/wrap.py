"""Wrapping positional (jax.numpy-style) functions so they take NamedArrays."""

from ._src.ops.lift import unwrap_namedarrays as unwrap_namedarrays
from ._src.ops.wrap import ReductionFunction as ReductionFunction
from ._src.ops.wrap import SimpleReductionFunction as SimpleReductionFunction
from ._src.ops.wrap import apply_positional as apply_positional
from ._src.ops.wrap import wrap_axiswise_call as wrap_axiswise_call
from ._src.ops.wrap import wrap_elemwise_binary as wrap_elemwise_binary
from ._src.ops.wrap import wrap_elemwise_unary as wrap_elemwise_unary
from ._src.ops.wrap import wrap_reduction_call as wrap_reduction_call
