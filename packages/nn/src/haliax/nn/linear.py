"""Linear layers: `Linear` (named affine map) and `MoELinear` (per-expert ragged matmul)."""

from ._src.linear import DefaultDotGeneralOp as DefaultDotGeneralOp
from ._src.linear import Linear as Linear
from ._src.linear import MoELinear as MoELinear
from ._src.linear import gmm_sharded as gmm_sharded
