"""``haliax._src.scan``, an import path code written for Haliax 1.4 uses: the module `transforms.scan` itself."""

import sys

from .transforms import scan as _implementation

sys.modules[__name__] = _implementation
