"""Mutable named references over jax's array refs."""

from ._src.ref import NamedRef as NamedRef
from ._src.ref import freeze as freeze
from ._src.ref import get as get
from ._src.ref import new_ref as new_ref
from ._src.ref import refs_supported as refs_supported
from ._src.ref import swap as swap
