"""``haliax._src.einsum``, an import path code written for Haliax 1.4 uses: the module `contractions.einsum` itself."""

import sys

from .contractions import einsum as _implementation

sys.modules[__name__] = _implementation
