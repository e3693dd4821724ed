"""Interleaved named-vs-positional timing: the one measuring loop every benchmark uses.

These machines are shared and noisy, so absolute times mean little. Each case runs its named and
positional variants alternately in one process after warm-up, and reports the medians and the
median of the per-round ratios.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Result:
    name: str
    named_us: float
    positional_us: float
    ratio: float
    target: float

    @property
    def ok(self) -> bool:
        return self.ratio <= self.target


def _time(fn: Callable[[], object], number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number * 1e6


def compare(
    name: str,
    named: Callable[[], object],
    positional: Callable[[], object],
    *,
    target: float,
    number: int = 200,
    rounds: int = 15,
) -> Result:
    """Median time of each variant (microseconds) and the median per-round ratio named/positional."""
    for _ in range(3):
        named()
        positional()
    named_t, pos_t, ratios = [], [], []
    for i in range(rounds):
        # Alternate which variant goes first so drift in machine load hits both alike.
        if i % 2:
            p = _time(positional, number)
            n = _time(named, number)
        else:
            n = _time(named, number)
            p = _time(positional, number)
        named_t.append(n)
        pos_t.append(p)
        ratios.append(n / p)
    return Result(
        name, statistics.median(named_t), statistics.median(pos_t), statistics.median(ratios), target
    )


def table(title: str, results: list[Result]) -> str:
    """A Markdown table of results."""
    lines = [
        f"### {title}",
        "",
        "| case | named (us) | positional (us) | ratio | target | ok |",
        "| --- | ---: | ---: | ---: | ---: | :---: |",
    ]
    for r in results:
        lines.append(
            f"| {r.name} | {r.named_us:.1f} | {r.positional_us:.1f} | {r.ratio:.2f} | {r.target:.2f} | "
            f"{'yes' if r.ok else 'NO'} |"
        )
    return "\n".join(lines)
