"""Polynomials as named coefficient arrays, highest degree first (as in jax.numpy).

A coefficient array is a NamedArray with one axis (its name is kept through every op), or a raw
array or list, whose axis is then named `DEFAULT_POLY_AXIS_NAME`. As in Haliax, a result takes the
axis name of its (first) named input, resized: `poly` of roots along ``R`` gives coefficients
along ``R``, `polyfit` of samples along ``X`` coefficients along ``X``; ``new_axis=`` renames it.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from ..base.axis import Axis, AxisSelector, selector_name
from ..base.errors import ConflictingOptionsError, NamedTypeError, ShapeMismatchError, format_shape
from ..base.named_array import NamedArray, require_named
from .lift import axis_positions
from .ufuncs import add, multiply

DEFAULT_POLY_AXIS_NAME = "degree"


def _coeffs(op: str, p: Any) -> tuple[Any, str]:
    """Raw 1-d coefficients and the name of their axis."""
    if isinstance(p, NamedArray):
        if len(p.axes) != 1:
            raise ShapeMismatchError(
                f"{op}: expected a coefficient array with one axis, got {format_shape(p.axes)}; "
                f"select a single polynomial first (e.g. with hax.vmap over the other axes)"
            )
        return p.array, p.axes[0].name
    arr = jnp.asarray(p)
    if arr.ndim != 1:
        raise ShapeMismatchError(f"{op}: expected one-dimensional coefficients, got shape {arr.shape}")
    return arr, DEFAULT_POLY_AXIS_NAME


def _pair(op: str, a1: Any, a2: Any) -> tuple[Any, Any, str]:
    """Raw coefficients of two polynomials and the result's axis name: ``a1``'s, else ``a2``'s."""
    x, name1 = _coeffs(op, a1)
    y, name2 = _coeffs(op, a2)
    return x, y, name1 if isinstance(a1, NamedArray) else name2


def _along(out: Any, name: str) -> NamedArray:
    return NamedArray._new(out, (Axis(name, out.shape[0]),))


def _new_axis_name(new_axis: AxisSelector | None) -> str:
    if new_axis is None:
        return DEFAULT_POLY_AXIS_NAME
    return selector_name(new_axis)


def poly(seq_of_zeros: NamedArray, new_axis: AxisSelector | None = None) -> NamedArray:
    """Coefficients of the monic polynomial whose roots are ``seq_of_zeros`` (one axis).

    A square two-axis array gives its characteristic polynomial. The coefficients lie along
    ``new_axis`` of size ``n + 1``: by default the roots' axis name (``'degree'`` for a raw array
    or a matrix).

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> c = hax.poly(hax.named(jnp.array([1.0, 2.0]), "root"))
        >>> c.shape, c.array.tolist()
        ({'root': 3}, [1.0, -3.0, 2.0])
    """
    out = jnp.poly(seq_of_zeros.array if isinstance(seq_of_zeros, NamedArray) else seq_of_zeros)
    if new_axis is None and isinstance(seq_of_zeros, NamedArray) and len(seq_of_zeros.axes) == 1:
        return _along(out, seq_of_zeros.axes[0].name)
    return _along(out, _new_axis_name(new_axis))


def polyadd(p1: Any, p2: Any) -> NamedArray:
    """Sum of two polynomials, as long as the longer; along ``p1``'s axis name (``p2``'s if ``p1`` is raw).

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> p = hax.named(jnp.array([1.0, 2.0]), "degree")
        >>> hax.polyadd(p, hax.named(jnp.array([1.0, 0.0, 1.0]), "degree")).array.tolist()
        [1.0, 1.0, 3.0]
    """
    x, y, name = _pair("polyadd", p1, p2)
    return _along(jnp.polyadd(x, y), name)


def polysub(p1: Any, p2: Any) -> NamedArray:
    """Difference ``p1 - p2`` of two polynomials (``p1``'s axis name).

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> p = hax.named(jnp.array([3.0, 2.0]), "degree")
        >>> hax.polysub(p, p).array.tolist()
        [0.0, 0.0]
    """
    x, y, name = _pair("polysub", p1, p2)
    return _along(jnp.polysub(x, y), name)


def polymul(p1: Any, p2: Any) -> NamedArray:
    """Product of two polynomials: length ``n1 + n2 - 1`` along ``p1``'s axis name.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> p = hax.named(jnp.array([1.0, 1.0]), "degree")
        >>> hax.polymul(p, p).array.tolist()
        [1.0, 2.0, 1.0]
    """
    x, y, name = _pair("polymul", p1, p2)
    return _along(jnp.polymul(x, y), name)


