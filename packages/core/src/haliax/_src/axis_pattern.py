"""The tokenizer shared by the string forms of `einsum` and `rearrange`.

A pattern is made of axis names (``batch``, ``kv_heads``), ``...``, ``->``, and the punctuation
``( ) { } : ,``. Every token keeps its 1-based column so that errors can point at it.
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

from .errors import PatternError

_TOKEN = re.compile(r"(?P<ellipsis>\.\.\.)|(?P<arrow>->)|(?P<name>\w+)|(?P<punct>[(){}:,])|(?P<space>\s+)")


class Token(NamedTuple):
    """One token of a pattern: its kind (``name``, ``...``, ``->`` or the punctuation itself)."""

    kind: str
    text: str
    col: int


@functools.lru_cache(maxsize=1024)
def tokenize(op: str, pattern: str) -> tuple[Token, ...]:
    """Split ``pattern`` into tokens; an unknown character is an error naming its column."""
    out: list[Token] = []
    pos = 0
    while pos < len(pattern):
        m = _TOKEN.match(pattern, pos)
        if m is None:
            raise pattern_error(op, pattern, pos + 1, f"unexpected character {pattern[pos]!r}")
        kind = m.lastgroup
        if kind == "name":
            out.append(Token("name", m.group(), pos + 1))
        elif kind == "ellipsis":
            out.append(Token("...", "...", pos + 1))
        elif kind == "arrow":
            out.append(Token("->", "->", pos + 1))
        elif kind == "punct":
            out.append(Token(m.group(), m.group(), pos + 1))
        pos = m.end()
    return tuple(out)


def split_arrow(
    op: str, pattern: str, tokens: tuple[Token, ...]
) -> tuple[tuple[Token, ...], tuple[Token, ...]]:
    """The tokens left and right of the one ``->``."""
    arrows = [i for i, t in enumerate(tokens) if t.kind == "->"]
    if not arrows:
        raise PatternError(f"{op}: the pattern {pattern!r} has no '->'; write it as 'inputs -> outputs'")
    if len(arrows) > 1:
        raise pattern_error(op, pattern, tokens[arrows[1]].col, "a second '->'")
    i = arrows[0]
    return tokens[:i], tokens[i + 1 :]


def pattern_error(op: str, pattern: str, col: int, what: str) -> PatternError:
    """A `PatternError` pointing at a column: ``op: in 'a b) -> a' at column 4: <what>``."""
    return PatternError(f"{op}: in {pattern!r} at column {col}: {what}")
