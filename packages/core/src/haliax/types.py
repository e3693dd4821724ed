"""Type aliases used in haliax's signatures."""

from ._src.base.types import DType as DType
from ._src.base.types import DTypeLike as DTypeLike
from ._src.base.types import FilterSpec as FilterSpec
from ._src.base.types import FilterTree as FilterTree
from ._src.base.types import GatherScatterModeStr as GatherScatterModeStr
from ._src.base.types import IntScalar as IntScalar
from ._src.base.types import PrecisionLike as PrecisionLike
from ._src.base.types import Scalar as Scalar
