"""Polynomials as named coefficient arrays."""

from ._src.ops.poly import DEFAULT_POLY_AXIS_NAME as DEFAULT_POLY_AXIS_NAME
from ._src.ops.poly import poly as poly
from ._src.ops.poly import polyadd as polyadd
from ._src.ops.poly import polyder as polyder
from ._src.ops.poly import polydiv as polydiv
from ._src.ops.poly import polyfit as polyfit
from ._src.ops.poly import polyint as polyint
from ._src.ops.poly import polymul as polymul
from ._src.ops.poly import polysub as polysub
from ._src.ops.poly import polyval as polyval
from ._src.ops.poly import roots as roots
from ._src.ops.poly import trim_zeros as trim_zeros
from ._src.ops.poly import vander as vander
