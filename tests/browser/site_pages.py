"""What the browser test looks at: where the built site is, its pages (from _toc.yml,
so that chapters added later are covered without touching the test), the screen
sizes it uses, and which chapter shows which architecture figure. Shared by
conftest.py and test_site.py; tests/test_figures.py reads ARCHITECTURE_FIGURES too."""

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


# The architecture figure (a hand-written SVG in book/figures/) that each chapter
# shows where it first explains its model. test_site.py checks that the page shows
# it, loaded and with alt text; tests/test_figures.py checks the SVG files and that
# the notebook's markdown references each one with an :alt: text.
ARCHITECTURE_FIGURES = {
    "chapters/04_rnn_scratch": "rnn_unrolled.svg",
    "chapters/06_bptt": "bptt_graph.svg",
    "chapters/07_gru": "gru_cell.svg",
    "chapters/08_lstm": "lstm_cell.svg",
    "chapters/10_deep_rnn": "deep_rnn.svg",
    "chapters/11_bidirectional_rnn": "birnn.svg",
    "chapters/13_seq2seq": "encoder_decoder.svg",
    "chapters/14_beam_search": "beam_search_tree.svg",
    "chapters/15_attention": "attention.svg",
    "chapters/15_attention_two_directions": "birnn_encoder.svg",
}
