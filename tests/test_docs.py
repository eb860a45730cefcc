"""The documentation's code runs: every ```python block in docs/ and the README is a test.

The blocks of one page run in order, in one shared namespace, inside a fresh temporary
directory (so SQLite files land there). A block right after a ``<!-- no-test -->`` line is
only compiled, not run: use it for code that needs a test runner or a host application.
Tracebacks point at the page and the line in it.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

import deskcore

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted([*DOCS.rglob("*.md"), ROOT / "README.md"])
PAGES = [page for page in PAGES if "_build" not in page.relative_to(ROOT).parts]
NO_TEST = "<!-- no-test -->"
LANGUAGES = {"python", "py", "python3"}


class Block:
    """One fenced code block of a page."""

    def __init__(self, page: Path, line: int, source: str, *, run: bool) -> None:
        self.page = page
        self.line = line  # 1-based line of the first line of code
        self.source = source
        self.run = run

    def compile(self) -> object:
        # Leading newlines make tracebacks and syntax errors report the page's own line numbers.
        return compile("\n" * (self.line - 1) + self.source, str(self.page), "exec")


def python_blocks(page: Path) -> list[Block]:
    """The page's ```python blocks, as MyST (which is built on markdown-it) sees them."""
    tokens = MarkdownIt("commonmark").parse(page.read_text(encoding="utf-8"))
    blocks = []
    for index, token in enumerate(tokens):
        if token.type != "fence" or not token.info.split():
            continue
        if token.info.split()[0] not in LANGUAGES:
            continue
        previous = tokens[index - 1] if index else None
        skip = (
            previous is not None
            and previous.type == "html_block"
            and previous.content.strip() == NO_TEST
        )
        assert token.map is not None
        blocks.append(Block(page, token.map[0] + 2, token.content, run=not skip))
    return blocks


def _page_id(page: Path) -> str:
    return page.relative_to(ROOT).as_posix()


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_P7_code_blocks_of_the_page_run(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run the page's blocks in order in one namespace; ``<!-- no-test -->`` ones only compile."""
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": f"docs.{page.stem}"}
    for block in python_blocks(page):
        code = block.compile()
        if block.run:
            exec(code, namespace)  # running the docs is the point


def test_P7_the_tutorial_and_the_readme_have_code_that_runs() -> None:
    """Guard against a parser change that would find no blocks and pass vacuously."""
    tutorial = python_blocks(DOCS / "tutorial" / "embed.md")
    assert len([b for b in tutorial if b.run]) >= 10
    assert any(b.run for b in python_blocks(ROOT / "README.md"))
    assert any(not b.run for b in python_blocks(DOCS / "howto" / "contract-suite.md"))


def test_P7_the_api_reference_covers_every_public_name() -> None:
    """Every name in ``deskcore.__all__`` is documented by a module the reference pulls in."""
    reference = (DOCS / "reference" / "api.md").read_text(encoding="utf-8")
    directives = re.findall(
        r"^\.\. automodule:: (\S+)\n((?:   :.*\n)*)", reference, flags=re.MULTILINE
    )
    documented: set[str] = set()
    for name, options in directives:
        if ":no-members:" in options:
            continue
        module = importlib.import_module(name)
        documented.update(getattr(module, "__all__", ()))
    missing = set(deskcore.__all__) - documented - {"__version__"}
    assert not missing, f"add these to docs/reference/api.md: {sorted(missing)}"
