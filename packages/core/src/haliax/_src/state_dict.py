"""``haliax._src.state_dict``, an import path code written for Haliax 1.4 uses: the module `trees.state_dict` itself."""

import sys

from .trees import state_dict as _implementation

sys.modules[__name__] = _implementation
