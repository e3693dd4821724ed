"""Stacks of identical layers: `Stacked` (scanned) and `BlockSeq` (looped)."""

from ._src.scan import BlockFoldable as BlockFoldable
from ._src.scan import BlockSeq as BlockSeq
from ._src.scan import FoldFunction as FoldFunction
from ._src.scan import ModuleInit as ModuleInit
from ._src.scan import ScanFunction as ScanFunction
from ._src.scan import Stacked as Stacked
from ._src.scan import VmapFunction as VmapFunction
