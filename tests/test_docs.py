"""Every guide and tutorial in docs/ is executed, so its code cannot rot.

Each page's ```python blocks run top to bottom as one script in a fresh namespace.
"""

from __future__ import annotations

import pathlib
import re

import pytest

DOCS = pathlib.Path(__file__).resolve().parent.parent / "docs"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
PAGES = sorted(p for p in DOCS.rglob("*.md") if "api" not in p.relative_to(DOCS).parts)


def python_blocks(page: pathlib.Path) -> str:
    return "\n\n".join(BLOCK.findall(page.read_text()))


@pytest.mark.parametrize(
    "page", [p for p in PAGES if python_blocks(p)], ids=lambda p: str(p.relative_to(DOCS))
)
def test_page_code_runs(page: pathlib.Path) -> None:
    code = python_blocks(page)
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    exec(compile(code, str(page), "exec", dont_inherit=True), namespace)


READMES = sorted([DOCS.parent / "README.md", *DOCS.parent.glob("packages/*/README.md")])


@pytest.mark.parametrize(
    "readme", [p for p in READMES if python_blocks(p)], ids=lambda p: str(p.relative_to(DOCS.parent))
)
def test_readme_code_runs(readme: pathlib.Path) -> None:
    code = python_blocks(readme)
    exec(compile(code, str(readme), "exec", dont_inherit=True), {"__name__": "readme"})
