"""Dropout: the function `dropout` and the module `Dropout`."""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp

from haliax import NamedArray
from haliax.axis import AxisSelection
from haliax.errors import HaliaxError, ValueRangeError
from haliax.extend import axis_positions, named_unchecked, require_named


class DropoutKeyError(HaliaxError, RuntimeError):
    """Dropout was asked to drop (not in inference mode, ``pdrop > 0``) without a PRNG key."""


def dropout(
    x: NamedArray,
    pdrop: float,
    broadcast_axes: AxisSelection | None = None,
    *,
    inference: bool,
    key: jax.Array | None = None,
) -> NamedArray:
    """Zero each element with probability ``pdrop`` and scale the kept ones by ``1 / (1 - pdrop)``.

    The mask is shared across ``broadcast_axes`` (e.g. drop whole channels). With ``inference``
    or ``pdrop == 0`` the input is returned unchanged; ``pdrop == 1`` gives zeros (no key needed).
    A ``pdrop`` outside ``[0, 1]`` is an error.

    Examples:
        >>> import jax, haliax as hax, haliax.nn as hnn
        >>> x = hax.ones(hax.Axis("embed", 4))
        >>> hnn.dropout(x, 0.5, inference=True) is x
        True
    """
    require_named("dropout", x)
    _check_pdrop("dropout", pdrop)
    if inference:
        return x
    if isinstance(pdrop, (int, float)) and pdrop == 0:
        return x
    if isinstance(pdrop, (int, float)) and pdrop == 1:
        return named_unchecked(jnp.zeros_like(x.array), x.axes)
    if key is None:
        raise DropoutKeyError(
            "dropout: pdrop > 0 and inference=False need a PRNG key; pass key=..., or inference=True"
        )
    shared = set(axis_positions("dropout", x, broadcast_axes)) if broadcast_axes is not None else set()
    mask_shape = tuple(1 if i in shared else ax.size for i, ax in enumerate(x.axes))
    q = 1.0 - pdrop
    keep = jax.random.bernoulli(key, q, mask_shape)
    keep = jnp.broadcast_to(keep, x.array.shape)
    return named_unchecked(jnp.where(keep, x.array / q, jnp.zeros((), x.dtype)).astype(x.dtype), x.axes)


def _check_pdrop(op: str, pdrop: Any) -> None:
    """A Python-number ``pdrop`` must be a probability (a traced one cannot be checked)."""
    if isinstance(pdrop, (int, float)) and not 0 <= pdrop <= 1:
        raise ValueRangeError(
            f"{op}: pdrop is the probability of dropping an element and must be in [0, 1], got {pdrop}"
        )


class Dropout(eqx.Module):
    """Dropout as a module: ``Dropout(pdrop, broadcast_axes=None, inference=False)``.

    ``__call__(x, *, inference=None, key=None)``: the call's ``inference`` overrides the field.
    Use ``eqx.nn.inference_mode(model)`` to switch a whole model to inference.
    """

    pdrop: float = eqx.field(static=True, default=0.5)
    broadcast_axes: AxisSelection | None = eqx.field(static=True, default=None)
    inference: bool = False

    def __post_init__(self) -> None:
        _check_pdrop("Dropout", self.pdrop)

    @property
    def is_active(self) -> bool:
        """Whether a call drops anything (and so needs a key): not in inference mode and ``pdrop > 0``."""
        return not self.inference and self.pdrop > 0

    def __call__(
        self, x: NamedArray, *, inference: bool | None = None, key: jax.Array | None = None
    ) -> NamedArray:
        """Apply dropout unless in inference mode or ``pdrop == 0``."""
        inference = self.inference if inference is None else inference
        return dropout(x, self.pdrop, self.broadcast_axes, inference=inference, key=key)
