"""scripts/time_cells.py: per-cell seconds of a notebook, nothing written back."""

import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from scripts_loader import load_script

time_cells = load_script("time_cells")


def test_each_code_cell_is_timed_and_the_notebook_left_alone(tmp_path):
    path = tmp_path / "01_tiny.ipynb"
    nb = new_notebook(cells=[new_markdown_cell("# 1. Tiny"), new_code_cell("x = 1"),
                             new_code_cell("import time\ntime.sleep(0.3)")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, path)
    before = path.read_bytes()
    result = time_cells.time_notebook(path)
    assert path.read_bytes() == before
    assert [c["code_cell"] for c in result["cells"]] == [0, 1]
    assert result["cells"][1]["seconds"] >= 0.3 > result["cells"][0]["seconds"]
    assert result["cells"][1]["first_line"] == "import time"
    assert result["seconds"] >= 0.3


def test_a_missing_notebook_is_named(tmp_path, capsys):
    with pytest.raises(SystemExit):
        time_cells.main([str(tmp_path / "nope.ipynb")])
    assert "no such notebook" in capsys.readouterr().err


def test_the_json_names_the_machine_and_no_path(tmp_path):
    path = tmp_path / "01_tiny.ipynb"
    nb = new_notebook(cells=[new_code_cell("x = 1")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, path)
    out = tmp_path / "times.json"
    assert time_cells.main([str(path), "--json", str(out)]) == 0
    text = out.read_text()
    record = json.loads(text)
    assert record["notebooks"]["01_tiny"]["cells"][0]["code_cell"] == 0
    assert record["machine"]["logical_cpus"] >= 1 and record["total_seconds"] >= 0
    assert str(tmp_path) not in text
