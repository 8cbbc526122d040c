"""What the browser test looks at: where the built site is, its pages (from _toc.yml,
so that chapters added later are covered without touching the test), and the screen
sizes it uses. Shared by conftest.py and test_site.py."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}          # an iPhone 12-15 in CSS pixels
# How long to wait for MathJax, the widgets and the images of one page, in ms.
RENDER_TIMEOUT_MS = 30_000


def toc_files(node) -> list[str]:
    """Every `file:` of _toc.yml, in reading order (root first)."""
    files = []
    if isinstance(node, dict):
        for key in ("root", "file"):
            if key in node:
                files.append(node[key])
        for value in node.values():
            if isinstance(value, (list, dict)):
                files += toc_files(value)
    elif isinstance(node, list):
        for item in node:
            files += toc_files(item)
    return files


def toc_pages() -> list[str]:
    """The pages of the table of contents, as paths without suffix (book/intro, chapters/01_...)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    return toc_files(toc)


PAGES = toc_pages()
CHAPTER_PAGES = [p for p in PAGES if p.startswith("chapters/")]
