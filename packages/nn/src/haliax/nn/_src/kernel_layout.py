"""The layout fused attention kernels take, ``[batch, seq, heads, head_dim]``, to and from named arrays.

The query's axes other than its position and head-dim axes are batch axes; the last of them
(usually the heads axis) becomes ``heads``. Used by the fused kernels and by the context-parallel
ring, which runs its blocks on the same layout.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from haliax import NamedArray
from haliax.axis import Axis
from haliax.extend import named_unchecked


@dataclasses.dataclass(frozen=True)
class KernelLayout:
    """Which named axes fold into a kernel's batch and heads dimensions."""

    batch: tuple[Axis, ...]
    heads: Axis | None
    Key: Axis

    @staticmethod
    def of_query(query: NamedArray, QPos: Axis, Key: Axis) -> KernelLayout:
        """The layout of ``query``: every axis but ``QPos`` and ``Key`` is batch, the last one heads."""
        others = tuple(ax for ax in query.axes if ax.name not in (QPos.name, Key.name))
        return KernelLayout(others[:-1], others[-1] if others else None, Key)

    @property
    def tail(self) -> tuple[Axis, ...]:
        """The heads axis, or nothing."""
        return (self.heads,) if self.heads is not None else ()

    def to_kernel(self, x: NamedArray, Seq: Axis) -> Any:
        """``x`` (broadcast to batch, ``Seq``, heads, Key) as a ``[B, T, N, H]`` array."""
        raw = x.broadcast_to((*self.batch, Seq, *self.tail, self.Key)).array
        return raw.reshape(math.prod(ax.size for ax in self.batch), Seq.size, self.N, self.Key.size)

    def from_kernel(self, raw: Any, QPos: Axis) -> NamedArray:
        """A kernel's ``[B, T, N, H]`` output with its named axes back (batch, ``QPos``, heads, Key)."""
        axes = (*self.batch, QPos, *self.tail, self.Key)
        return named_unchecked(raw.reshape(tuple(ax.size for ax in axes)), axes)

    @property
    def N(self) -> int:
        """The kernel's heads dimension (1 without a heads axis)."""
        return self.heads.size if self.heads is not None else 1
