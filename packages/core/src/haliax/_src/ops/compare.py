"""Comparing whole arrays by name: `isclose`, `allclose`, `array_equal`, `array_equiv`."""

from __future__ import annotations

import jax.numpy as jnp

from ..base.errors import BroadcastError
from ..base.named_array import NamedArray
from ..base.types import NamedOrNumeric
from .broadcast import broadcast_to
from .lift import binary, named_raw, raw

# ----- comparison -----
isclose = binary(
    jnp.isclose,
    name="isclose",
    summary="Elementwise closeness test (rtol, atol, equal_nan), broadcasting by name.",
)


def allclose(
    a: NamedOrNumeric, b: NamedOrNumeric, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> bool:
    """True if every element of ``a`` is close to ``b``'s, broadcasting by name (a Python bool).

    The answer is a Python bool, so the arrays must be concrete (not traced under ``jit``);
    under ``jit`` use ``hax.all(hax.isclose(a, b))``.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> x = hax.named(jnp.ones((2, 3)), ("batch", "embed"))
        >>> hax.allclose(x, hax.named(x.array.T, ("embed", "batch")) + 1e-9)
        True
    """
    _, (x, y) = named_raw("allclose", [a, b])
    return bool(jnp.allclose(x, y, rtol=rtol, atol=atol, equal_nan=equal_nan))


def array_equal(a: NamedOrNumeric, b: NamedOrNumeric) -> bool:
    """True if both have the same axes (names and sizes, in any order) and equal values.

    Axis order does not matter: arrays are compared by name. Returns a Python bool, so the
    arrays must be concrete.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> x = hax.named(jnp.arange(6).reshape(2, 3), ("batch", "embed"))
        >>> xt = hax.named(x.array.T, ("embed", "batch"))
        >>> hax.array_equal(x, xt), hax.array_equal(x, x.sum("embed"))
        (True, False)
    """
    if isinstance(a, NamedArray) and isinstance(b, NamedArray):
        if set(a.axes) != set(b.axes):
            return False
        if a.axes != b.axes:
            b = broadcast_to(b, a.axes, ensure_order=True, enforce_no_extra_axes=True)
        return bool(jnp.array_equal(a.array, b.array))
    named = a if isinstance(a, NamedArray) else b if isinstance(b, NamedArray) else None
    if named is not None:  # exactly one is named: equal only as 0-d arrays
        other = b if named is a else a
        if named.axes or jnp.ndim(raw(other)) != 0:
            return False
    return bool(jnp.array_equal(raw(a), raw(b)))


def array_equiv(a: NamedOrNumeric, b: NamedOrNumeric) -> bool:
    """True if the arrays broadcast together by name and are equal everywhere (a Python bool).

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> x = hax.named(jnp.ones((2, 3)), ("batch", "embed"))
        >>> hax.array_equiv(x, x.sum("batch") / 2), hax.array_equiv(x, 2.0)
        (True, False)
    """
    try:
        _, (x, y) = named_raw("array_equiv", [a, b])
    except BroadcastError:
        return False
    return bool(jnp.array_equiv(x, y))