def polydiv(p1: Any, p2: Any) -> tuple[NamedArray, NamedArray]:
    """``(quotient, remainder)`` of dividing polynomial ``p1`` by ``p2`` (``p1``'s axis name).

    The remainder keeps ``p1``'s length (leading zeros are not trimmed, so it works under jit).

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> p1 = hax.named(jnp.array([1.0, 3.0, 2.0]), "degree")
        >>> q, r = hax.polydiv(p1, hax.named(jnp.array([1.0, 1.0]), "degree"))
        >>> q.array.tolist(), r.array.tolist()
        ([1.0, 2.0], [0.0, 0.0, 0.0])
    """
    x, y, name = _pair("polydiv", p1, p2)
    q, r = jnp.polydiv(x, y)
    return _along(q, name), _along(r, name)


def polyder(p: Any, m: int = 1) -> NamedArray:
    """The ``m``-th derivative of a polynomial: its axis shrinks by ``m``.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> hax.polyder(hax.named(jnp.array([1.0, 1.0, 1.0]), "degree")).array.tolist()
        [2.0, 1.0]
    """
    x, name = _coeffs("polyder", p)
    return _along(jnp.polyder(x, m), name)


def polyint(p: Any, m: int = 1, k: Any = None) -> NamedArray:
    """The ``m``-th antiderivative, with integration constants ``k``: its axis grows by ``m``.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> hax.polyint(hax.named(jnp.array([2.0, 1.0]), "degree")).array.tolist()
        [1.0, 1.0, 0.0]
    """
    x, name = _coeffs("polyint", p)
    k = k.array if isinstance(k, NamedArray) else k
    return _along(jnp.polyint(x, m=m, k=k), name)


def polyval(p: Any, x: Any, axis: AxisSelector | None = None) -> Any:
    """Evaluate polynomial ``p`` at ``x``, broadcasting by name.

    ``p``'s coefficient axis is ``axis`` when given (its other axes broadcast with ``x``'s by
    name), else its only axis. The result has ``x``'s axes (and any extra axes of ``p``).

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> p = hax.named(jnp.array([1.0, 0.0, -1.0]), "degree")
        >>> hax.polyval(p, hax.named(jnp.array([0.0, 2.0]), "x")).array.tolist()
        [-1.0, 3.0]
    """
    if axis is None or not isinstance(p, NamedArray):
        coeffs, _ = _coeffs("polyval", p)
        if isinstance(x, NamedArray):
            return NamedArray._new(jnp.polyval(coeffs, x.array), x.axes)
        return jnp.polyval(coeffs, x)
    (pos,) = axis_positions("polyval", p, axis)
    rest = p.axes[:pos] + p.axes[pos + 1 :]
    # Horner's rule with named broadcasting, one coefficient slice at a time (degree is static).
    y: Any = None
    for i in range(p.axes[pos].size):
        c = NamedArray._new(jnp.take(p.array, i, axis=pos), rest)
        y = c if y is None else add(multiply(y, x), c)
    return y


def polyfit(
    x: Any,
    y: Any,
    deg: int,
    rcond: float | None = None,
    full: bool = False,
    w: Any = None,
    cov: bool = False,
    new_axis: AxisSelector | None = None,
) -> Any:
    """Least-squares fit of a degree-``deg`` polynomial to samples ``(x, y)``.

    ``x`` has one axis (the samples); ``y`` has it too, plus at most one other axis (several
    fits at once); either may be a raw 1-d array. Coefficients lie along ``new_axis`` (default,
    as in Haliax: ``x``'s axis name, else ``y``'s, else ``'degree'``; size ``deg + 1``) followed
    by ``y``'s other axis. ``full=True`` also returns jnp's ``(residuals, rank, singular_values,
    rcond)`` as raw arrays; ``cov=True`` also returns the covariance with axes
    ``(degree, degree_cov, ...)``.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> x = hax.named(jnp.array([0.0, 1.0, 2.0, 3.0]), "sample")
        >>> c = hax.polyfit(x, 2 * x + 1, 1)
        >>> c.shape, jnp.round(c.array, 4).tolist()
        ({'sample': 2}, [2.0, 1.0])
    """
    if isinstance(x, NamedArray):
        if len(x.axes) != 1:
            raise ShapeMismatchError(f"polyfit: x must have one (sample) axis, got {format_shape(x.axes)}")
        x_raw = x.array
    else:
        x_raw = jnp.asarray(x)
        if x_raw.ndim != 1:
            raise ShapeMismatchError(f"polyfit: x must be one-dimensional, got shape {x_raw.shape}")
    others: tuple[Axis, ...] = ()
    if isinstance(y, NamedArray):
        if isinstance(x, NamedArray):
            (pos,) = axis_positions("polyfit", y, x.axes[0])
        elif len(y.axes) == 1:
            pos = 0
        else:
            raise ShapeMismatchError(
                f"polyfit: with a raw x, y must have one axis, got {format_shape(y.axes)}; name x's axis"
            )
        others = y.axes[:pos] + y.axes[pos + 1 :]
        if len(others) > 1:
            raise ShapeMismatchError(
                f"polyfit: y may have at most one axis besides {y.axes[pos].name!r}, got {format_shape(y.axes)}"
            )
        y_raw = jnp.moveaxis(y.array, pos, 0) if pos != 0 else y.array
    else:
        y_raw = y
    if new_axis is None:
        base = x if isinstance(x, NamedArray) else y if isinstance(y, NamedArray) and not others else None
        new_axis = base.axes[0].name if base is not None else None
    w_raw = w.array if isinstance(w, NamedArray) else w
    res = jnp.polyfit(x_raw, y_raw, deg, rcond=rcond, full=full, w=w_raw, cov=cov)
    Degree = Axis(_new_axis_name(new_axis), deg + 1)
    coef_axes = (Degree, *others)
    if full:
        coef, *extra = res
        return (NamedArray._new(coef, coef_axes), *extra)
    if cov:
        coef, c = res
        return NamedArray._new(coef, coef_axes), NamedArray._new(
            c, (Degree, Degree.alias(f"{Degree.name}_cov"), *others)
        )
    return NamedArray._new(res, coef_axes)


