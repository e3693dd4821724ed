"""Parameterisations (standard and muP) for linear and embedding layers."""

from ._src.mup import AbstractEmbeddingReparam as AbstractEmbeddingReparam
from ._src.mup import AbstractLinearReparam as AbstractLinearReparam
from ._src.mup import AbstractReparam as AbstractReparam
from ._src.mup import EmbeddingMup as EmbeddingMup
from ._src.mup import EmbeddingStandardParam as EmbeddingStandardParam
from ._src.mup import HiddenLinearMup as HiddenLinearMup
from ._src.mup import InputLinearMup as InputLinearMup
from ._src.mup import LinearStandardParam as LinearStandardParam
from ._src.mup import OutputLinearMup as OutputLinearMup
from ._src.mup import ReparamEnabled as ReparamEnabled
