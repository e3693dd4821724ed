"""Run the python blocks of a docs page and keep what each block prints.

Used twice: ``tests/test_docs.py`` runs every page with it (so the docs' code cannot rot), and
the mkdocs hook (``docs/hooks.py``) shows each block's output under it on the built page.

A page's top-level ```` ```python ```` blocks run top to bottom in one namespace, as one script
would; each block's standard output is captured on its own. A block fenced as
```` ```python html="1" ```` prints HTML (e.g. an SVG from ``hp.visualize_sharding``), which
the page embeds as it is instead of showing it as text.

Results are cached in ``build/docs-exec/``, keyed by the page's text and a digest of every
source file of the workspace, so the docs build reuses what the test suite just ran and only
pages (or sources) that changed since run again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import os
import pathlib
import re
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
CACHE = ROOT / "build" / "docs-exec"
# A fence at the start of a line: ```python, optionally followed by options (html="1").
BLOCK = re.compile(r"^```python(?P<options>[ \t][^\n]*)?\n(?P<code>.*?)^```[ \t]*$", re.S | re.M)
OPTION = re.compile(r'(\w+)="([^"]*)"')


@dataclasses.dataclass(frozen=True)
class Block:
    """One fenced python block: where it is in the page, its options and its code."""

    start: int
    end: int
    line: int
    options: dict[str, str]
    code: str

    @property
    def html(self) -> bool:
        return self.options.get("html", "").lower() in ("1", "true", "on")


def blocks(text: str) -> list[Block]:
    """The page's top-level python blocks, in order."""
    return [
        Block(
            m.start(),
            m.end(),
            text.count("\n", 0, m.start("code")),
            dict(OPTION.findall(m.group("options") or "")),
            m.group("code"),
        )
        for m in BLOCK.finditer(text)
    ]


def set_up_devices() -> None:
    """Eight simulated CPU devices, as the tests use; must run before JAX initialises."""
    os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=8")
    os.environ.setdefault("JAX_PLATFORMS", "cpu")


def run(text: str, filename: str, name: str = "__main__") -> list[str]:
    """Run the blocks of a page's ``text`` in one namespace; each block's output, in order.

    Errors propagate, with line numbers of the page itself.
    """
    namespace: dict[str, object] = {"__name__": name}
    outputs = []
    for block in blocks(text):
        code = compile("\n" * block.line + block.code, filename, "exec", dont_inherit=True)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(code, namespace)
        outputs.append(out.getvalue())
    return outputs


def source_digest() -> str:
    """A digest of the workspace's sources and lock: outputs are reused only while it holds."""
    digest = hashlib.sha256()
    files = [ROOT / "uv.lock", *sorted(ROOT.glob("packages/*/src/**/*.py"))]
    files += sorted(ROOT.glob("examples/*/src/**/*.py"))
    for path in files:
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _cache_file(page: pathlib.Path) -> pathlib.Path:
    return CACHE / (str(page.relative_to(DOCS)).replace("/", "__") + ".json")


def _key(text: str, digest: str) -> str:
    return hashlib.sha256((digest + "\0" + text).encode()).hexdigest()


def cached(page: pathlib.Path, digest: str) -> list[str] | None:
    """The outputs recorded for this page's current text and sources, if any."""
    try:
        record = json.loads(_cache_file(page).read_text())
    except (OSError, ValueError):
        return None
    return record["outputs"] if record.get("key") == _key(page.read_text(), digest) else None


def last_duration(page: pathlib.Path) -> float:
    """Seconds the page took when it last ran (0 when never): the build runs slow pages first."""
    try:
        return float(json.loads(_cache_file(page).read_text()).get("seconds", 0.0))
    except (OSError, ValueError):
        return 0.0


def run_page(page: pathlib.Path, digest: str | None = None) -> list[str]:
    """Run one page (``docs/...md``), record its outputs in the cache and return them."""
    text = page.read_text()
    started = time.perf_counter()
    outputs = run(text, str(page), f"docs_{page.stem.replace('-', '_')}")
    record = {
        "key": _key(text, digest or source_digest()),
        "seconds": round(time.perf_counter() - started, 2),
        "outputs": outputs,
    }
    CACHE.mkdir(parents=True, exist_ok=True)
    _cache_file(page).write_text(json.dumps(record))
    return outputs


def _worker(page: str, digest: str) -> list[str]:
    set_up_devices()
    return run_page(pathlib.Path(page), digest)


def render(text: str, outputs: list[str]) -> str:
    """The page's markdown with each block's output under it (text blocks, or HTML as it is)."""
    pieces, pos = [], 0
    for block, output in zip(blocks(text), outputs, strict=True):
        pieces.append(text[pos : block.start])
        pieces.append(f"```python\n{block.code}```")
        if block.html and output.strip():
            pieces.append(f'\n\n<div class="exec-html">{output.strip()}</div>\n')
        elif output.strip():
            body = output.rstrip("\n")
            fence = "````" if "```" in body else "```"
            pieces.append(f'\n\n{fence}text {{ .exec-output title="Output" }}\n{body}\n{fence}')
        pos = block.end
    pieces.append(text[pos:])
    return "".join(pieces)
