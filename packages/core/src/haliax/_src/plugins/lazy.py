"""Top-level names that live in other distributions, resolved on first access.

``haliax.nn``, ``haliax.shard``, ``haliax.named_jit``, ... ship in haliax-nn, haliax-partitioning,
and so on. ``haliax/__init__.py`` ends with a module ``__getattr__`` that calls `resolve`, so
``import haliax`` imports none of them, and reaching one whose distribution is missing raises an
ImportError that says what to install.
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any

# Submodules that other distributions add to the haliax package: attribute -> distribution.
SUBMODULES: dict[str, str] = {
    "nn": "haliax-nn",
    "partitioning": "haliax-partitioning",
    "quantization": "haliax-quantization",
    "testing": "haliax-testing",
}

# Top-level names that live in those submodules: attribute -> owning submodule.
NAMES: dict[str, str] = {
    "auto_sharded": "partitioning",
    "axis_mapping": "partitioning",
    "fsdp": "partitioning",
    "named_jit": "partitioning",
    "set_mesh": "partitioning",
    "shard": "partitioning",
    "shard_with_axis_mapping": "partitioning",
}


# Deprecated top-level aliases, the one deprecation mechanism: old name -> (module, new name).
# Reaching one warns with a DeprecationWarning naming the replacement.
DEPRECATED: dict[str, tuple[str, str]] = {
    "concat_axis_specs": ("haliax.axis", "concat_axes"),
}


def _import_submodule(package: str, sub: str, wanted: str) -> Any:
    module_name = f"{package}.{sub}"
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        # Only a missing haliax.<sub> itself means "not installed"; a missing dependency inside it
        # is the package's own error and propagates unchanged.
        if e.name not in (module_name, package):
            raise
        dist = SUBMODULES[sub]
        where = "" if wanted == sub else f" lives in {module_name}, which"
        raise ImportError(
            f"haliax.{wanted}{where} is shipped by the distribution {dist!r}, which is not installed; "
            f"install it with `pip install {dist}` (or `pip install haliax` for the full stack)",
            name=module_name,
        ) from e


def resolve(package: str, namespace: dict[str, Any], name: str) -> Any:
    """The value of ``haliax.<name>`` for a lazily provided name; caches it in ``namespace``.

    Raises:
        AttributeError: ``name`` is not a lazily provided name (the usual attribute error).
        ImportError: the distribution that provides ``name`` is not installed.
    """
    if name in SUBMODULES:
        value = _import_submodule(package, name, name)
    elif name in NAMES:
        value = getattr(_import_submodule(package, NAMES[name], name), name)
    elif name in DEPRECATED:
        module, new = DEPRECATED[name]
        warnings.warn(
            f"haliax.{name} is deprecated; use {module}.{new} (same function)",
            DeprecationWarning,
            stacklevel=3,
        )
        return getattr(importlib.import_module(module), new)
    else:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    namespace[name] = value
    return value


def lazy_names() -> tuple[str, ...]:
    """Every name `resolve` can provide, for ``dir(haliax)``."""
    return tuple(sorted({*SUBMODULES, *NAMES, *DEPRECATED}))
