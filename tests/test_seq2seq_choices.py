"""scripts/seq2seq_choices.py: chapter 13 shows the tables of the committed runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scripts_loader import load_script

ROOT = Path(__file__).resolve().parents[1]
RECORD = ROOT / "benchmarks" / "seq2seq-choices.json"
C = load_script("seq2seq_choices")


def _shown(marker: str) -> str:
    nb = json.loads((ROOT / "chapters" / "13_seq2seq.ipynb").read_text(encoding="utf-8"))
    cells = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]
    begin = f"<!-- benchmark-table: {marker} -->"
    cell = next(c for c in cells if begin in c)
    start = cell.index(begin) + len(begin)
    return cell[start:cell.index("<!-- end benchmark-table -->", start)].strip()


@pytest.mark.parametrize("marker, render", [("seq2seq_choices", "choices_table"),
                                            ("seq2seq_packing", "packing_table")])
def test_chapter_13_shows_the_committed_runs(marker, render):
    record = json.loads(RECORD.read_text(encoding="utf-8"))
    assert _shown(marker) == getattr(C, render)(record).strip(), (
        "chapter 13's table differs from benchmarks/seq2seq-choices.json; run python "
        "scripts/seq2seq_choices.py --json benchmarks/seq2seq-choices.json --update-chapter "
        "chapters/13_seq2seq.ipynb --no-runs")


def test_the_chapters_configuration_is_run_h():
    import utils
    record = json.loads(RECORD.read_text(encoding="utf-8"))
    config = dict(record["runs"]["H"]["config"])
    assert config == {**utils.CHAPTER13.__dict__}
    assert record["runs"]["H"]["encoder"] == "default"
    assert all(record["runs"][p]["encoder"] == "padding" for p in ("P0", "P1", "P2"))


def test_tables_need_their_runs():
    with pytest.raises(ValueError, match="lacks the runs"):
        C.choices_table({"runs": {}})
    with pytest.raises(ValueError, match="lacks the runs"):
        C.packing_table({"runs": {}})
