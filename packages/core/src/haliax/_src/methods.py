"""NamedArray's op-backed methods: one table, installed on the class once every op module exists.

`named_array` defines the class from the layers below it only (axes, errors, validation) and
declares these methods for type checkers; this module, the top of the layer order, binds them. A
method is the public op itself wherever the op takes the array first (``x.sum`` *is* ``hax.sum``,
so ``help(x.sum)`` shows its docstring and a call costs no extra frame); reflected operators swap
their operands.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .base import display, haxtyping
from .base.named_array import NamedArray, NamedArrayMeta
from .contractions import dot
from .indexing import at, index
from .ops import broadcast, matrix, rearrange, reductions, select, shape, ufuncs

_METHODS: dict[str, Callable[..., Any]] = {
    # shape manipulation
    "rename": shape.rename,
    "rearrange": rearrange.rearrange,
    "broadcast_to": broadcast.broadcast_to,
    "broadcast_axis": broadcast.broadcast_axis,
    "split": shape.split,
    "flatten_axes": shape.flatten_axes,
    "unflatten_axis": shape.unflatten_axis,
    "ravel": shape.ravel,
    "flatten": shape.ravel,
    "unbind": shape.unbind,
    "roll": shape.roll,
    # indexing
    "slice": index.slice,
    "updated_slice": index.updated_slice,
    "take": index.take,
    "__getitem__": index.index,
    # reductions and axis-wise ops
    **{
        name: getattr(reductions, name)
        for name in (
            [
                "all",
                "any",
                "max",
                "min",
                "sum",
                "mean",
                "prod",
                "ptp",
                "std",
                "var",
                "argmax",
                "argmin",
                "cumsum",
                "cumprod",
                "sort",
                "argsort",
            ]
        )
    },
    "product": reductions.prod,
    "trace": matrix.trace,
    "clip": select.clip,
    # elementwise
    "conj": ufuncs.conj,
    "conjugate": ufuncs.conjugate,
    "round": ufuncs.round,
    "dot": dot.dot,
    # display and annotations
    "matches_axes": haxtyping.matches_axes,
    "__repr__": display.named_array_repr,
    "__treescope_repr__": display.treescope_repr,
    "__treescope_ndarray_adapter__": display.treescope_ndarray_adapter,
    "__pdoc__": display.named_array_pdoc,
}

# Operators: ``x <op> y`` is the elementwise op; the reflected form swaps operands.
_BINARY_OPERATORS = {
    "add": "add",
    "sub": "subtract",
    "mul": "multiply",
    "truediv": "true_divide",
    "floordiv": "floor_divide",
    "mod": "mod",
    "divmod": "divmod",
    "pow": "power",
    "and": "bitwise_and",
    "or": "bitwise_or",
    "xor": "bitwise_xor",
    "lshift": "left_shift",
    "rshift": "right_shift",
}
_COMPARISONS = {
    "lt": "less",
    "le": "less_equal",
    "gt": "greater",
    "ge": "greater_equal",
    "eq": "equal",
    "ne": "not_equal",
}
_UNARY_OPERATORS = {"neg": "negative", "pos": "positive", "abs": "absolute", "invert": "invert"}


def _reflected(op: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def method(self: NamedArray, other: Any) -> Any:
        return op(other, self)

    method.__name__ = method.__qualname__ = f"reflected {op.__name__}"
    method.__doc__ = f"``other <op> self``: {op.__name__} with the operands swapped."
    return method


def install() -> None:
    """Bind every op-backed method on `NamedArray` (idempotent)."""
    for name, fn in _METHODS.items():
        setattr(NamedArray, name, fn)
    for dunder, op_name in _BINARY_OPERATORS.items():
        op = getattr(ufuncs, op_name)
        setattr(NamedArray, f"__{dunder}__", op)
        setattr(NamedArray, f"__r{dunder}__", _reflected(op))
    for dunder, op_name in _COMPARISONS.items():
        setattr(NamedArray, f"__{dunder}__", getattr(ufuncs, op_name))
    for dunder, op_name in _UNARY_OPERATORS.items():
        setattr(NamedArray, f"__{dunder}__", getattr(ufuncs, op_name))
    NamedArray.real = property(ufuncs.real, doc="Real part.")  # type: ignore[method-assign,assignment]
    NamedArray.imag = property(ufuncs.imag, doc="Imaginary part.")  # type: ignore[method-assign,assignment]
    NamedArray.at = property(at.AtIndexer, doc="Functional updates by name: ``x.at['batch', 0].set(1.0)``.")  # type: ignore[method-assign,assignment]
    NamedArrayMeta.__getitem__ = haxtyping.named_annotation  # type: ignore[method-assign,assignment]


install()
