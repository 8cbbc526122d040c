"""scripts/compare_runs.py: only measured times may differ between two runs of a notebook."""

from __future__ import annotations

import copy

from scripts_loader import load_script

compare_runs = load_script("compare_runs")


def _notebook(text: str, source: str = "print(1)", png: str = "AAAA") -> dict:
    return {"cells": [
        {"cell_type": "markdown", "source": "Prose."},
        {"cell_type": "code", "source": source, "outputs": [
            {"output_type": "stream", "name": "stdout", "text": [text]},
            {"output_type": "display_data", "data": {"image/png": png, "text/plain": "<plot>"}},
        ]}], "metadata": {}}


def test_times_and_speeds_may_differ():
    old = _notebook("after 3 epochs: loss 1.339; 97.9 s of training, 9,441 target tokens/s, 0.97x\n")
    new = _notebook("after 3 epochs: loss 1.339; 130.2 s of training, 7,104 target tokens/s, 1.02x\n")
    assert compare_runs.compare(old, new, "nb") == []


def test_any_other_number_may_not():
    old = _notebook("after 3 epochs: loss 1.339; 97.9 s\n")
    new = _notebook("after 3 epochs: loss 1.340; 97.9 s\n")
    problems = compare_runs.compare(old, new, "nb")
    assert len(problems) == 1 and "text differs" in problems[0]


def test_a_figure_may_differ_only_where_the_cell_says_it_shows_a_time():
    old, new = _notebook("x\n"), _notebook("x\n", png="BBBB")
    assert "figure differs" in compare_runs.compare(old, new, "nb")[0]
    source = "# Not compared: the speeds, measured on the wall clock.\nplot()"
    old, new = _notebook("x\n", source), _notebook("x\n", source, png="BBBB")
    assert compare_runs.compare(old, new, "nb") == []


def test_prose_edits_are_not_results_but_code_edits_are_reported():
    old = _notebook("x\n")
    new = copy.deepcopy(old)
    new["cells"][0]["source"] = "Other prose."
    assert compare_runs.compare(old, new, "nb") == []
    new["cells"][1]["source"] = "print(2)"
    assert "source differs" in compare_runs.compare(old, new, "nb")[0]
