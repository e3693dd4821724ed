"""``haliax._src.rearrange``, an import path code written for Haliax 1.4 uses: the module `ops.rearrange` itself."""

import sys

from .ops import rearrange as _implementation

sys.modules[__name__] = _implementation
