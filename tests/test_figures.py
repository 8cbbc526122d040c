"""The architecture figures: hand-written SVG files in book/figures/, and the chapters
that show them.

Every SVG says that it is the source, parses, has a viewBox, a <title> and a <desc>
(what a screen reader says), is at most 720 px wide (so that its text stays legible
when a phone shrinks it), and carries the shared <style> block unchanged. Every
chapter of the mapping in tests/browser/site_pages.py shows its figure as a Markdown
image (``![alt text](../book/figures/NAME.svg)``, which Jupyter, JupyterLab and the
website all render, where a MyST figure directive shows as a code block outside the
website), with alt text and a caption paragraph starting "**Figure.**". The browser test checks the same figures
on the built site.
"""

from __future__ import annotations

import importlib.util
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ROOT / "book" / "figures"
SVG = "{http://www.w3.org/2000/svg}"
MAX_WIDTH = 720
# A Markdown image and the caption paragraph after it, e.g.
#   ![One step of a GRU ...](../book/figures/gru_cell.svg)
#
#   **Figure.** One step of the GRU of the equations above. ...
FIGURE_IMAGE = re.compile(r"^!\[([^\]\n]*)\]\(([^)\s]+)\)[ \t]*\n\n(\*\*Figure\.\*\* \S.*)?", re.MULTILINE)


def _architecture_figures() -> dict[str, str]:
    """ARCHITECTURE_FIGURES of tests/browser/site_pages.py, the one chapter -> figure mapping."""
    path = ROOT / "tests" / "browser" / "site_pages.py"
    spec = importlib.util.spec_from_file_location("site_pages_for_figures", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ARCHITECTURE_FIGURES


ARCHITECTURE_FIGURES = _architecture_figures()
SVG_FILES = sorted(FIGURES.glob("*.svg"))


def _number(text: str) -> float:
    return float(re.fullmatch(r"\s*([0-9.]+)(px)?\s*", text).group(1))


def test_there_are_figures_and_each_is_shown_by_a_chapter():
    assert SVG_FILES, f"no SVG files in {FIGURES}"
    files = {p.name for p in SVG_FILES}
    mapped = set(ARCHITECTURE_FIGURES.values())
    assert mapped <= files, f"figures in the mapping but not in book/figures: {sorted(mapped - files)}"
    assert files <= mapped, (f"figures in book/figures that no chapter of ARCHITECTURE_FIGURES "
                             f"(tests/browser/site_pages.py) shows: {sorted(files - mapped)}")


@pytest.mark.parametrize("path", SVG_FILES, ids=lambda p: p.name)
def test_svg_is_well_formed_and_accessible(path):
    assert "Hand-written SVG; edit this file." in path.read_text(encoding="utf-8"), \
        f"{path.name}: the comment that says the SVG is the source is missing"
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG}svg", f"{path.name}: the root element is {root.tag}, not <svg>"
    view_box = root.get("viewBox")
    assert view_box, f"{path.name}: no viewBox, so the figure cannot scale"
    x0, y0, width, height = (float(v) for v in view_box.replace(",", " ").split())
    assert width > 0 and height > 0, f"{path.name}: viewBox {view_box!r}"
    assert root.get("width") and root.get("height"), f"{path.name}: no width and height attributes"
    assert _number(root.get("width")) == width and _number(root.get("height")) == height, \
        f"{path.name}: width and height ({root.get('width')}, {root.get('height')}) differ from the viewBox {view_box!r}"
    assert width <= MAX_WIDTH, \
        f"{path.name}: {width:g} px wide; keep figures at most {MAX_WIDTH} px so their text stays legible on a phone"
    for tag in ("title", "desc"):
        element = root.find(f"{SVG}{tag}")
        assert element is not None and (element.text or "").strip(), \
            f"{path.name}: no <{tag}> (what a screen reader says about the figure)"


def test_every_figure_shares_one_style_block():
    """One visual language: the same <style> (fonts, colours, boxes, arrows) in every file."""
    styles = {p.name: "".join(ET.parse(p).getroot().find(f"{SVG}style").itertext()) for p in SVG_FILES}
    reference = styles[SVG_FILES[0].name]
    different = [name for name, style in styles.items() if style != reference]
    assert not different, f"these figures' <style> differs from {SVG_FILES[0].name}'s: {different}"


@pytest.mark.parametrize("page, figure", sorted(ARCHITECTURE_FIGURES.items()))
def test_chapter_shows_its_figure_with_alt_text(page, figure):
    notebook = ROOT / f"{page}.ipynb"
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    found = []
    for cell in cells:
        source = "".join(cell["source"])
        for match in FIGURE_IMAGE.finditer(source):
            alt, target, caption = match.groups()
            if Path(target).name != figure:
                continue
            assert cell["cell_type"] == "markdown", f"{notebook.name}: the figure is in a {cell['cell_type']} cell"
            assert (notebook.parent / target).resolve() == (FIGURES / figure).resolve(), \
                f"{notebook.name}: {target} does not point at book/figures/{figure}"
            assert alt.strip(), f"{notebook.name}: the figure {figure} has no alt text"
            assert caption, f"{notebook.name}: the figure {figure} has no '**Figure.**' caption after it"
            found.append(target)
    assert found, f"{notebook.name}: no markdown cell shows ../book/figures/{figure} as ![alt](path)"
