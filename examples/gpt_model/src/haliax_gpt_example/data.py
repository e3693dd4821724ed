"""Byte-level text data for the GPT demo: an offline default corpus, a file loader, batching.

The default corpus is the prose of Python's own reference documentation (``pydoc_data.topics``),
which ships with every CPython, so the demo needs no download.
"""

from __future__ import annotations

import pathlib

import numpy as np


class DataError(ValueError):
    """The text given to the trainer cannot be used; the message says why and what to do."""


def default_corpus() -> str:
    """The offline corpus: Python's reference-documentation topics, in a fixed order."""
    from pydoc_data.topics import topics

    return "\n\n".join(topics[k] for k in sorted(topics))


def load_text(path: str | None) -> str:
    """The training text: ``path``'s contents, or the default corpus when ``path`` is None."""
    if path is None:
        return default_corpus()
    p = pathlib.Path(path)
    if not p.exists():
        raise DataError(f"--text: no such file: {path}")
    if p.is_dir():
        raise DataError(f"--text: {path} is a directory; give a text file")
    raw = p.read_bytes()
    if not raw.strip():
        raise DataError(f"--text: {path} is empty; give a file with some text in it")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DataError(
            f"--text: {path} is not UTF-8 text (byte {e.start} is {raw[e.start]:#04x}); "
            f"convert it first, e.g. iconv -f latin1 -t utf-8"
        ) from None


def encode(text: str) -> np.ndarray:
    """UTF-8 bytes as uint8 token ids (vocabulary size 256)."""
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


def decode(tokens: np.ndarray) -> str:
    """Token ids back to text (invalid UTF-8 sequences are replaced)."""
    return bytes(np.asarray(tokens, dtype=np.uint8).tolist()).decode("utf-8", errors="replace")


def split(tokens: np.ndarray, seq_len: int, eval_fraction: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Train and eval token streams; each must hold more than one sequence."""
    if len(tokens) <= 2 * (seq_len + 1):
        raise DataError(
            f"the text has {len(tokens)} bytes, too few for --seq-len {seq_len} "
            f"(need more than {2 * (seq_len + 1)}); use a shorter --seq-len or a longer text"
        )
    n_eval = max(int(len(tokens) * eval_fraction), seq_len + 2)
    return tokens[:-n_eval], tokens[-n_eval:]


def batches(tokens: np.ndarray, batch_size: int, seq_len: int, seed: int):
    """An endless stream of (batch, seq_len + 1) windows drawn at random offsets."""
    rng = np.random.default_rng(seed)
    high = len(tokens) - seq_len - 1
    while True:
        starts = rng.integers(0, high, size=batch_size)
        yield np.stack([tokens[s : s + seq_len + 1] for s in starts]).astype(np.int32)


def window_starts(n_tokens: int, batch_size: int, seq_len: int, seed: int, step: int) -> np.ndarray:
    """Where the ``batch_size`` windows of batch number ``step`` start in a stream of ``n_tokens``.

    A pure function of ``(seed, step)``: every process computes the same global batch without
    talking to the others, and a resumed run sees the data an uninterrupted one would have.
    """
    rng = np.random.default_rng([seed, step])
    return rng.integers(0, n_tokens - seq_len - 1, size=batch_size)


def windows(tokens: np.ndarray, starts: np.ndarray, seq_len: int) -> np.ndarray:
    """The ``(len(starts), seq_len + 1)`` int32 windows of ``tokens`` beginning at ``starts``."""
    if len(starts) == 0:
        return np.zeros((0, seq_len + 1), np.int32)
    return np.stack([tokens[s : s + seq_len + 1] for s in starts]).astype(np.int32)
