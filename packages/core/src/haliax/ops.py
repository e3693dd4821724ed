"""Named ops beyond elementwise and reductions: selection, comparison, counting, triangles, unique."""

from ._src.ops.compare import allclose as allclose
from ._src.ops.compare import array_equal as array_equal
from ._src.ops.compare import array_equiv as array_equiv
from ._src.ops.compare import isclose as isclose
from ._src.ops.lift import raw_array_or_scalar as raw_array_or_scalar
from ._src.ops.matrix import packbits as packbits
from ._src.ops.matrix import trace as trace
from ._src.ops.matrix import tril as tril
from ._src.ops.matrix import triu as triu
from ._src.ops.matrix import unpackbits as unpackbits
from ._src.ops.select import bincount as bincount
from ._src.ops.select import clip as clip
from ._src.ops.select import nonzero as nonzero
from ._src.ops.select import searchsorted as searchsorted
from ._src.ops.select import unique as unique
from ._src.ops.select import unique_all as unique_all
from ._src.ops.select import unique_counts as unique_counts
from ._src.ops.select import unique_inverse as unique_inverse
from ._src.ops.select import unique_values as unique_values
from ._src.ops.select import where as where
from ._src.ops.shape import pad as pad
from ._src.ops.shape import pad_left as pad_left
