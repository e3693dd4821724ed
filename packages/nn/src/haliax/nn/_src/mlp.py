"""`MLP`: a stack of `Linear` layers with an activation between them."""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Any

import equinox as eqx
import jax

from haliax import NamedArray
from haliax.axis import Axis, AxisSpec
from haliax.errors import ValueRangeError
from haliax.extend import reports_as

from .activations import relu
from .linear import Linear

DEFAULT_WIDTH_NAME = "mlp"


class MLP(eqx.Module):
    """Linear layers ``Input -> mlp -> mlp2 -> mlp -> ... -> Output`` with a static activation.

    ``depth`` counts hidden layers (``depth=0`` is one Linear). Hidden axes alternate between
    ``"mlp"`` and ``"mlp2"`` so consecutive weights never share an axis name.

    Examples:
        >>> import jax, haliax as hax, haliax.nn as hnn
        >>> In, Out = hax.Axis("embed", 4), hax.Axis("out", 2)
        >>> mlp = hnn.MLP.init(In, Out, width=8, depth=2, key=jax.random.PRNGKey(0))
        >>> mlp(hax.ones(In)).shape
        {'out': 2}
    """

    layers: Sequence[Linear]
    activation: Callable[[NamedArray], NamedArray] = eqx.field(static=True)

    @staticmethod
    @reports_as("MLP.init")
    def init(
        Input: AxisSpec,
        Output: AxisSpec,
        width: int | Axis,
        depth: int,
        activation: Callable[[NamedArray], NamedArray] = relu,
        *,
        out_first: bool = True,
        use_bias: bool = True,
        use_final_bias: bool = True,
        key: jax.Array,
        dot_general: Any = None,
        init_scale: float = 1.0,
    ) -> MLP:
        """An MLP with ``depth`` hidden layers of size ``width``."""
        if isinstance(depth, bool) or not isinstance(depth, numbers.Integral) or depth < 0:
            raise ValueRangeError(
                f"MLP.init: depth is the number of hidden layers and must be an integer >= 0, got {depth!r}; "
                f"pass depth=0 for a single Linear from Input to Output"
            )
        Width = width if isinstance(width, Axis) else Axis(DEFAULT_WIDTH_NAME, width)
        Width2 = Width.alias(Width.name + "2")
        keys = jax.random.split(key, depth + 1)

        def lin(i: int, In: AxisSpec, Out: AxisSpec, bias: bool) -> Linear:
            return Linear.init(
                In, Out, key=keys[i], use_bias=bias, out_first=out_first,
                dot_general=dot_general, init_scale=init_scale,
            )  # fmt: skip

        if depth == 0:
            return MLP((lin(0, Input, Output, use_final_bias),), activation)
        layers = [lin(0, Input, Width, use_bias)]
        for i in range(1, depth):
            a, b = (Width, Width2) if i % 2 == 1 else (Width2, Width)
            layers.append(lin(i, a, b, use_bias))
        last = Width if depth % 2 == 1 else Width2
        layers.append(lin(depth, last, Output, use_final_bias))
        return MLP(tuple(layers), activation)

    @property
    def In(self) -> AxisSpec:
        """The input axes."""
        return self.layers[0].In

    @property
    def Out(self) -> AxisSpec:
        """The output axes."""
        return self.layers[-1].Out

    @reports_as("MLP")
    def __call__(self, x: NamedArray, *, key: jax.Array | None = None) -> NamedArray:
        """Apply the layers with the activation after every layer but the last."""
        for layer in self.layers[:-1]:
            x = self.activation(layer(x))
        return self.layers[-1](x)
