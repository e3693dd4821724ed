"""The parser shared by the string forms of `einsum` and `rearrange`.

A *side* of a pattern is a list of captures, either ordered (matched to an array's axes by
position) or unordered (inside ``{ }``, matched by name; commas there are separators)::

    side    := '{' capture* '}'  |  capture*
    capture := ident  |  '...'  |  '(' [ident ':'] ident+ ')'
    ident   := a word not starting with a digit  |  a quoted string ('b c' or "b c", \\ escapes)

A rearrangement is ``side '->' side``; an einsum is ``side (',' side)* '->' side``. Every capture
keeps its 0-based character range so that errors can point at it (messages count columns from 1).
"""

from __future__ import annotations

import dataclasses
import re
from types import EllipsisType

from ..base.errors import PatternError

_WORD = re.compile(r"\w+")


def pattern_error(
    op: str, text: str, what: str, col: int | None = None, kind: type[Exception] = PatternError
) -> Exception:
    """``kind("{op}: in {text!r} at column {col}: {what}")``; without ``col``, no column."""
    where = f"in {text!r}" + ("" if col is None else f" at column {col}")
    return kind(f"{op}: {where}: {what}")


@dataclasses.dataclass(frozen=True, slots=True)
class AxisCapture:
    """One captured item: ``name``, ``(a b)`` or ``(name: a b)``.

    ``binding`` is the name before ``:`` (for a bare name, the name itself; None for ``(a b)``);
    ``axes`` are the names inside the group (for a bare name, just that name).
    """

    binding: str | None
    axes: tuple[str, ...]
    char_range: tuple[int, int]

    @property
    def col(self) -> int:
        """The 1-based column where the capture starts."""
        return self.char_range[0] + 1

    @property
    def is_group(self) -> bool:
        """Whether the capture was written with parentheses (and so is not a plain name)."""
        return self.binding is None or len(self.axes) != 1 or self.axes[0] != self.binding


@dataclasses.dataclass(frozen=True, slots=True)
class Expression:
    """One side of a pattern: its captures (``...`` as `Ellipsis`) and whether order matters."""

    captures: tuple[AxisCapture | EllipsisType, ...]
    is_ordered: bool
    char_range: tuple[int, int] = (0, 0)

    @property
    def has_ellipsis(self) -> bool:
        """Whether the side contains ``...``."""
        return any(c is Ellipsis for c in self.captures)


