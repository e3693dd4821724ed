"""``haliax._src.parsing``, an import path code written for Haliax 1.4 uses: the module `ops.parsing` itself."""

import sys

from .ops import parsing as _implementation

sys.modules[__name__] = _implementation
