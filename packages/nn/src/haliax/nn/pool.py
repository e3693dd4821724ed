"""Pooling over named window axes."""

from ._src.pool import DEFAULT_PADDING as DEFAULT_PADDING
from ._src.pool import Padding as Padding
from ._src.pool import max_pool as max_pool
from ._src.pool import mean_pool as mean_pool
from ._src.pool import min_pool as min_pool
from ._src.pool import pool as pool
