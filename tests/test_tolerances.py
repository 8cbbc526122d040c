"""The tolerances the chapters declare hold on the other machines that were measured.

`make spread` (scripts/measure_spread.py) re-executes the chapters under other CPU
code paths, BLAS kernels and thread counts ("machine" variants) and with other
seeds, and records in benchmarks/spread/*.json every number that came out
differently. These tests read those records:

- every cell that nbval compares was measured on every machine variant (a cell
  added or changed since needs `make spread NB=...` again);
- a cell compared exactly came out exactly the same on every machine variant;
- a cell marked NBVAL_APPROX came out within its declared tolerance, with the same
  words around the numbers, on every machine variant;
- no assertion of a chapter failed on a machine variant.

The seed variants are shown next to the tolerances in benchmarks/spread.md (for a
trained result the book declares at least the spread over seeds) and are checked
here only for being present.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

from nbval_approx import Tolerance, _unit, parse_tolerance
from scripts_loader import load_script

ROOT = Path(__file__).resolve().parent.parent
RECORDS = sorted((ROOT / "benchmarks" / "spread").glob("*.json"))
CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))
MAKE = "make spread NB=chapters/{}.ipynb"


measure_spread = load_script("measure_spread")


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def ignored(source: str) -> bool:
    markers = {line.strip().lstrip("#").strip() for line in source.splitlines()
               if line.strip().startswith("#")}
    return bool(markers & {"NBVAL_IGNORE_OUTPUT", "NBVAL_SKIP"})


def compared_cells(path: Path):
    """(code cell number, cell) of every cell whose outputs nbval compares."""
    number = -1
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        number += 1
        if not ignored(cell.source) and cell.get("outputs"):
            yield number, cell


def within(pair: list[str], tolerance: Tolerance) -> bool:
    saved, new = pair
    s, n = float(saved.replace(",", "")), float(new.replace(",", ""))
    allowed = max(tolerance.abs, tolerance.rel * abs(s)) + max(_unit(saved), _unit(new))
    return abs(n - s) <= allowed * (1 + 1e-9)


MACHINES = [load(p) for p in RECORDS if load(p)["kind"] == "machine"]
SEEDS = [load(p) for p in RECORDS if load(p)["kind"] == "seed"]


def test_there_are_machine_and_seed_variants():
    assert len(MACHINES) >= 2 and len(SEEDS) >= 3, (
        "benchmarks/spread/ must hold at least two machine variants and three seed "
        "variants; run `make spread`")


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_every_compared_cell_holds_on_every_machine_variant(path):
    problems = []
    for record in MACHINES:
        chapter = record["chapters"].get(path.stem)
        if chapter is None:
            problems.append(f"{record['label']}: chapter not measured; run {MAKE.format(path.stem)}")
            continue
        problems += [f"{record['label']}: {error}" for error in chapter.get("errors", [])]
        for number, cell in compared_cells(path):
            entry = chapter["cells"].get(cell.id)
            where = f"{record['label']}, code cell {number}"
            if entry is None:
                problems.append(f"{where}: not measured (new or changed since); run "
                                f"{MAKE.format(path.stem)}")
                continue
            tolerance = parse_tolerance(cell.source)
            same_text, pairs = measure_spread.evaluated(entry)
            if tolerance is None:
                if not entry["equal"]:
                    problems.append(f"{where}: compared exactly, but it changed: "
                                    f"{pairs or entry.get('new', '')[:200]}")
            elif not same_text:
                problems.append(f"{where}: the words around the numbers changed: "
                                f"{entry.get('new', '')[:200]!r}")
            else:
                outside = [p for p in pairs if not within(p, tolerance)]
                if outside:
                    problems.append(f"{where}: outside {tolerance.describe()}: {outside[:5]}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_every_tolerance_was_measured_with_seeds(path):
    marked = [(number, cell) for number, cell in compared_cells(path)
              if parse_tolerance(cell.source) is not None]
    missing = [f"{record['label']}: code cell {number}" for record in SEEDS
               for number, cell in marked
               if cell.id not in record["chapters"].get(path.stem, {}).get("cells", {})]
    assert not missing, (f"not measured with other seeds: {missing}; run "
                         f"{MAKE.format(path.stem)}")


def trained(source: str) -> bool:
    """A cell whose tolerance covers a result of training: its NBVAL_APPROX comment says
    'trained', and a seed does not also draw its data (chapter 1 says so where it does)."""
    comment = " ".join(line for line in source.splitlines() if line.startswith("#"))
    return (re.search(r"NBVAL_APPROX[^:]*:\s*trained", comment) is not None
            and "change the data" not in comment)


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_a_trained_result_holds_its_seeds_within_its_tolerance(path):
    """The book declares a trained result's tolerance from the spread over machines *and*
    seeds (benchmarks/spread.md): every seed variant must lie within it too."""
    problems = []
    for record in SEEDS:
        chapter = record["chapters"].get(path.stem, {})
        for number, cell in compared_cells(path):
            tolerance = parse_tolerance(cell.source)
            entry = chapter.get("cells", {}).get(cell.id)
            if tolerance is None or entry is None or not trained(cell.source):
                continue
            same_text, pairs = measure_spread.evaluated(entry)
            outside = [p for p in pairs if not within(p, tolerance)]
            if same_text and outside:
                problems.append(f"{record['label']}, code cell {number}: outside "
                                f"{tolerance.describe()}: {outside[:5]}")
    assert not problems, "\n".join(problems)
