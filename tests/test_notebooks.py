"""Notebook hygiene: every chapter is executed in order, clean, seeded and complete.

nbval (run separately by `make nbval`) checks that re-executing a notebook gives
the saved outputs; these tests check the saved notebooks themselves.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# Paths of this (or any) machine must never end up in an output.
MACHINE_PATH = re.compile(r"(?<![\w.])/(?:work|root|tmp|home/\w+|Users/\w+)/|site-packages|"
                          + re.escape(str(ROOT)))


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def code_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def source(cell: dict) -> str:
    return "".join(cell["source"])


def output_texts(cell: dict):
    for output in cell.get("outputs", []):
        yield "".join(output.get("text", ""))
        for mime, data in output.get("data", {}).items():
            if mime.startswith("text/"):
                yield "".join(data)


def toc_files(node) -> list[str]:
    files = []
    if isinstance(node, dict):
        if "file" in node:
            files.append(node["file"])
        for value in node.values():
            files += toc_files(value)
    elif isinstance(node, list):
        for item in node:
            files += toc_files(item)
    return files


def test_there_are_chapters():
    assert CHAPTERS, "no notebooks in chapters/"


def test_chapters_are_numbered_in_order_and_all_in_the_toc():
    numbers = []
    for path in CHAPTERS:
        match = re.fullmatch(r"(\d\d)_[a-z0-9_]+\.ipynb", path.name)
        assert match, f"{path.name}: chapter files are named NN_slug.ipynb"
        numbers.append(int(match.group(1)))
    distinct = sorted(set(numbers))
    assert distinct == list(range(1, len(distinct) + 1)), f"chapter numbers {distinct} have gaps"
    listed = [f for f in toc_files(TOC) if f.startswith("chapters/")]
    assert listed == [f"chapters/{p.stem}" for p in CHAPTERS], "_toc.yml must list every chapter, in order"


def test_a_chapter_in_two_notebooks_continues_as_a_section_of_its_first():
    """A chapter too long for one sitting continues in a second notebook with the same
    number (09_numpy_framework, 09_numpy_training): the table of contents nests it
    under the first, so that the chapter keeps one number and the later chapters
    theirs."""
    first = {}
    for path in CHAPTERS:
        first.setdefault(path.name[:2], path.stem)
    nested = {}

    def walk(node, parent=None):
        if isinstance(node, dict):
            if "file" in node:
                nested[node["file"]] = parent
                for section in node.get("sections", []):
                    walk(section, node["file"])
            else:
                for value in node.values():
                    walk(value, parent)
        elif isinstance(node, list):
            for item in node:
                walk(item, parent)

    walk(TOC)
    for path in CHAPTERS:
        head = first[path.name[:2]]
        if head != path.stem:
            assert nested.get(f"chapters/{path.stem}") == f"chapters/{head}", (
                f"{path.name} continues chapter {int(path.name[:2])}: list it in _toc.yml "
                f"under 'sections:' of chapters/{head}")


@pytest.fixture(params=CHAPTERS, ids=[p.stem for p in CHAPTERS])
def notebook(request):
    return request.param, load(request.param)


def test_executed_top_to_bottom(notebook):
    path, nb = notebook
    counts = [c["execution_count"] for c in code_cells(nb)]
    assert None not in counts, f"{path.name}: {counts.count(None)} code cells never executed"
    assert counts == list(range(1, len(counts) + 1)), \
        f"{path.name}: execution counts {counts} are not 1..n; re-run with `make execute NB=...`"


def test_no_errors_or_warnings_in_outputs(notebook):
    path, nb = notebook
    for i, cell in enumerate(code_cells(nb), 1):
        for output in cell.get("outputs", []):
            assert output["output_type"] != "error", f"{path.name}, cell [{i}]: error output"
            if output["output_type"] == "stream" and output["name"] == "stderr":
                pytest.fail(f"{path.name}, cell [{i}] writes to stderr: {''.join(output['text'])[:300]}")


def test_no_machine_paths_in_outputs(notebook):
    path, nb = notebook
    for i, cell in enumerate(code_cells(nb), 1):
        for text in output_texts(cell):
            match = MACHINE_PATH.search(text)
            assert not match, f"{path.name}, cell [{i}] shows a path of this machine: {match.group(0)}"


def test_setup_cell_is_first_identical_everywhere_and_points_at_the_repository():
    setups = {p.name: source(code_cells(load(p))[0]) for p in CHAPTERS}
    first = next(iter(setups.values()))
    for name, text in setups.items():
        assert text == first, f"{name}: the setup cell differs from {CHAPTERS[0].name}'s"
    url = CONFIG["repository"]["url"].rstrip("/")
    branch = CONFIG["repository"]["branch"]
    assert f'"git+{url}@{branch}"' in first, \
        f"the setup cell must install from the repository in _config.yml, git+{url}@{branch}"
    assert 'if "google.colab" in sys.modules:' in first, "the setup cell must do nothing outside Colab"


def test_setup_cell_has_no_output_and_seed_is_set_early(notebook):
    path, nb = notebook
    cells = code_cells(nb)
    assert cells[0]["outputs"] == [], f"{path.name}: the setup cell printed something"
    assert "utils.set_seed(" in source(cells[1]), \
        f"{path.name}: the cell after the setup cell must call utils.set_seed(...)"


def test_structure_title_summary_exercises(notebook):
    path, nb = notebook
    number = int(path.name[:2])
    first = source(nb["cells"][0])
    assert first.startswith(f"# {number}. "), f"{path.name}: must open with '# {number}. Title'"
    markdown = "\n".join(source(c) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert "## Summary" in markdown, f"{path.name}: no '## Summary' section"
    assert "## Exercises" in markdown, f"{path.name}: no '## Exercises' section"
    assert markdown.count("<details>") == markdown.count("</details>") >= 1, \
        f"{path.name}: solutions go in balanced <details> blocks"


def test_kernel_is_python3(notebook):
    path, nb = notebook
    assert nb["metadata"]["kernelspec"]["name"] == "python3", path.name


def test_widgets_have_their_state_saved(notebook):
    """The website can only show a widget whose state was stored when the notebook ran."""
    path, nb = notebook
    state = nb["metadata"].get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    models = state.get("state", {})
    for i, cell in enumerate(code_cells(nb), 1):
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(WIDGET_VIEW)
            if view:
                assert view["model_id"] in models, \
                    f"{path.name}, cell [{i}]: widget state missing; execute with `make execute`"


def test_no_cell_timing_metadata(notebook):
    path, nb = notebook
    for cell in nb["cells"]:
        assert "execution" not in cell.get("metadata", {}), \
            f"{path.name}: per-cell timing metadata; execute with `make execute`"


# --- what nbval compares, and how (tests/nbval_approx.py) -----------------------------

IGNORE_MARKER = "# NBVAL_IGNORE_OUTPUT"
IGNORE_REASON = "# Not compared:"
# A result of rounding printed as a number: "largest difference 2.4e-07". The bound it
# meets ("< 1e-6", utils.below) reads the same on every machine; the number does not.
ROUNDING_LINE = re.compile(r"\bdiff(?:erence)?s?\b|relative error", re.IGNORECASE)
NUMBER_NOT_BOUND = re.compile(r"(?<![<\w.-])(?<!< )-?\d+(?:\.\d+)?(?:e[-+]?\d+)?(?![\w.])")
# A time or a speed: it depends on the machine and its load.
TIMING = re.compile(r"\b\d+(?:[.,]\d+)*\s*(?:s|ms|µs|seconds)\b|tokens/s|examples/s")


def markers(cell: dict) -> set[str]:
    return {line.strip().lstrip("#").strip() for line in source(cell).splitlines()
            if line.strip().startswith("#")}


def compared(cell: dict) -> bool:
    return not markers(cell) & {"NBVAL_IGNORE_OUTPUT", "NBVAL_SKIP"}


def test_ignored_outputs_say_why(notebook):
    """A cell that nbval does not compare says, in the line after the marker, what is
    not compared and what checks it instead: no result loses its check silently."""
    path, nb = notebook
    for i, cell in enumerate(code_cells(nb)):
        lines = source(cell).splitlines()
        for j, line in enumerate(lines):
            if line.strip() == IGNORE_MARKER:
                reason = lines[j + 1].strip() if j + 1 < len(lines) else ""
                assert reason.startswith(IGNORE_REASON) and len(reason) > len(IGNORE_REASON) + 5, (
                    f"{path.name}, code cell {i}: after {IGNORE_MARKER}, write a line "
                    f"'{IGNORE_REASON} <what>; <what checks it instead>'")


def test_tolerances_are_well_formed(notebook):
    from nbval_approx import ToleranceError, parse_tolerance
    path, nb = notebook
    for i, cell in enumerate(code_cells(nb)):
        try:
            tolerance = parse_tolerance(source(cell))
        except ToleranceError as error:
            pytest.fail(f"{path.name}, code cell {i}: {error}")
        if tolerance is not None:
            assert compared(cell), (f"{path.name}, code cell {i}: NBVAL_APPROX in a cell "
                                    "whose output is not compared; keep one marker")
            assert any(NUMBER_NOT_BOUND.search(t) for t in output_texts(cell)), (
                f"{path.name}, code cell {i}: NBVAL_APPROX, but no number in the output")


def test_no_rounding_noise_is_compared(notebook):
    """A difference or error that is only rounding is printed as the bound it meets."""
    path, nb = notebook
    for i, cell in enumerate(code_cells(nb)):
        if not compared(cell) or "NBVAL_APPROX" in source(cell):
            continue
        for text in output_texts(cell):
            for line in text.splitlines():
                match = ROUNDING_LINE.search(line)
                if match:
                    numbers = NUMBER_NOT_BOUND.findall(line[match.end():])
                    assert not numbers, (
                        f"{path.name}, code cell {i} prints rounding as a number, which "
                        f"differs between machines: {line.strip()!r}; print the bound it "
                        f"meets with utils.below(value, bound)")


def test_no_timing_is_compared(notebook):
    path, nb = notebook
    for i, cell in enumerate(code_cells(nb)):
        if not compared(cell):
            continue
        for text in output_texts(cell):
            for line in text.splitlines():
                assert not TIMING.search(line), (
                    f"{path.name}, code cell {i} prints a time or a speed in a compared "
                    f"output: {line.strip()!r}; put it in a cell marked {IGNORE_MARKER}")
