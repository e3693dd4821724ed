"""`assert_clear_error` and `ErrorCase`: pin that bad calls fail the way haliax promises errors fail."""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
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


@dataclasses.dataclass(frozen=True)
class ErrorCase:
    """One row of an error catalogue: a bad call and how it must fail (see `assert_clear_error`).

    Attributes:
        name: the case's id in test reports.
        call: the bad call, taking no arguments.
        error: the typed error class it must raise.
        op: the op name the message must start with: the op the user called.
        mentions: strings the message must contain (quoted axis names, keys, sizes).
        context: a context-manager factory the call runs in (e.g. a mesh), if any.
        builtin: a builtin the error must also be an instance of (the one code written against
            plain Python or Haliax catches), when it matters.

    Examples:
        >>> import haliax as hax
        >>> from haliax.errors import AxisNotFoundError
        >>> from haliax.testing import ErrorCase
        >>> x = hax.zeros({"batch": 2})
        >>> case = ErrorCase("sum-typo", lambda: hax.sum(x, "btach"), AxisNotFoundError, "sum", ["'btach'"])
        >>> type(case.check()).__name__
        'AxisNotFoundError'
    """

    name: str
    call: Callable[[], Any]
    error: type[BaseException]
    op: str
    mentions: Sequence[str] = ()
    context: Callable[[], AbstractContextManager[Any]] | None = None
    builtin: type[BaseException] | None = None

    def check(self, forbidden: Sequence[str] = ()) -> BaseException:
        """Run the call (in ``context``) and assert it fails clearly; return the error."""
        with self.context() if self.context is not None else contextlib.nullcontext():
            err = assert_clear_error(
                self.call, self.error, op=self.op, mentions=self.mentions, forbidden=forbidden
            )
        if self.builtin is not None and not isinstance(err, self.builtin):
            raise AssertionError(f"{type(err).__name__} is not a {self.builtin.__name__}: {err}")
        return err
