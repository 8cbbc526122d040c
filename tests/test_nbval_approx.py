"""The nbval extension that compares machine-dependent numbers within a tolerance
(tests/nbval_approx.py): the parser, the comparison, and nbval runs on small notebooks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from nbval_approx import (Tolerance, ToleranceError, compare_text, numbers,
                          parse_tolerance, skeleton)

ROOT = Path(__file__).resolve().parent.parent


# --- the marker -------------------------------------------------------------------------

def test_no_marker_means_exact():
    assert parse_tolerance("print(1)\n# NBVAL_IGNORE_OUTPUT") is None


@pytest.mark.parametrize("line, rel, abs_", [
    ("# NBVAL_APPROX rel=0.03: seeds", 0.03, 0.0),
    ("# NBVAL_APPROX rel=3%: seeds", 0.03, 0.0),
    ("#NBVAL_APPROX abs=0.5 rel=0.01: seeds and machines", 0.01, 0.5),
    ("    # NBVAL_APPROX abs=2: counts", 0.0, 2.0),
])
def test_marker_is_parsed(line, rel, abs_):
    tolerance = parse_tolerance(f"x = 1\n{line}\nprint(x)")
    assert (tolerance.rel, tolerance.abs) == (pytest.approx(rel), abs_)
    assert tolerance.reason


@pytest.mark.parametrize("line, message", [
    ("# NBVAL_APPROX: no numbers", "no tolerance"),
    ("# NBVAL_APPROX rel=0.03", "no reason"),
    ("# NBVAL_APPROX rel=0.03 :", "no reason"),
    ("# NBVAL_APPROX tol=0.03: why", "not a tolerance"),
    ("# NBVAL_APPROX rel=three: why", "not a number"),
    ("# NBVAL_APPROX rel=-1: why", ">= 0"),
    ("# NBVAL_APPROX rel=nan: why", ">= 0"),
    ("# NBVAL_APPROX rel=1 rel=2: why", "twice"),
    ("# NBVAL_APPROX rel=1: a\n# NBVAL_APPROX rel=2: b", "one tolerance"),
])
def test_bad_marker_is_refused_with_the_fix(line, message):
    with pytest.raises(ToleranceError, match=message):
        parse_tolerance(line)


# --- numbers in text --------------------------------------------------------------------

def test_numbers_are_found_as_printed():
    text = "epoch 3: 1,554 tokens/s, loss -0.25, ppl 4.58e+134 (11.8%) weight_ih_l0 x2 1.01x"
    assert [v for _, v in numbers(text)] == [3, 1554, -0.25, 4.58e134, 11.8, 1.01]
    assert skeleton("shape (3, 4)") == skeleton("shape (5, 6)") != skeleton("shape (5,)")


REL = Tolerance(rel=0.05, reason="test")


def test_within_tolerance_matches():
    assert compare_text("validation perplexity 5.28, target met",
                        "validation perplexity 5.50, target met", REL) == (True, [])


def test_outside_tolerance_is_listed():
    ok, mismatches = compare_text("perplexity 5.28 (best 5.19)", "perplexity 5.28 (best 5.61)", REL)
    assert not ok and [(m.saved, m.new) for m in mismatches] == [("5.19", "5.61")]
    assert mismatches[0].allowed == pytest.approx(0.05 * 5.19 + 0.01)


def test_a_wider_number_in_a_column_is_no_difference():
    table = "  tau  k=1\n    2  0.253\n"
    assert compare_text(table, "  tau  k=1\n    2 11.746\n", Tolerance(rel=50, reason="x"))[0]
    assert not compare_text(table, "  tau  k=1\n\n    2 11.746\n", Tolerance(rel=50, reason="x"))[0]


def test_words_are_compared_exactly():
    assert compare_text("target met", "target missed", REL) == (False, [])
    assert compare_text("5.28, 5.30", "5.28, 5.30, 5.31", REL) == (False, [])


def test_one_unit_of_rounding_is_allowed_for_rounded_numbers_only():
    exact = Tolerance(abs=0.0, rel=0.0, reason="deterministic")
    assert compare_text("loss 3.3709", "loss 3.3710", exact)[0]      # rounded either side
    assert not compare_text("loss 3.3709", "loss 3.3711", exact)[0]
    assert compare_text("norm 1.5e-06", "norm 1.6e-06", exact)[0]
    assert not compare_text("epoch 10", "epoch 11", exact)[0]        # integers: no slack


def test_absolute_tolerance_for_counts_and_values_near_zero():
    counts = Tolerance(abs=10, reason="test")
    assert compare_text("better on 80, worse on 73", "better on 89, worse on 64", counts)[0]
    assert not compare_text("better on 80, worse on 73", "better on 91, worse on 73", counts)[0]


# --- nbval with the plugin, on small notebooks ------------------------------------------

def notebook(cells) -> nbformat.NotebookNode:
    """cells: (source, saved stdout) pairs, executed in order."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for count, (source, saved) in enumerate(cells, 1):
        cell = nbformat.v4.new_code_cell(source, execution_count=count)
        if saved is not None:
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=saved)]
        nb.cells.append(cell)
    return nb


def run_nbval(tmp_path, nb) -> subprocess.CompletedProcess:
    path = tmp_path / "chapter.ipynb"
    nbformat.write(nb, path)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env", "-p", "tests.nbval_approx",
         "--rootdir", str(tmp_path), "-p", "no:cacheprovider", "-q", str(path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_nbval_compares_marked_cells_within_their_tolerance(tmp_path):
    nb = notebook([
        ("# NBVAL_APPROX rel=0.05: trained\nprint('perplexity 5.30, target met')",
         "perplexity 5.28, target met\n"),                       # within 5%: passes
        ("# NBVAL_APPROX rel=0.01: trained\nprint('perplexity 5.60, target met')",
         "perplexity 5.28, target met\n"),                       # outside 1%: fails
        ("# NBVAL_APPROX rel=0.5: trained\nprint('perplexity 5.28, target missed')",
         "perplexity 5.28, target met\n"),                       # words differ: fails
        ("print('perplexity 5.30')", "perplexity 5.28\n"),       # unmarked: exact, fails
        ("print('shape (3, 4)')", "shape (3, 4)\n"),             # unmarked, equal: passes
    ])
    result = run_nbval(tmp_path, nb)
    out = result.stdout
    assert "2 passed" in out and "3 failed" in out, out
    assert "5.28 -> 5.60 (allowed difference 0.0628)" in out, out
    assert "The text around the numbers differs" in out, out


def test_nbval_refuses_a_malformed_marker(tmp_path):
    result = run_nbval(tmp_path, notebook([("# NBVAL_APPROX rel=0.05\nprint(1)", "1\n")]))
    assert result.returncode != 0
    assert "no reason given" in result.stdout + result.stderr


def test_nbval_refuses_approx_together_with_ignore(tmp_path):
    result = run_nbval(tmp_path, notebook([
        ("# NBVAL_IGNORE_OUTPUT\n# NBVAL_APPROX rel=0.05: x\nprint(1)", "1\n")]))
    assert result.returncode != 0
    assert "keep one of the two markers" in result.stdout + result.stderr
