"""Multi-layer perceptrons."""

from ._src.mlp import DEFAULT_WIDTH_NAME as DEFAULT_WIDTH_NAME
from ._src.mlp import MLP as MLP