class _Reader:
    """A cursor over a pattern; every error it raises names the op and points at a column."""

    def __init__(self, op: str, pattern: str):
        self.op = op
        self.text = pattern
        self.pos = 0

    def error(self, what: str, at: int | None = None) -> Exception:
        return pattern_error(
            self.op, self.text, what, min(self.pos if at is None else at, len(self.text)) + 1
        )

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def at_arrow(self) -> bool:
        return self.text.startswith("->", self.pos)

    def skip_space(self, commas: bool = False) -> None:
        while self.pos < len(self.text) and (
            self.text[self.pos].isspace() or (commas and self.peek() == ",")
        ):
            self.pos += 1

    def quoted(self) -> str:
        quote, start = self.peek(), self.pos
        self.pos += 1
        chars: list[str] = []
        while True:
            c = self.peek()
            if not c:
                raise self.error(f"Unexpected end of string: the quote {quote} is never closed", start)
            self.pos += 1
            if c == quote:
                break
            if c == "\\":
                if not self.peek():
                    raise self.error("Unexpected end of string after '\\'")
                c = self.peek()
                self.pos += 1
            chars.append(c)
        if not chars:
            raise self.error(
                "Empty strings are not valid identifiers; write a name between the quotes", start
            )
        return "".join(chars)

    def ident(self) -> str:
        c = self.peek()
        if c in ("'", '"'):
            return self.quoted()
        m = _WORD.match(self.text, self.pos)
        if m is None:
            found = f"unexpected character {c!r}" if c else "the end of the pattern"
            raise self.error(f"Identifier expected, found {found}")
        if c.isdigit():
            raise self.error(f"Identifiers cannot start with a number: {m.group()!r}; quote it or rename it")
        self.pos = m.end()
        return m.group()

    def group(self) -> AxisCapture:
        start = self.pos
        self.pos += 1  # the '('
        binding: str | None = None
        names: list[str] = []
        while True:
            self.skip_space()
            c = self.peek()
            if not c:
                raise self.error("'(' is never closed; add ')'", start)
            if c == ")":
                self.pos += 1
                break
            if c == ":":
                if binding is not None:
                    raise self.error("Only one binding allowed per group: a second ':'")
                if len(names) != 1:
                    what = (
                        "cannot be empty" if not names else "must come before the axes, as in '(name: a b)'"
                    )
                    raise self.error(f"Binding {what}")
                binding = names.pop()
                self.pos += 1
                continue
            if c == "(":
                raise self.error("Only one level of nesting is allowed: '(' inside '( )'")
            if c == "}":
                raise self.error("Unexpected } inside '( )'")
            if c not in ("'", '"') and not _WORD.match(c):
                raise self.error(f"Unexpected character {c!r} inside '( )'")
            names.append(self.ident())
        if not names:
            raise self.error("No axes found in '( )'", start)
        return AxisCapture(binding, tuple(names), (start, self.pos))

    def side(self) -> Expression:
        """Read one side up to (not past) ``->``, a top-level ``,`` or the end."""
        self.skip_space()
        start = self.pos
        ordered = self.peek() != "{"
        if not ordered:
            self.pos += 1
        captures: list[AxisCapture | EllipsisType] = []
        while True:
            self.skip_space(commas=not ordered)
            c = self.peek()
            if not c or self.at_arrow() or (ordered and c == ","):
                if not ordered:
                    raise self.error("Expected } to close the '{' here", start)
                break
            if c == "}":
                if ordered:
                    raise self.error("Unexpected } without a matching '{'")
                self.pos += 1
                self.skip_space()
                if self.peek() and not self.at_arrow() and self.peek() != ",":
                    raise self.error(f"Unexpected character {self.peek()!r} after '}}'")
                break
            if c == "{":
                raise self.error("Unexpected { : braces must enclose a whole side")
            if self.text.startswith("...", self.pos):
                captures.append(Ellipsis)
                self.pos += 3
            elif c == "(":
                captures.append(self.group())
            elif c == "-":
                raise self.error("Expected '>' after '-' (write '->')")
            else:
                begin = self.pos
                name = self.ident()
                captures.append(AxisCapture(name, (name,), (begin, self.pos)))
        return Expression(tuple(captures), ordered, (start, self.pos))

    def arrow(self) -> None:
        if not self.peek():
            raise self.error("Unexpected end of string: expected '->' between the input and output sides")
        if not self.at_arrow():
            raise self.error(f"Expected '->', found {self.peek()!r}")
        self.pos += 2

    def finish(self) -> None:
        if self.pos != len(self.text):
            raise self.error(f"Unexpected character {self.peek()!r} after the output side")


def parse_rearrangement(expression: str, op: str = "rearrange") -> tuple[Expression, Expression]:
    """Parse ``lhs -> rhs`` into its two sides."""
    r = _Reader(op, expression)
    lhs = r.side()
    r.arrow()
    rhs = r.side()
    r.finish()
    return lhs, rhs


def parse_einsum(expression: str, op: str = "einsum") -> tuple[list[Expression], Expression]:
    """Parse ``spec, spec, ... -> out`` into the input sides and the output side.

    A pattern without ``->`` is an error (numpy's implicit output mode is not supported).
    """
    r = _Reader(op, expression)
    lhses = [r.side()]
    while r.peek() == ",":
        r.pos += 1
        lhses.append(r.side())
    r.arrow()
    rhs = r.side()
    r.finish()
    return lhses, rhs


def _parse_quoted_string(expression: str, pos: int, op: str = "rearrange") -> tuple[str, int]:
    """Read the quoted identifier starting at ``pos``; returns it and the position after its closing quote."""
    r = _Reader(op, expression)
    r.pos = pos
    if r.peek() not in ("'", '"'):
        raise r.error("Expected \" or ' to start a quoted name")
    return r.quoted(), r.pos
