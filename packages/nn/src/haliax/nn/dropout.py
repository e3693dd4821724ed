"""Dropout: the `Dropout` module and the functional `dropout`.

As in Haliax, the attribute ``haliax.nn.dropout`` is the *function*; this module is reached with
``from haliax.nn.dropout import Dropout``.
"""

from ._src.dropout import Dropout as Dropout
from ._src.dropout import DropoutKeyError as DropoutKeyError
from ._src.dropout import dropout as dropout
