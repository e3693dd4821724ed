"""Polynomials as named coefficient arrays."""

from ._src.poly import DEFAULT_POLY_AXIS_NAME as DEFAULT_POLY_AXIS_NAME
from ._src.poly import poly as poly
from ._src.poly import polyadd as polyadd
from ._src.poly import polyder as polyder
from ._src.poly import polydiv as polydiv
from ._src.poly import polyfit as polyfit
from ._src.poly import polyint as polyint
from ._src.poly import polymul as polymul
from ._src.poly import polysub as polysub
from ._src.poly import polyval as polyval
from ._src.poly import roots as roots
from ._src.poly import trim_zeros as trim_zeros
from ._src.poly import vander as vander
