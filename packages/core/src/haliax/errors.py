"""Every error class haliax raises on purpose, for ``except`` clauses and ``isinstance`` checks.

Each class subclasses `HaliaxError` and a builtin (``ValueError``, ``TypeError``, ...), so code
written against the builtins keeps working. See the errors guide for what raises each.
"""

from ._src.debug import ModuleProblems as ModuleProblems
from ._src.errors import AxisNotFoundError as AxisNotFoundError
from ._src.errors import AxisSizeError as AxisSizeError
from ._src.errors import BroadcastError as BroadcastError
from ._src.errors import ConflictingOptionsError as ConflictingOptionsError
from ._src.errors import DTypeError as DTypeError
from ._src.errors import DuplicateAxisError as DuplicateAxisError
from ._src.errors import HaliaxError as HaliaxError
from ._src.errors import LayerStackError as LayerStackError
from ._src.errors import MissingFileError as MissingFileError
from ._src.errors import MissingKeyError as MissingKeyError
from ._src.errors import NamedIndexError as NamedIndexError
from ._src.errors import NamedTypeError as NamedTypeError
from ._src.errors import NoMatchError as NoMatchError
from ._src.errors import PartitioningError as PartitioningError
from ._src.errors import PatternError as PatternError
from ._src.errors import QuantizationError as QuantizationError
from ._src.errors import RegistryError as RegistryError
from ._src.errors import ShapeMismatchError as ShapeMismatchError
from ._src.errors import StateDictError as StateDictError
from ._src.errors import UnsupportedIndexError as UnsupportedIndexError
from ._src.errors import ValueRangeError as ValueRangeError
from ._src.registry import PluginLoadWarning as PluginLoadWarning
