"""Stacks of identical layers: `Stacked` (scanned) and `BlockSeq` (looped)."""

import haliax as haliax  # Stacked calls haliax.fold / haliax.scan through the package, reachable here as in Haliax 1.4
from haliax import ScanCheckpointPolicy as ScanCheckpointPolicy
from haliax.axis import Axis as Axis
from haliax.errors import LayerStackError as LayerStackError
from haliax.extend import ScanCheckpointSpec as ScanCheckpointSpec
from haliax.jax_utils import tree_checkpoint_name as tree_checkpoint_name
from haliax.state_dict import ModuleWithStateDictSerialization as ModuleWithStateDictSerialization
from haliax.state_dict import StateDict as StateDict
from haliax.state_dict import with_prefix as with_prefix

from ._src.scan import BlockFoldable as BlockFoldable
from ._src.scan import BlockSeq as BlockSeq
from ._src.scan import FoldFunction as FoldFunction
from ._src.scan import ModuleInit as ModuleInit
from ._src.scan import ScanFunction as ScanFunction
from ._src.scan import Stacked as Stacked
from ._src.scan import VmapFunction as VmapFunction
from ._src.scan import _stack_state_dict as _stack_state_dict
from ._src.scan import _unstack_state_dict as _unstack_state_dict
