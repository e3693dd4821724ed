"""``haliax._src.fp8``: where Haliax keeps its fp8 scaling helpers; an alias of the quantization package's.

Code written for Haliax imports ``compute_scale`` and friends from here. The implementation
lives in haliax-quantization (``haliax.quantization._src.fp8``), and core never imports that
package at import time (the dependency points from quantization to core). So this module is a
lazy alias: the first attribute looked up imports the implementation and forwards to it; if
haliax-quantization is not installed, that lookup raises an ImportError saying what to install.
"""

from __future__ import annotations

import importlib
from typing import Any

from .plugins.lazy import SUBMODULES

_IMPLEMENTATION = "haliax.quantization._src.fp8"


def __getattr__(name: str) -> Any:
    if name.startswith("__"):  # module protocol lookups (doctest, pickle, ...) do not need the implementation
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        module = importlib.import_module(_IMPLEMENTATION)
    except ModuleNotFoundError as e:
        if e.name not in ("haliax.quantization", _IMPLEMENTATION):
            raise
        dist = SUBMODULES["quantization"]
        raise ImportError(
            f"haliax._src.fp8.{name} is provided by the distribution {dist!r}, which is not installed; "
            f"install it with `pip install {dist}` (or `pip install haliax` for the full stack)",
            name=_IMPLEMENTATION,
        ) from e
    return getattr(module, name)
