"""Every guide and tutorial in docs/ is executed, so its code cannot rot.

Each page's ```python blocks (plain, or with options such as ``html="1"``) run top to bottom in
one namespace, with ``docs/execute.py``, the runner the docs build uses to show each block's
output; what a page printed is recorded there, so the docs build that follows reuses it.
"""

from __future__ import annotations

import importlib.util
import pathlib
import re
import sys

import pytest

DOCS = pathlib.Path(__file__).resolve().parent.parent / "docs"
_spec = importlib.util.spec_from_file_location("docs_execute", DOCS / "execute.py")
assert _spec is not None and _spec.loader is not None
execute = importlib.util.module_from_spec(_spec)
sys.modules["docs_execute"] = execute  # dataclasses look their module up there
_spec.loader.exec_module(execute)

PAGES = sorted(p for p in DOCS.rglob("*.md") if "api" not in p.relative_to(DOCS).parts)


@pytest.mark.parametrize(
    "page", [p for p in PAGES if execute.blocks(p.read_text())], ids=lambda p: str(p.relative_to(DOCS))
)
def test_page_code_runs(page: pathlib.Path) -> None:
    execute.run_page(page)


def test_blocks_with_options_are_found_and_html_blocks_are_embedded() -> None:
    text = 'Intro\n\n```python\nprint("a")\n```\n\n```python html="1"\nprint("<b>x</b>")\n```\n\n```text\nno\n```\n'
    found = execute.blocks(text)
    assert [(b.code, b.html) for b in found] == [('print("a")\n', False), ('print("<b>x</b>")\n', True)]
    outputs = execute.run(text, "page.md")
    assert outputs == ["a\n", "<b>x</b>\n"]
    page = execute.render(text, outputs)
    assert '```python\nprint("<b>x</b>")\n```\n\n<div class="exec-html"><b>x</b></div>' in page
    assert re.search(r'```text \{ \.exec-output title="Output" \}\na\n```', page)


def test_outputs_are_reused_while_the_page_and_the_sources_are_unchanged(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(execute, "DOCS", tmp_path)
    monkeypatch.setattr(execute, "CACHE", tmp_path / "cache")
    page = tmp_path / "page.md"
    page.write_text("```python\nprint(1)\n```\n")
    assert execute.run_page(page, "sources-1") == ["1\n"]
    assert execute.cached(page, "sources-1") == ["1\n"]
    assert execute.cached(page, "sources-2") is None  # a source file changed
    page.write_text("```python\nprint(2)\n```\n")
    assert execute.cached(page, "sources-1") is None  # the page changed


READMES = sorted([DOCS.parent / "README.md", *DOCS.parent.glob("packages/*/README.md")])


def python_blocks(page: pathlib.Path) -> str:
    return "\n\n".join(b.code for b in execute.blocks(page.read_text()))


@pytest.mark.parametrize(
    "readme", [p for p in READMES if python_blocks(p)], ids=lambda p: str(p.relative_to(DOCS.parent))
)
def test_readme_code_runs(readme: pathlib.Path) -> None:
    code = python_blocks(readme)
    exec(compile(code, str(readme), "exec", dont_inherit=True), {"__name__": "readme"})


def test_reference_extension_drops_borrowed_docstrings_and_lists_fields() -> None:
    import griffe

    spec = importlib.util.spec_from_file_location("docs_griffe_haliax", DOCS / "griffe_haliax.py")
    assert spec is not None and spec.loader is not None
    extension = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(extension)
    extensions = griffe.load_extensions(extension.HaliaxReference())
    dropout = griffe.inspect("haliax.nn._src.dropout", extensions=extensions)["Dropout"]
    assert dropout.members["inference"].docstring is None  # not bool's "bool(x) -> bool ..."
    assert {"pdrop", "broadcast_axes", "inference"} <= set(dropout.members)
    named = griffe.inspect("haliax._src.base.named_array", extensions=extensions)["NamedArray"]
    assert named.members["array"].value is None  # not "<member 'array' of 'NamedArray' objects>"
    assert "instance-attribute" in named.members["array"].labels
