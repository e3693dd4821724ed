"""mkdocs hooks: one ``haliax`` package for the API reference, and pages that show their output.

``haliax.nn``, ``haliax.partitioning``, ... ship in other distributions, each under its own
``packages/*/src/haliax/``. The reference generator (griffe) looks for submodules in one
directory, so this hook links the five source trees into one (``build/apitree/haliax``) and
imports every distribution first: griffe then finds each submodule on disk and inspects the live
objects (op tables built by factories carry their docstrings only at run time).

Every page's python blocks run at build time (``docs/execute.py``), a few pages at once in
worker processes, and each block's output is shown under it. Outputs the test suite recorded
for the same page text and sources are reused instead of running the page again. A block that
raises fails the build. ``HALIAX_DOCS_EXECUTE=0`` skips running them (a quick preview, which
``--strict`` rejects through the warning it logs); ``HALIAX_DOCS_WORKERS`` sets how many pages
run at once (default: one per CPU).
"""

from __future__ import annotations

import concurrent.futures
import importlib
import logging
import multiprocessing
import os
import pathlib
import sys
import time
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parent.parent
TREE = ROOT / "build" / "apitree" / "haliax"
sys.path.insert(0, str(ROOT / "docs"))

import execute  # noqa: E402  # docs/execute.py, shared with tests/test_docs.py

execute.set_up_devices()  # before anything imports JAX: the pages use 8 simulated devices

log = logging.getLogger("mkdocs.hooks.execute")
_outputs: dict[pathlib.Path, list[str]] = {}


def _link_tree() -> None:
    TREE.mkdir(parents=True, exist_ok=True)
    for src in sorted(ROOT.glob("packages/*/src/haliax")):
        for entry in src.iterdir():
            link = TREE / entry.name
            if entry.name == "__pycache__" or link.is_symlink() or link.exists():
                continue
            link.symlink_to(entry)


def on_startup(**kwargs: object) -> None:
    _link_tree()
    importlib.import_module("pkgutil")  # griffe imports with only its own paths on sys.path
    for sub in ("nn", "partitioning", "quantization", "testing"):
        importlib.import_module(f"haliax.{sub}")


def _pages() -> list[pathlib.Path]:
    """Pages with something to show: code that prints (the test suite runs the others too)."""
    return sorted(
        p
        for p in execute.DOCS.rglob("*.md")
        if "api" not in p.relative_to(execute.DOCS).parts
        and any("print" in b.code for b in execute.blocks(p.read_text()))
    )


def on_pre_build(config: Any, **kwargs: object) -> None:
    """Run every page whose outputs are not cached, slowest first, in worker processes."""
    from mkdocs.exceptions import PluginError

    if os.environ.get("HALIAX_DOCS_EXECUTE", "1") == "0":  # a quick preview: code without output
        log.warning("HALIAX_DOCS_EXECUTE=0: the pages' code does not run, and shows no output")
        return
    started = time.perf_counter()
    digest = execute.source_digest()
    todo = []
    for page in _pages():
        outputs = execute.cached(page, digest)
        if outputs is None:
            todo.append(page)
        else:
            _outputs[page] = outputs
    if not todo:
        return
    todo.sort(key=lambda p: (-execute.last_duration(p), -len(p.read_text())))
    workers = max(1, min(len(todo), int(os.environ.get("HALIAX_DOCS_WORKERS", os.cpu_count() or 2))))
    context = multiprocessing.get_context("spawn")  # this process has JAX imported: never fork it
    if str(ROOT / "docs") not in sys.path:  # workers start with this sys.path, and import `execute`
        sys.path.insert(0, str(ROOT / "docs"))
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
        futures = {pool.submit(execute._worker, str(p), digest): p for p in todo}
        for future in concurrent.futures.as_completed(futures):
            page = futures[future]
            try:
                _outputs[page] = future.result()
            except Exception as e:
                for other in futures:
                    other.cancel()
                raise PluginError(f"docs/{page.relative_to(execute.DOCS)}: a code block raised {e!r}") from e
    log.info(
        f"Ran the code of {len(todo)} pages in {time.perf_counter() - started:.1f} s "
        f"({len(_outputs) - len(todo)} reused from build/docs-exec)"
    )


def on_page_markdown(markdown: str, page: Any, **kwargs: object) -> str:
    """Show each block's output under it."""
    path = pathlib.Path(page.file.abs_src_path)
    outputs = _outputs.get(path)
    return markdown if outputs is None else execute.render(markdown, outputs)


if __name__ == "__main__":  # `python docs/hooks.py`: build the merged tree only (pyright reads it too)
    _link_tree()
