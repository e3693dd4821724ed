"""Higher-order functions over named axes: scan, fold, map and vmap."""

from ._src.transforms.scan import fold as fold
from ._src.transforms.scan import map as map
from ._src.transforms.scan import scan as scan
from ._src.transforms.vmap import vmap as vmap
