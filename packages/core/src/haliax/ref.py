"""Mutable named references over jax's array refs."""

from ._src.indexing.ref import NamedRef as NamedRef
from ._src.indexing.ref import freeze as freeze
from ._src.indexing.ref import get as get
from ._src.indexing.ref import new_ref as new_ref
from ._src.indexing.ref import refs_supported as refs_supported
from ._src.indexing.ref import swap as swap
