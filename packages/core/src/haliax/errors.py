"""Every error class haliax raises on purpose, for ``except`` clauses and ``isinstance`` checks.

Each class subclasses `HaliaxError` and a builtin (``ValueError``, ``TypeError``, ...), so code
written against the builtins keeps working. See the errors guide for what raises each.
"""

from ._src.base.errors import AxisNotFoundError as AxisNotFoundError
from ._src.base.errors import AxisSizeError as AxisSizeError
from ._src.base.errors import BroadcastError as BroadcastError
from ._src.base.errors import ConflictingOptionsError as ConflictingOptionsError
from ._src.base.errors import DTypeError as DTypeError
from ._src.base.errors import DuplicateAxisError as DuplicateAxisError
from ._src.base.errors import HaliaxError as HaliaxError
from ._src.base.errors import LayerStackError as LayerStackError
from ._src.base.errors import MissingFileError as MissingFileError
from ._src.base.errors import MissingKeyError as MissingKeyError
from ._src.base.errors import NamedIndexError as NamedIndexError
from ._src.base.errors import NamedTypeError as NamedTypeError
from ._src.base.errors import NoMatchError as NoMatchError
from ._src.base.errors import PartitioningError as PartitioningError
from ._src.base.errors import PatternError as PatternError
from ._src.base.errors import QuantizationError as QuantizationError
from ._src.base.errors import RegistryError as RegistryError
from ._src.base.errors import ShapeMismatchError as ShapeMismatchError
from ._src.base.errors import StateDictError as StateDictError
from ._src.base.errors import UnsupportedIndexError as UnsupportedIndexError
from ._src.base.errors import ValueRangeError as ValueRangeError
from ._src.plugins.registry import PluginLoadWarning as PluginLoadWarning
from ._src.trees.debug import ModuleProblems as ModuleProblems
