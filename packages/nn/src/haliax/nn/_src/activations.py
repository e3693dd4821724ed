"""Activation functions over NamedArrays: elementwise, so the result keeps the input's axes.

Each is the ``jax.nn`` function of the same name applied to ``.array``; raw arrays pass straight
through to it. The smooth composite ones (gelu, silu/swish, quick_gelu, elu, celu, selu,
softplus, log_sigmoid, soft_sign, relu_squared, hard_silu/hard_swish) compute the same values with
a leaner derivative: their JVP is ``f'(x) * t`` with ``f'(x)`` computed in the forward pass, so
reverse mode keeps one tensor per call for the backward pass instead of every intermediate of
the formula (``jax.nn.gelu`` keeps six input-sized tensors). In a scanned transformer that is
four fewer MLP-width tensors written and read back per layer. Forward and higher-order
derivatives work as before.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Protocol, overload

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from haliax import NamedArray
from haliax.axis import AxisSelector
from haliax.errors import AxisSizeError
from haliax.extend import axis_positions, named_unchecked

_MODULE = "haliax.nn.activations"


class Activation(Protocol):
    """An elementwise activation: ``f(x, *args, **kwargs)`` with the input's axes kept.

    A NamedArray gives a NamedArray; an unnamed array or scalar gives the ``jax.nn`` result.
    """

    @overload
    def __call__(self, x: NamedArray, /, *args: Any, **kwargs: Any) -> NamedArray: ...
    @overload
    def __call__(self, x: ArrayLike, /, *args: Any, **kwargs: Any) -> jax.Array: ...


def _activation(fn: Callable[..., Any], name: str, summary: str) -> Activation:
    def op(x: Any, /, *args: Any, **kwargs: Any) -> Any:
        if isinstance(x, NamedArray):
            return named_unchecked(fn(x.array, *args, **kwargs), x.axes)
        return fn(x, *args, **kwargs)

    op.__name__ = op.__qualname__ = name
    op.__module__ = _MODULE
    op.__doc__ = f"{summary}\n\nApplied elementwise; the result keeps the input's axes."
    return op


def _lean_derivative(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` (elementwise in its first argument) with a JVP that keeps one residual, ``fn'(x)``.

    Extra arguments must be Python scalars, strings or None (``approximate=``, ``alpha=``); with
    anything else (an array ``alpha``) the call falls back to ``fn`` itself.
    """

    @functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
    def lean(x: Any, params: tuple[tuple[Any, ...], tuple[tuple[str, Any], ...]]) -> Any:
        args, kwargs = params
        return fn(x, *args, **dict(kwargs))

    @lean.defjvp
    def lean_jvp(params: Any, primals: tuple[Any], tangents: tuple[Any]) -> tuple[Any, Any]:
        args, kwargs = params
        (x,), (t,) = primals, tangents
        y, slope = jax.jvp(lambda v: fn(v, *args, **dict(kwargs)), (x,), (jnp.ones_like(x),))
        return y, slope * t

    static = (bool, int, float, str, type(None))
    compiled = jax.jit(lean, static_argnums=(1,))  # one dispatch when called eagerly, as jax.nn's are

    def call(x: Any, *args: Any, **kwargs: Any) -> Any:
        if not all(isinstance(a, static) for a in (*args, *kwargs.values())):
            return fn(x, *args, **kwargs)
        dtype = x.dtype if hasattr(x, "dtype") else jnp.result_type(x)  # result_type only for scalars
        if not jnp.issubdtype(dtype, jnp.floating):
            return fn(x, *args, **kwargs)  # integers, complex numbers: jax.nn's own derivative
        return compiled(x, (args, tuple(sorted(kwargs.items()))))

    return call


def _relu_squared(x: Any) -> Any:
    r = jax.nn.relu(x)
    return r * r


def _quick_gelu(x: Any) -> Any:
    return x * jax.nn.sigmoid(1.702 * x)


celu = _activation(
    _lean_derivative(jax.nn.celu), "celu", "Continuously differentiable ELU (`jax.nn.celu`; `alpha` option)."
)
elu = _activation(
    _lean_derivative(jax.nn.elu), "elu", "Exponential linear unit (`jax.nn.elu`; `alpha` option)."
)
gelu = _activation(
    _lean_derivative(jax.nn.gelu), "gelu", "GELU (`jax.nn.gelu`); `approximate=True` (tanh form) by default."
)
hard_sigmoid = _activation(
    jax.nn.hard_sigmoid, "hard_sigmoid", "Piecewise-linear sigmoid `relu6(x + 3) / 6`."
)
hard_silu = _activation(_lean_derivative(jax.nn.hard_silu), "hard_silu", "`x * hard_sigmoid(x)`.")
hard_swish = _activation(
    _lean_derivative(jax.nn.hard_swish), "hard_swish", "Hard swish (same function as `hard_silu`)."
)
hard_tanh = _activation(jax.nn.hard_tanh, "hard_tanh", "Clip to [-1, 1].")
leaky_relu = _activation(
    jax.nn.leaky_relu, "leaky_relu", "Leaky ReLU (`negative_slope` option, default 0.01)."
)
log_sigmoid = _activation(
    _lean_derivative(jax.nn.log_sigmoid), "log_sigmoid", "`log(sigmoid(x))`, computed stably."
)
quick_gelu = _activation(_lean_derivative(_quick_gelu), "quick_gelu", "Quick GELU: `x * sigmoid(1.702 * x)`.")
relu = _activation(jax.nn.relu, "relu", "Rectified linear unit: `max(x, 0)`.")
relu6 = _activation(jax.nn.relu6, "relu6", "`min(max(x, 0), 6)`.")
relu_squared = _activation(_lean_derivative(_relu_squared), "relu_squared", "`relu(x) ** 2`.")
selu = _activation(_lean_derivative(jax.nn.selu), "selu", "Scaled exponential linear unit.")
sigmoid = _activation(jax.nn.sigmoid, "sigmoid", "Logistic sigmoid `1 / (1 + exp(-x))`.")
silu = _activation(_lean_derivative(jax.nn.silu), "silu", "`x * sigmoid(x)`.")
soft_sign = _activation(_lean_derivative(jax.nn.soft_sign), "soft_sign", "`x / (1 + |x|)`.")
softplus = _activation(_lean_derivative(jax.nn.softplus), "softplus", "`log(1 + exp(x))`, computed stably.")
swish = _activation(_lean_derivative(jax.nn.swish), "swish", "`x * sigmoid(x)` (same function as `silu`).")


def glu(x: NamedArray, axis: AxisSelector) -> NamedArray:
    """Gated linear unit along ``axis``: first half times sigmoid of the second half.

    Unlike Haliax 1.4 (whose result kept the input's axes and so failed its own shape check),
    the result has ``axis`` at half its size.

    Examples:
        >>> import haliax as hax, haliax.nn as hnn
        >>> H = hax.Axis("hidden", 4)
        >>> hnn.activations.glu(hax.ones(H), H).shape
        {'hidden': 2}
    """
    (pos,) = axis_positions("glu", x, axis)
    ax = x.axes[pos]
    if ax.size % 2:
        raise AxisSizeError(
            f"glu: axis {ax.name!r} has odd size {ax.size}; glu splits it into two equal halves"
        )
    out_axes = (*x.axes[:pos], ax.resize(ax.size // 2), *x.axes[pos + 1 :])
    return named_unchecked(jax.nn.glu(x.array, axis=pos), out_axes)
