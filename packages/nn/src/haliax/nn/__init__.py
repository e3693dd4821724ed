"""Neural-network layers over named tensors: ``import haliax.nn as hnn``.

Equinox modules (`Linear`, `Embedding`, `LayerNorm`, `Conv`, `Stacked`, ...), attention, losses
and activations. This module is a manifest; implementations live in ``haliax.nn._src``.
``haliax.nn.dropout`` is the *function* (as in Haliax); the module is reached with
``from haliax.nn.dropout import Dropout``.
"""

from haliax import ScanCheckpointPolicy as ScanCheckpointPolicy

from . import activations as activations
from . import attention as attention
from . import conv as conv

# Loaded first so that the function `dropout` below keeps the attribute (as in Haliax) and a later
# `from haliax.nn.dropout import Dropout` does not rebind it to the module.
from . import dropout as _dropout_module
from . import embedding as embedding
from . import linear as linear
from . import loss as loss
from . import mlp as mlp
from . import mup as mup
from . import normalization as normalization
from . import pool as pool
from . import scan as scan
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
from ._src.conv import Conv as Conv
from ._src.conv import ConvTranspose as ConvTranspose
from ._src.dropout import Dropout as Dropout
from ._src.dropout import dropout as dropout
from ._src.embedding import Embedding as Embedding
from ._src.encoding import one_hot as one_hot
from ._src.linear import DefaultDotGeneralOp as DefaultDotGeneralOp
from ._src.linear import Linear as Linear
from ._src.linear import MoELinear as MoELinear
from ._src.loss import binary_cross_entropy_loss as binary_cross_entropy_loss
from ._src.loss import cross_entropy_loss as cross_entropy_loss
from ._src.loss import cross_entropy_loss_and_log_normalizers as cross_entropy_loss_and_log_normalizers
from ._src.loss import reduce_loss as reduce_loss
from ._src.mlp import MLP as MLP
from ._src.normalization import LayerNorm as LayerNorm
from ._src.normalization import RmsNorm as RmsNorm
from ._src.normalization import log_softmax as log_softmax
from ._src.normalization import logsumexp as logsumexp
from ._src.normalization import softmax as softmax
from ._src.normalization import standardize as standardize
from ._src.pool import max_pool as max_pool
from ._src.pool import mean_pool as mean_pool
from ._src.pool import min_pool as min_pool
from ._src.scan import BlockSeq as BlockSeq
from ._src.scan import Stacked as Stacked
