"""Normalisation layers and the softmax family."""

from ._src.normalization import LayerNorm as LayerNorm
from ._src.normalization import LayerNormBase as LayerNormBase
from ._src.normalization import RmsNorm as RmsNorm
from ._src.normalization import log_softmax as log_softmax
from ._src.normalization import logsumexp as logsumexp
from ._src.normalization import softmax as softmax
from ._src.normalization import standardize as standardize