def roots(p: Any, *, strip_zeros: bool = True, new_axis: AxisSelector | None = None) -> NamedArray:
    """Roots of a polynomial, along ``new_axis`` (default: ``p``'s axis name resized).

    With ``strip_zeros=True`` the number of roots depends on the values (not jittable); pass
    ``strip_zeros=False`` under jit (leading zeros then give NaN roots).

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> r = hax.roots(hax.named(jnp.array([1.0, -3.0, 2.0]), "degree"), new_axis="root")
        >>> sorted(r.array.real.round(4).tolist()), r.shape
        ([1.0, 2.0], {'root': 2})
    """
    coeffs, name = _coeffs("roots", p)
    out = jnp.roots(coeffs, strip_zeros=strip_zeros)
    return _along(out, name if new_axis is None else _new_axis_name(new_axis))


def trim_zeros(f: Any, trim: str = "fb") -> NamedArray:
    """Drop leading (``'f'``) and/or trailing (``'b'``) zeros; the axis shrinks (not jittable).

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> hax.trim_zeros(hax.named(jnp.array([0, 1, 2, 0]), "degree")).array.tolist()
        [1, 2]
    """
    coeffs, name = _coeffs("trim_zeros", f)
    return _along(jnp.trim_zeros(coeffs, trim), name)


def vander(
    x: NamedArray,
    degree: AxisSelector | int | None = None,
    increasing: bool = False,
    new_axis: AxisSelector | None = None,
) -> NamedArray:
    """Vandermonde matrix: powers of ``x`` along a new last axis.

    ``degree`` is that axis (an `Axis`, whose size is the number of powers, or a name) or just
    the number of powers; by default it has the size of ``x``'s only axis and is named
    ``new_axis`` (default ``'degree'``). ``x`` may have any axes (then give the size). Powers
    decrease unless ``increasing``.

    Examples:
        >>> import jax.numpy as jnp, haliax as hax
        >>> v = hax.vander(hax.named(jnp.array([2.0, 3.0]), "x"), hax.Axis("power", 3))
        >>> v.shape, v.array.tolist()
        ({'x': 2, 'power': 3}, [[4.0, 2.0, 1.0], [9.0, 3.0, 1.0]])
    """
    require_named("vander", x)
    N: int | None
    if isinstance(degree, (Axis, str)):
        if new_axis is not None:
            raise ConflictingOptionsError(
                f"vander: give the new axis once, as degree={degree!r} or new_axis={new_axis!r}"
            )
        new_axis = degree
        N = degree.size if isinstance(degree, Axis) else None
    else:
        N = degree
    if N is None:
        if len(x.axes) != 1:
            raise NamedTypeError(
                f"vander: pass the number of powers (or a sized Axis) when x has more than one axis, "
                f"got {format_shape(x.axes)}"
            )
        N = x.axes[0].size
    name = _new_axis_name(new_axis)
    if len(x.axes) == 1:
        out = jnp.vander(x.array, N, increasing=increasing)
    else:
        powers = jnp.arange(N) if increasing else jnp.arange(N - 1, -1, -1)
        out = jnp.power(x.array[..., None], powers.reshape((1,) * x.array.ndim + (N,)))
    return NamedArray._new(out, (*x.axes, Axis(name, N)))
