"""Activation functions over NamedArrays (elementwise; axes are kept)."""

from ._src.activations import celu as celu
from ._src.activations import elu as elu
from ._src.activations import gelu as gelu
from ._src.activations import glu as glu
from ._src.activations import hard_sigmoid as hard_sigmoid
from ._src.activations import hard_silu as hard_silu
from ._src.activations import hard_swish as hard_swish
from ._src.activations import hard_tanh as hard_tanh
from ._src.activations import leaky_relu as leaky_relu
from ._src.activations import log_sigmoid as log_sigmoid
from ._src.activations import quick_gelu as quick_gelu
from ._src.activations import relu as relu
from ._src.activations import relu6 as relu6
from ._src.activations import relu_squared as relu_squared
from ._src.activations import selu as selu
from ._src.activations import sigmoid as sigmoid
from ._src.activations import silu as silu
from ._src.activations import soft_sign as soft_sign
from ._src.activations import softplus as softplus
from ._src.activations import swish as swish
