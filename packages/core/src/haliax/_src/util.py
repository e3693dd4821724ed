"""Exists for Haliax import-path compatibility only: code written for Haliax 1.4 imports
``index_where`` from ``haliax._src.util``. The function lives in `base.pytypes`."""

from .base.pytypes import index_where as index_where
