"""fp8 and int8 matmuls for `haliax.nn.Linear`: ``import haliax.quantization as hq``.

`quantize_linear_layers` swaps the ``dot_general`` of chosen layers for `Fp8DotGeneralOp`
(delayed scaling, state updated through the gradient) or `Int8DotGeneralOp`; the train step
splits gradients with `partition_for_grad_overwrite` and applies them with `apply_updates`.
"""

from ._src.fp8 import Fp8DotGeneralOp as Fp8DotGeneralOp
from ._src.int8 import Int8DotGeneralOp as Int8DotGeneralOp
from ._src.ops import DefaultDotGeneralOp as DefaultDotGeneralOp
from ._src.ops import DotGeneralOp as DotGeneralOp
from ._src.overwrite import OverwriteWithGradient as OverwriteWithGradient
from ._src.overwrite import apply_updates as apply_updates
from ._src.overwrite import partition_for_grad_overwrite as partition_for_grad_overwrite
from ._src.quantize import QuantizationConfig as QuantizationConfig
from ._src.quantize import quantize_linear_layers as quantize_linear_layers
