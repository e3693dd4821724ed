"""GPT-2's byte-level BPE tokenizer from ``vocab.json`` + ``merges.txt``, in plain Python.

Text is split into words by GPT-2's pattern (contractions, runs of letters, of digits, of other
symbols, each with at most one leading space; whitespace), each word's UTF-8 bytes are spelled
with one printable character per byte, and the lowest-ranked adjacent pair in ``merges.txt`` is
merged until none applies. Ids come from ``vocab.json``. The pattern's ``\\p{L}`` and ``\\p{N}``
classes are rebuilt for Python's `re` from `unicodedata`, so no extra package is needed.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import re
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path

from haliax.errors import MissingFileError, StateDictError

END_OF_TEXT = "<|endoftext|>"


@functools.cache
def _byte_chars() -> tuple[str, ...]:
    """The printable character that stands for each byte 0..255 in GPT-2's vocabulary.

    Bytes that are already printable and not a space keep their Latin-1 character; the others
    (controls, space, 127-160, 173) take code points 256, 257, ... in byte order.
    """
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    kept = set(keep)
    chars, extra = [], 0
    for b in range(256):
        if b in kept:
            chars.append(chr(b))
        else:
            chars.append(chr(256 + extra))
            extra += 1
    return tuple(chars)


@functools.cache
def _word_pattern() -> re.Pattern[str]:
    # Python's \w is letters, numerics and '_'; \d is decimal digits only. The other numerics
    # (categories No and Nl: '²', '½', 'Ⅻ') are listed explicitly so letters and numbers split as
    # with \p{L} and \p{N}.
    other_numeric = "".join(
        re.escape(chr(c)) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) in ("No", "Nl")
    )
    number = rf"[\d{other_numeric}]"
    letter = rf"[^\W\d_{other_numeric}]"
    symbol = r"(?:[^\s\w]|_)"
    return re.compile(rf"'(?:s|t|re|ve|m|ll|d)| ?{letter}+| ?{number}+| ?{symbol}+|\s+(?!\S)|\s+")


class Gpt2Tokenizer:
    """Byte-level BPE: `encode` text to ids, `decode` ids to text; `save` writes the two files back."""

    def __init__(self, vocab: dict[str, int], merges: Sequence[tuple[str, str]]):
        self.vocab = dict(vocab)
        self.merges = [tuple(m) for m in merges]
        self._ranks = {pair: i for i, pair in enumerate(self.merges)}
        self._tokens = {i: t for t, i in vocab.items()}
        self._byte_of = {c: b for b, c in enumerate(_byte_chars())}
        missing = [c for c in _byte_chars() if c not in self.vocab]
        if missing:
            raise StateDictError(
                f"Gpt2Tokenizer: the vocabulary lacks {len(missing)} of the 256 byte tokens "
                f"(e.g. {missing[0]!r}); a byte-level BPE vocabulary must contain all of them"
            )
        self._special = [t for t in (END_OF_TEXT,) if t in self.vocab]

    @staticmethod
    def from_dir(model_dir: str | os.PathLike[str]) -> Gpt2Tokenizer:
        """Read ``vocab.json`` and ``merges.txt`` from a Hugging Face checkpoint directory."""
        d = Path(model_dir)
        if not (d / "vocab.json").exists() or not (d / "merges.txt").exists():
            raise MissingFileError(
                f"Gpt2Tokenizer.from_dir: {str(d)!r} has no vocab.json and merges.txt; save the tokenizer "
                f"there too (tokenizer.save_pretrained(dir)), or pass token ids instead of text"
            )
        vocab = json.loads((d / "vocab.json").read_text(encoding="utf-8"))
        merges = []
        for line in (d / "merges.txt").read_text(encoding="utf-8").splitlines():
            if line.startswith("#version") or not line.strip():
                continue
            left, right = line.split(" ")
            merges.append((left, right))
        return Gpt2Tokenizer(vocab, merges)

    @staticmethod
    def byte_level(merges: Iterable[tuple[str, str]] = (), *, end_of_text: bool = True) -> Gpt2Tokenizer:
        """A tokenizer with the 256 byte tokens, then one token per merge (in order), then ``<|endoftext|>``.

        Merges are written in the byte spelling: a space is ``'Ġ'`` (``("Ġ", "t")`` merges `` t``).
        """
        vocab = {c: i for i, c in enumerate(_byte_chars())}
        merges = list(merges)
        for left, right in merges:
            vocab.setdefault(left + right, len(vocab))
        if end_of_text:
            vocab[END_OF_TEXT] = len(vocab)
        return Gpt2Tokenizer(vocab, merges)

    def save(self, model_dir: str | os.PathLike[str]) -> None:
        """Write ``vocab.json`` and ``merges.txt`` (Hugging Face's ``GPT2Tokenizer`` reads them)."""
        d = Path(model_dir)
        d.mkdir(parents=True, exist_ok=True)
        (d / "vocab.json").write_text(json.dumps(self.vocab, ensure_ascii=False), encoding="utf-8")
        lines = ["#version: 0.2", *(f"{a} {b}" for a, b in self.merges)]
        (d / "merges.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")

    def __len__(self) -> int:
        return len(self.vocab)

    @functools.lru_cache(maxsize=65536)  # noqa: B019  # the tokenizer lives as long as its cache should
    def _bpe(self, word: str) -> tuple[str, ...]:
        parts = list(word)
        while len(parts) > 1:
            ranked = [(self._ranks.get(pair, -1), i) for i, pair in enumerate(itertools.pairwise(parts))]
            ranked = [(r, i) for r, i in ranked if r >= 0]
            if not ranked:
                break
            best = min(ranked)[0]
            merged, i = [], 0
            while i < len(parts):
                if i + 1 < len(parts) and self._ranks.get((parts[i], parts[i + 1])) == best:
                    merged.append(parts[i] + parts[i + 1])
                    i += 2
                else:
                    merged.append(parts[i])
                    i += 1
            parts = merged
        return tuple(parts)

    def _encode_plain(self, text: str) -> list[int]:
        chars = _byte_chars()
        ids = []
        for word in _word_pattern().findall(text):
            spelled = "".join(chars[b] for b in word.encode("utf-8"))
            ids.extend(self.vocab[token] for token in self._bpe(spelled))
        return ids

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text``; ``<|endoftext|>`` in the text becomes its one special id."""
        if not self._special:
            return self._encode_plain(text)
        ids: list[int] = []
        pieces = re.split(f"({'|'.join(map(re.escape, self._special))})", text)
        for piece in pieces:
            if piece in self._special:
                ids.append(self.vocab[piece])
            elif piece:
                ids.extend(self._encode_plain(piece))
        return ids

    def decode(self, ids: Iterable[int]) -> str:
        """The text of ``ids`` (bytes that do not form valid UTF-8 show as U+FFFD)."""
        out = bytearray()
        for i in ids:
            token = self._tokens[int(i)]
            if token in self._special:
                out.extend(token.encode("utf-8"))
            else:
                out.extend(self._byte_of[c] for c in token)
        return out.decode("utf-8", errors="replace")
