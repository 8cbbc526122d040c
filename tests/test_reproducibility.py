"""The page "How the numbers were produced" (book/reproducibility.md) tells the truth:
its table is the one scripts/execute_notebooks.py writes from book/execution_record.json,
and that record has an entry for every chapter of the table of contents.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from scripts_loader import load_script

ROOT = Path(__file__).resolve().parent.parent
RECORD = ROOT / "book" / "execution_record.json"
PAGE = ROOT / "book" / "reproducibility.md"
SYNC = "`.venv/bin/python scripts/execute_notebooks.py --sync-record`"


def load_execute_script():
    return load_script("execute_notebooks")


@pytest.fixture(scope="module")
def script():
    return load_execute_script()


@pytest.fixture(scope="module")
def record() -> dict:
    return json.loads(RECORD.read_text(encoding="utf-8"))


def toc_chapters() -> list[str]:
    """The chapters listed in _toc.yml, by notebook name (01_mlp_to_sequences, ...)."""
    def files(node):
        if isinstance(node, dict):
            yield from ([node["file"]] if "file" in node else [])
            for value in node.values():
                yield from files(value)
        elif isinstance(node, list):
            for item in node:
                yield from files(item)
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    return [f.split("/", 1)[1] for f in files(toc) if f.startswith("chapters/")]


def test_every_chapter_of_the_toc_has_an_entry(record):
    missing = [name for name in toc_chapters() if name not in record["notebooks"]]
    assert not missing, (f"book/execution_record.json has no entry for {missing}: execute them with "
                         f"`make execute NB=chapters/NAME.ipynb`, or record them as not yet timed "
                         f"with {SYNC}")


def test_every_entry_is_a_chapter(record):
    chapters = {p.stem for p in (ROOT / "chapters").glob("*.ipynb")}
    stale = sorted(set(record["notebooks"]) - chapters)
    assert not stale, f"book/execution_record.json has entries for notebooks that are gone: {stale}; " \
                      f"drop them with {SYNC}"


def test_recorded_runs_are_complete(record, script):
    for name, entry in record["notebooks"].items():
        if entry["seconds"] is None:
            assert "not yet recorded" in entry.get("note", ""), f"{name}: no time and no note why"
            continue
        assert entry["seconds"] > 0, f"{name}: {entry['seconds']} seconds"
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", entry["executed"]), entry["executed"]
        assert entry["machine"]["cpu"] and entry["machine"]["logical_cpus"] >= 1, entry["machine"]
        assert entry["versions"]["python"] and entry["versions"]["torch"], entry["versions"]
        assert set(entry["environment"]) == set(script.REPRODUCIBILITY_VARIABLES), entry["environment"]


def test_the_page_shows_the_record(record, script):
    text = PAGE.read_text(encoding="utf-8")
    assert script.BEGIN in text and script.END in text, "book/reproducibility.md lost its table markers"
    table = text[text.index(script.BEGIN) + len(script.BEGIN):text.index(script.END)].strip()
    assert table == script.page_table(record).strip(), \
        f"the table of book/reproducibility.md differs from book/execution_record.json; rewrite it with {SYNC}"


def test_the_page_is_in_the_toc():
    assert "book/reproducibility" in (ROOT / "_toc.yml").read_text(encoding="utf-8")


def test_no_machine_paths_in_the_record():
    text = RECORD.read_text(encoding="utf-8")
    match = re.search(r"(?<![\w.])/(?:work|root|tmp|home/\w+|Users/\w+)/|" + re.escape(str(ROOT)), text)
    assert not match, f"book/execution_record.json holds a path of this machine: {match.group(0)}"
