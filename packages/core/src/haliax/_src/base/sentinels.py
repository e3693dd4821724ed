"""Sentinel values and string-constant classes: `Unspecified`, `UNSPECIFIED`, `StringHolderEnum`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


class Unspecified:
    """The type of `UNSPECIFIED`: "this argument was not given", distinct from ``None``."""

    _instance: Unspecified | None = None

    def __new__(cls) -> Unspecified:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSPECIFIED"

    def __reduce__(self) -> str:
        return "UNSPECIFIED"


UNSPECIFIED = Unspecified()


class StringHolderEnum(type):
    """Metaclass for a class of string constants that iterates, and answers ``in``, like an enum.

    Examples:
        >>> from haliax.util import StringHolderEnum
        >>> class Mode(metaclass=StringHolderEnum):
        ...     TRAIN = "train"
        ...     EVAL = "eval"
        >>> sorted(Mode), "eval" in Mode
        (['eval', 'train'], True)
    """

    def _members(cls) -> list[str]:
        return [v for k, v in vars(cls).items() if not k.startswith("_") and isinstance(v, str)]

    def __iter__(cls) -> Iterator[str]:
        return iter(cls._members())

    def __contains__(cls, item: Any) -> bool:
        return item in cls._members()

    def __len__(cls) -> int:
        return len(cls._members())
