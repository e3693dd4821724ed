"""The dot_general protocol that `haliax.nn.Linear` calls, and its default implementation."""

from __future__ import annotations

from typing import Any, Protocol

from jax.typing import DTypeLike

from haliax.nn._src.linear import DefaultDotGeneralOp as DefaultDotGeneralOp


class DotGeneralOp(Protocol):
    """What a `Linear` holds as ``dot_general``: a callable with ``jax.lax.dot_general``'s signature.

    Implementations are Equinox modules (pytrees), so they can carry state such as fp8 scales:
    `DefaultDotGeneralOp` (plain ``jax.lax.dot_general``), `Fp8DotGeneralOp`, `Int8DotGeneralOp`.
    """

    def __call__(
        self,
        lhs: Any,
        rhs: Any,
        dimension_numbers: Any,
        precision: Any = None,
        preferred_element_type: DTypeLike | None = None,
    ) -> Any:
        """Contract ``lhs`` with ``rhs`` as ``jax.lax.dot_general`` does."""
        ...

    @staticmethod
    def default() -> DefaultDotGeneralOp:
        """The op used when none is given: `DefaultDotGeneralOp`."""
        return DefaultDotGeneralOp()
