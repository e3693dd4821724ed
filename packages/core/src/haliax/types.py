"""Type aliases used in haliax's signatures."""

from ._src.types import DType as DType
from ._src.types import DTypeLike as DTypeLike
from ._src.types import FilterSpec as FilterSpec
from ._src.types import FilterTree as FilterTree
from ._src.types import GatherScatterModeStr as GatherScatterModeStr
from ._src.types import IntScalar as IntScalar
from ._src.types import PrecisionLike as PrecisionLike
from ._src.types import Scalar as Scalar
