"""The README and docs/: every relative link and image resolves to a file, every anchor to a heading there."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
CODE = re.compile(r"`[^`\n]*`")


def prose(text: str) -> str:
    """The text without fenced code blocks and inline code, where brackets are not links."""
    return CODE.sub("", FENCE.sub("", text))


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped (letters of any script kept), spaces to -."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip()).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    return {slug(m) for m in re.findall(r"^#{1,6}\s+(.+?)\s*#*$", FENCE.sub("", page.read_text("utf-8")), re.M)}


def links(page: Path) -> list[str]:
    return [t for t in LINK.findall(prose(page.read_text("utf-8"))) if not re.match(r"[a-z][a-z0-9+.-]*:", t)]


def test_there_are_pages_and_links():
    assert (ROOT / "docs" / "index.md") in PAGES and len(PAGES) >= 8
    assert sum(len(links(p)) for p in PAGES) > 20


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page):
    broken = []
    for target in links(page):
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no file {file.relative_to(ROOT) if file.is_relative_to(ROOT) else file}")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(f"{target}: no heading #{anchor} in {file.relative_to(ROOT)}")
    assert broken == [], f"{page.relative_to(ROOT)}: broken links: {broken}"


def test_the_readme_is_short_and_shows_one_small_screenshot():
    readme = (ROOT / "README.md").read_text("utf-8")
    assert len(readme.splitlines()) <= 200
    images = [t for t in LINK.findall(prose(readme)) if t.endswith(".png")]
    assert len(images) == 1 and (ROOT / images[0]).stat().st_size < 300_000


def test_the_docs_index_lists_every_page():
    listed = {t.partition("#")[0] for t in links(ROOT / "docs" / "index.md")}
    assert {p.name for p in PAGES if p.parent.name == "docs" and p.name != "index.md"} <= listed
