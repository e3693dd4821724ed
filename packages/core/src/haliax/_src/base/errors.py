"""Every error haliax raises, and the helpers that word their messages.

Messages follow one pattern: the op name first, axis names quoted, arrays shown as named shapes
(``{batch: 4, embed: 3}``, never values), then a suggested fix where one exists. Each class
subclasses a builtin so ``except ValueError`` keeps working.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable, Iterable
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class HaliaxError(Exception):
    """Base class of every error haliax raises on purpose."""


class AxisNotFoundError(HaliaxError, ValueError):
    """An op was asked for an axis its input does not have."""


class AxisSizeError(HaliaxError, ValueError):
    """Two axes share a name but not a size, or a size does not fit."""


class DuplicateAxisError(HaliaxError, ValueError):
    """An axis name appears twice where names must be unique."""


class BroadcastError(HaliaxError, ValueError):
    """Operands cannot be broadcast by name (disjoint axes, or conflicting sizes)."""


class ShapeMismatchError(HaliaxError, ValueError):
    """A raw array's shape does not match the axes it is given."""


class NamedIndexError(HaliaxError, IndexError, ValueError):
    """A named index is malformed or out of range (also a ValueError, which Haliax raises there)."""


class NamedTypeError(HaliaxError, TypeError):
    """A value of the wrong kind was passed where a NamedArray, axis or index was expected."""


class UnsupportedIndexError(HaliaxError, NotImplementedError):
    """An indexing combination that is well defined but not implemented (an index of a staged index array)."""


class RegistryError(HaliaxError, LookupError):
    """A registry lookup failed, or two plugins claim one name."""


def format_shape(axes: Iterable[Any]) -> str:
    """Render axes as a named shape: ``{batch: 4, embed: 3}``."""
    parts = []
    for ax in axes:
        name = getattr(ax, "name", ax)
        size = getattr(ax, "size", None)
        parts.append(f"{name}: {size}" if size is not None else f"{name}: ?")
    return "{" + ", ".join(parts) + "}"


def format_names(names: Iterable[Any]) -> str:
    """Render axis names quoted and comma separated: ``'batch', 'embed'``."""
    return ", ".join(repr(getattr(n, "name", n)) for n in names)


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """A ``"; did you mean 'x'?"`` suffix when a close match exists, else ``""``."""
    matches = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"; did you mean {matches[0]!r}?" if matches else ""


def axis_not_found(op: str, missing: Iterable[Any], axes: Iterable[Any]) -> AxisNotFoundError:
    """The error for axes that ``op`` needs but the array lacks."""
    axes = tuple(axes)
    missing = tuple(getattr(m, "name", m) for m in missing)
    names = [getattr(a, "name", a) for a in axes]
    hint = did_you_mean(missing[0], names) if len(missing) == 1 else ""
    noun = "axis" if len(missing) == 1 else "axes"
    return AxisNotFoundError(f"{op}: {noun} {format_names(missing)} not found in {format_shape(axes)}{hint}")


def axis_size_mismatch(op: str, name: str, size_a: int | None, size_b: int | None) -> AxisSizeError:
    """The error for one axis name seen with two sizes."""
    return AxisSizeError(
        f"{op}: axis {name!r} has size {size_a} in one place and {size_b} in another; "
        f"axes that share a name must share a size (rename one of them, e.g. with .rename)"
    )


class PartitioningError(HaliaxError, ValueError):
    """An axis mapping does not fit the mesh or the array (unknown or reused mesh axis, no mesh, a size it does not divide)."""


class PatternError(HaliaxError, ValueError):
    """An einsum or rearrange pattern that does not parse, or does not fit its arrays."""


class StateDictError(HaliaxError, ValueError):
    """A state dict does not fit its template: a missing or extra key, or a shape mismatch."""


class MissingKeyError(StateDictError, KeyError):
    """A key the template needs is not in the state dict (a `KeyError` too, as in Haliax)."""

    __str__ = StateDictError.__str__  # KeyError's own __str__ would show the message quoted


class LayerStackError(HaliaxError, ValueError):
    """A stack of layers (`Stacked`, `BlockSeq`) used in a way it cannot run: an ``unroll`` below 1, a scan step that does not return ``(carry, output)``."""


class ConflictingOptionsError(HaliaxError, TypeError, ValueError):
    """Two arguments that cannot be given together (``axis_names`` on a ``static=True`` field)."""


class NoMatchError(HaliaxError, LookupError, ValueError):
    """A search found no element that satisfies its condition (``index_where``)."""


class DTypeError(HaliaxError, TypeError, ValueError):
    """An array of a dtype the op cannot use (a non-boolean ``where=`` mask); a ValueError too, as jax raises there."""


class MissingFileError(HaliaxError, FileNotFoundError):
    """A file an op was asked to read does not exist (``load_state_dict`` on a wrong path)."""


class ValueRangeError(HaliaxError, ValueError):
    """A number outside the range an op accepts (a dropout probability outside ``[0, 1]``)."""


class QuantizationError(HaliaxError, ValueError):
    """A quantization config that does not fit the model: a target matching no Linear, a non-Linear target."""


# Tracebacks and docs show the public path (haliax.errors.AxisNotFoundError), not this module's.
def _rehome_error_classes() -> None:
    for cls in [c for c in list(globals().values()) if isinstance(c, type) and issubclass(c, HaliaxError)]:
        cls.__module__ = "haliax.errors"


_rehome_error_classes()


# ----- the op a user called -----
# An op built from other ops (a loss from `multiply`, `mean(where=)` from `broadcast_to`) must
# report errors under its own name. Instead of a try/except in each such op, it runs its body
# under `reported_as(op)` (or is decorated with `reports_as(op)`): a HaliaxError raised inside is
# re-worded to start with the outer op's name. Nested uses keep the outermost name. Nothing is
# done on the success path but entering a `try` block, which costs nothing in CPython 3.11+.


def reword(error: HaliaxError, op: str) -> HaliaxError:
    """``error`` re-worded to start with ``op``: the `reported_as` rule, for an ``except`` on a hot path."""
    message = str(error.args[0]) if error.args else ""
    if message.startswith(f"{op}:"):
        return error
    head, sep, rest = message.partition(": ")
    # Replace the inner op's name (a word without spaces before the first ': ') by the outer one.
    body = rest if sep and " " not in head.strip() else message
    error.args = (f"{op}: {body}", *error.args[1:])
    return error


class reported_as:
    """Context manager: HaliaxErrors raised inside start with ``op``, the op the user called.

    Examples:
        >>> from haliax.errors import AxisNotFoundError
        >>> from haliax.extend import reported_as
        >>> try:
        ...     with reported_as("cross_entropy_loss"):
        ...         raise AxisNotFoundError("multiply: axis 'vocab' not found in {batch: 4}")
        ... except AxisNotFoundError as e:
        ...     print(e)
        cross_entropy_loss: axis 'vocab' not found in {batch: 4}
    """

    __slots__ = ("op",)

    def __init__(self, op: str):
        self.op = op

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        # Returning None lets the exception propagate, and tells type checkers it always does.
        if isinstance(exc, HaliaxError):
            reword(exc, self.op)


def reports_as(op: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorator form of `reported_as`: the function's HaliaxErrors carry ``op`` as the op name."""

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return fn(*args, **kwargs)
            except HaliaxError as e:
                raise reword(e, op) from e.__cause__

        return wrapper

    return decorate
