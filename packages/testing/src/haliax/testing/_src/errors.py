"""`assert_clear_error`: pin that a bad call fails the way haliax promises errors fail."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from haliax.errors import HaliaxError

E = TypeVar("E", bound=BaseException)

# What a printed array looks like: jax/numpy reprs, or a run of several numbers in brackets.
_ARRAY_TEXT = re.compile(r"Array\(|array\(|\[\s*-?\d+(\.\d+)?([eE][-+]?\d+)?(\s*,?\s+-?\d+(\.\d+)?){2,}")


def assert_clear_error(
    call: Callable[[], Any],
    error: type[E],
    *,
    op: str,
    mentions: Sequence[str] = (),
    forbidden: Sequence[str] = (),
) -> E:
    """Call ``call`` and check that it fails clearly; return the error.

    A clear error is an instance of ``error`` and of `haliax.errors.HaliaxError` whose message
    starts with ``op`` (the op the user called) followed by ``:`` or `` (``, contains every
    string of ``mentions`` (axis names, keys, sizes), and shows no array values: neither a printed
    array nor any string of ``forbidden`` (e.g. a distinctive value the inputs hold).

    Examples:
        >>> import haliax as hax
        >>> from haliax.testing import assert_clear_error
        >>> x = hax.zeros({"batch": 2, "embed": 3})
        >>> err = assert_clear_error(lambda: hax.sum(x, "embd"), ValueError, op="sum", mentions=["'embd'"])
        >>> type(err).__name__
        'AxisNotFoundError'
    """
    try:
        call()
    except BaseException as e:
        caught: BaseException = e
    else:
        raise AssertionError(f"expected {error.__name__} from {op}, but the call returned normally")
    if not isinstance(caught, error):
        raise AssertionError(
            f"expected {error.__name__} from {op}, got {type(caught).__name__}: {caught}"
        ) from caught
    if not isinstance(caught, HaliaxError):
        raise AssertionError(f"{type(caught).__name__} is not a haliax error: {caught}") from caught
    message = str(caught)
    if not (message.startswith(f"{op}:") or message.startswith(f"{op} (")):
        raise AssertionError(f"the message does not start with the op name {op!r}: {message}")
    missing = [m for m in mentions if m not in message]
    if missing:
        raise AssertionError(f"the message does not mention {missing}: {message}")
    shown = [f for f in forbidden if f in message]
    if shown or _ARRAY_TEXT.search(message):
        raise AssertionError(f"the message shows array values {shown or ''}: {message}")
    return caught
