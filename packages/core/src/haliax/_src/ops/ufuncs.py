"""Elementwise ops: one line an op, built by the `elementwise` and `binary` factories.

Binary ops broadcast by axis name (see `broadcast`); the operator methods of NamedArray call these.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from ..base.named_array import NamedArray
from ..base.types import NamedOrNumeric
from .lift import binary, elementwise

# ----- unary: arithmetic and rounding -----
abs = elementwise(jnp.abs, name="abs")
absolute = elementwise(jnp.absolute, name="absolute")
around = elementwise(jnp.around, name="around")
cbrt = elementwise(jnp.cbrt)
ceil = elementwise(jnp.ceil)
copy = elementwise(jnp.copy)
fabs = elementwise(jnp.fabs)
fix = elementwise(jnp.trunc, name="fix", summary="Round toward zero (same as `trunc`).")
floor = elementwise(jnp.floor)
nan_to_num = elementwise(jnp.nan_to_num)
negative = elementwise(jnp.negative)
positive = elementwise(jnp.positive)
reciprocal = elementwise(jnp.reciprocal)
rint = elementwise(jnp.rint)
round = elementwise(jnp.round, name="round")
rsqrt = elementwise(jax.lax.rsqrt, name="rsqrt")
sign = elementwise(jnp.sign)
sqrt = elementwise(jnp.sqrt)
square = elementwise(jnp.square)
trunc = elementwise(jnp.trunc)

# ----- unary: exponentials, logarithms, trigonometry -----
arccos = elementwise(jnp.arccos)
arccosh = elementwise(jnp.arccosh)
arcsin = elementwise(jnp.arcsin)
arcsinh = elementwise(jnp.arcsinh)
arctan = elementwise(jnp.arctan)
arctanh = elementwise(jnp.arctanh)
cos = elementwise(jnp.cos)
cosh = elementwise(jnp.cosh)
deg2rad = elementwise(jnp.deg2rad)
degrees = elementwise(jnp.degrees)
exp = elementwise(jnp.exp)
exp2 = elementwise(jnp.exp2)
expm1 = elementwise(jnp.expm1)
i0 = elementwise(jnp.i0)
log = elementwise(jnp.log)
log10 = elementwise(jnp.log10)
log1p = elementwise(jnp.log1p)
log2 = elementwise(jnp.log2)
rad2deg = elementwise(jnp.rad2deg)
radians = elementwise(jnp.radians)
sin = elementwise(jnp.sin)
sinc = elementwise(jnp.sinc)
sinh = elementwise(jnp.sinh)
tan = elementwise(jnp.tan)
tanh = elementwise(jnp.tanh)

# ----- unary: complex numbers -----
angle = elementwise(jnp.angle)
conj = elementwise(jnp.conj, name="conj")
conjugate = elementwise(jnp.conjugate, name="conjugate")
imag = elementwise(jnp.imag)
real = elementwise(jnp.real)

# ----- unary: predicates and bits -----
bitwise_count = elementwise(jnp.bitwise_count)
bitwise_invert = elementwise(jnp.bitwise_invert)
bitwise_not = elementwise(jnp.bitwise_not)
invert = elementwise(jnp.invert)
iscomplex = elementwise(jnp.iscomplex)
isfinite = elementwise(jnp.isfinite)
isinf = elementwise(jnp.isinf)
isnan = elementwise(jnp.isnan)
isneginf = elementwise(jnp.isneginf)
isposinf = elementwise(jnp.isposinf)
isreal = elementwise(jnp.isreal)
logical_not = elementwise(jnp.logical_not)
signbit = elementwise(jnp.signbit)

# ----- binary: arithmetic -----
add = binary(jnp.add, name="add")
divide = binary(jnp.divide, name="divide")
float_power = binary(jnp.float_power)
floor_divide = binary(jnp.floor_divide, name="floor_divide")
fmod = binary(jnp.fmod)
mod = binary(jnp.mod, name="mod")
multiply = binary(jnp.multiply, name="multiply")
power = binary(jnp.power, name="power")
remainder = binary(jnp.remainder, name="remainder")
subtract = binary(jnp.subtract, name="subtract")
true_divide = binary(jnp.true_divide, name="true_divide")

# ----- binary: comparison and extrema -----
equal = binary(jnp.equal, name="equal")
fmax = binary(jnp.fmax)
fmin = binary(jnp.fmin)
greater = binary(jnp.greater, name="greater")
greater_equal = binary(jnp.greater_equal, name="greater_equal")
less = binary(jnp.less, name="less")
less_equal = binary(jnp.less_equal, name="less_equal")
maximum = binary(jnp.maximum, name="maximum")
minimum = binary(jnp.minimum, name="minimum")
not_equal = binary(jnp.not_equal, name="not_equal")

# ----- binary: transcendental -----
arctan2 = binary(jnp.arctan2)
hypot = binary(jnp.hypot)
logaddexp = binary(jnp.logaddexp)
logaddexp2 = binary(jnp.logaddexp2)
nextafter = binary(jnp.nextafter)

# ----- binary: logic and bits -----
bitwise_and = binary(jnp.bitwise_and, name="bitwise_and")
bitwise_left_shift = binary(jnp.bitwise_left_shift, name="bitwise_left_shift")
bitwise_or = binary(jnp.bitwise_or, name="bitwise_or")
bitwise_right_shift = binary(jnp.bitwise_right_shift, name="bitwise_right_shift")
bitwise_xor = binary(jnp.bitwise_xor, name="bitwise_xor")
left_shift = binary(jnp.left_shift, name="left_shift")
logical_and = binary(jnp.logical_and)
logical_or = binary(jnp.logical_or)
logical_xor = binary(jnp.logical_xor)
right_shift = binary(jnp.right_shift, name="right_shift")


# ----- ops with tuple results: hand-written -----
class NamedPair(tuple):
    """The two NamedArrays of `divmod` or `frexp`: unpack it, or read ``.array`` as in Haliax.

    Haliax 1.4 returned one NamedArray whose ``.array`` was the tuple of raw results; code that
    reads ``hax.divmod(a, b).array[0]`` keeps working, and ``q, r = hax.divmod(a, b)`` works too.
    """

    __slots__ = ()

    @property
    def array(self) -> tuple[Any, ...]:
        """The raw arrays, as a tuple."""
        return tuple(x.array if isinstance(x, NamedArray) else x for x in self)


jax.tree_util.register_pytree_node(NamedPair, lambda p: (tuple(p), None), lambda _, xs: NamedPair(xs))


def divmod(a: NamedOrNumeric, b: NamedOrNumeric, /) -> NamedPair:
    """Elementwise ``(a // b, a % b)``, broadcasting by name, as a `NamedPair`."""
    return NamedPair((floor_divide(a, b), mod(a, b)))


def frexp(a: NamedOrNumeric, /) -> NamedPair:
    """Mantissa and exponent of each element (``a == mantissa * 2**exponent``), as a `NamedPair`."""
    if isinstance(a, NamedArray):
        m, e = jnp.frexp(a.array)
        return NamedPair((NamedArray._new(m, a.axes), NamedArray._new(e, a.axes)))
    return NamedPair(jnp.frexp(a))


def ndim(a: NamedOrNumeric) -> int:
    """Number of axes of a NamedArray (or dimensions of an array), as a Python int.

    Haliax 1.4 wrapped the int in a NamedArray; an int is what every caller wants.
    """
    if isinstance(a, NamedArray):
        return len(a.axes)
    return jnp.ndim(a)
