"""How far the chapters' numbers move on another machine and with another seed.

    python scripts/measure_spread.py --label foreign                  # this environment
    python scripts/measure_spread.py --label seed1 --seed-offset 1    # every seed + 1
    python scripts/measure_spread.py --label seed1 --seed-offset 1 chapters/07_gru.ipynb
    python scripts/measure_spread.py --report                         # benchmarks/spread.md

Run it through `make spread [NB=...]`, which runs every variant in its environment.
To redo one seed variant, run the script with the environment that the Makefile
exports (`ATEN_CPU_CAPABILITY=avx2 MKL_CBWR=AVX2 ONEDNN_MAX_CPU_ISA=AVX2
OMP_NUM_THREADS=2`), then `--report`. Measure after the chapter's final
execution: a cell that prints records of other seeds (utils.seed_values) is
compared with the saved text, so records taken while the saved text was older
show a spread that is not there. Each run executes copies of the
chapters (the files in chapters/ are not touched) in the current environment,
with an empty model cache, and compares every output that nbval compares with
the saved one, number by number (the comparison of tests/nbval_approx.py). It
writes benchmarks/spread/LABEL.json: for each chapter and cell (by cell id),
whether the text is equal, whether it is equal once numbers are set aside, and
the pairs of saved and new numbers that differ.

A *machine* variant runs under other CPU code paths, BLAS kernels and thread
counts (see the Makefile's FOREIGN and PLAIN): what another computer does to
the same computation. A *seed* variant (--seed-offset K) adds K to every seed
given to utils.set_seed (also the ones utils.translator uses), which starts
training from other weights: the spread of a result over seeds. A cell marked
NBVAL_APPROX must hold its machine variants within its tolerance
(tests/test_tolerances.py checks it from these files); for trained results the
book chooses the tolerance at least as wide as the spread over seeds, which the
report shows beside it. --report writes benchmarks/spread.md from all files.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from nbval_approx import Tolerance, ToleranceError, parse_tolerance, skeleton, numbers  # noqa: E402

CHAPTERS = ROOT / "chapters"
OUT = ROOT / "benchmarks" / "spread"
REPORT = ROOT / "benchmarks" / "spread.md"
SANITIZE = ROOT / "tests" / "nbval_sanitize.cfg"
VARIABLES = ("ATEN_CPU_CAPABILITY", "MKL_CBWR", "ONEDNN_MAX_CPU_ISA", "OPENBLAS_CORETYPE",
             "OMP_NUM_THREADS")
SEED_PATCH = """\
# Injected by scripts/measure_spread.py: every seed given to set_seed moves by {offset}.
import utils, utils.runtime, utils.translator
_set_seed = utils.runtime.set_seed
def _shifted_set_seed(seed=0):
    _set_seed(seed + {offset})
utils.set_seed = utils.runtime.set_seed = utils.translator.set_seed = _shifted_set_seed
"""


def sanitize_patterns() -> list[tuple[str, str]]:
    return re.findall(r"^regex: (.*)$\n^replace: (.*)$", SANITIZE.read_text(), flags=re.MULTILINE)


def sanitize(text: str, patterns) -> str:
    for regex, replace in patterns:
        text = re.sub(regex, replace, text)
    return text


def ignored(source: str) -> bool:
    markers = {line.strip().lstrip("#").strip() for line in source.splitlines()
               if line.strip().startswith("#")}
    return bool(markers & {"NBVAL_IGNORE_OUTPUT", "NBVAL_SKIP"})


def texts(cell) -> list[str]:
    """The text nbval compares, in order: each stream (merged by name) and each text/plain."""
    streams, out = {}, []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            if output.name in streams:
                out[streams[output.name]] += output.text
            else:
                streams[output.name] = len(out)
                out.append(output.text)
        elif output.output_type in ("display_data", "execute_result"):
            out.append(output.get("data", {}).get("text/plain", ""))
        elif output.output_type == "error":
            out.append(f"ERROR {output.ename}: {output.evalue}")
    return out


def compare_cell(saved_cell, new_cell, patterns) -> dict:
    saved = [sanitize(t, patterns) for t in texts(saved_cell)]
    new = [sanitize(t, patterns) for t in texts(new_cell)] if new_cell is not None else []
    entry = {"equal": saved == new,
             "error": any(o.output_type == "error" for o in (new_cell or {}).get("outputs", []))}
    if not entry["equal"]:      # kept, so that the comparison can be redone later
        entry["saved"], entry["new"] = "\n".join(saved)[:4000], "\n".join(new)[:4000]
    entry["same_text"], entry["pairs"] = same_text_and_pairs(saved, new)
    return entry


def same_text_and_pairs(saved: list[str], new: list[str]) -> tuple[bool, list]:
    """Whether the texts agree but for their numbers, and the numbers that differ."""
    if len(saved) != len(new) or any(skeleton(a) != skeleton(b) for a, b in zip(saved, new)):
        return False, []
    return True, [[s, n] for a, b in zip(saved, new)
                  for (s, _), (n, _) in zip(numbers(a), numbers(b)) if s != n]


def evaluated(entry: dict) -> tuple[bool, list]:
    """(same_text, pairs) of a recorded entry, compared anew from its texts where they
    were kept (so that a change of the comparison applies to old records too)."""
    if entry.get("equal"):
        return True, []
    if "saved" in entry and "new" in entry:
        return same_text_and_pairs([entry["saved"]], [entry["new"]])
    return entry["same_text"], entry.get("pairs", [])


def run_chapter(path: Path, offset: int, patterns) -> dict:
    saved = nbformat.read(path, as_version=4)
    copy = nbformat.read(path, as_version=4)
    if offset:
        copy.cells.insert(0, nbformat.v4.new_code_cell(SEED_PATCH.format(offset=offset)))
    client = NotebookClient(copy, timeout=1800, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(CHAPTERS)}})
    tic = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - tic
    by_id = {c.get("id"): c for c in copy.cells if c.cell_type == "code"}
    cells, errors, number = {}, [], -1
    for cell in saved.cells:
        if cell.cell_type != "code":
            continue
        number += 1
        new = by_id.get(cell.id)
        for output in (new or {}).get("outputs", []):
            if output.output_type == "error":     # an assertion about a result failed
                errors.append(f"code cell {number}: {output.ename}: {output.evalue}"[:500])
        if ignored(cell.source) or not cell.get("outputs"):
            continue
        cells[cell.id] = compare_cell(cell, new, patterns)
    return {"seconds": round(seconds, 1), "cells": cells, "errors": errors}


def measure(label: str, offset: int, paths: list[Path]) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    target = OUT / f"{label}.json"
    record = json.loads(target.read_text()) if target.is_file() else {}
    record.update({
        "label": label,
        "kind": "seed" if offset else "machine",
        "seed_offset": offset,
        "environment": {name: os.environ.get(name) for name in VARIABLES},
        "machine": platform.processor() or platform.machine(),
    })
    record.setdefault("chapters", {})
    patterns = sanitize_patterns()
    with tempfile.TemporaryDirectory() as cache:
        os.environ["RNN_BOOK_CACHE"] = cache      # every variant trains its own models
        for path in paths:
            print(f"{label}: {path.name} ...", flush=True)
            result = run_chapter(path, offset, patterns)
            result["executed"] = datetime.datetime.now(datetime.timezone.utc).strftime(
                "%Y-%m-%d %H:%M UTC")
            record["chapters"][path.stem] = result
            changed = [cid for cid, c in result["cells"].items() if not c["equal"]]
            print(f"  {result['seconds']:.0f} s; {len(changed)} of {len(result['cells'])} "
                  f"compared cells differ; errors: {result['errors'] or 'none'}", flush=True)
            target.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    return target


# --- the report ---------------------------------------------------------------------------

def needed(pairs) -> tuple[float, float]:
    """The smallest (rel, abs) tolerance, beyond one unit of rounding, that covers pairs."""
    from nbval_approx import _unit
    rel = abs_ = 0.0
    for s, n in pairs:
        sv, nv = float(s.replace(",", "")), float(n.replace(",", ""))
        excess = max(0.0, abs(nv - sv) - max(_unit(s), _unit(n)))
        abs_ = max(abs_, excess)
        rel = max(rel, excess / abs(sv) if sv else (float("inf") if excess else 0.0))
    return rel, abs_


def load_records() -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(OUT.glob("*.json"))]


def cell_labels(nb) -> dict:
    """cell id -> (code cell number as nbval counts it, tolerance or None, first line)."""
    labels, number = {}, 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            tolerance = parse_tolerance(cell.source)
        except ToleranceError:
            tolerance = None
        labels[cell.id] = (number, tolerance)
        number += 1
    return labels


def fmt(rel: float, abs_: float) -> str:
    """'rel / abs', e.g. '2.10% / 0.11'; '0' for nothing beyond rounding."""
    if rel == abs_ == 0:
        return "0"
    return f"{100 * rel:.3g}% / {abs_:.3g}"


def report() -> str:
    records = load_records()
    machines = [r for r in records if r["kind"] == "machine"]
    seeds = [r for r in records if r["kind"] == "seed"]
    lines = ["# How far the checked numbers move: machines and seeds", "",
             "Written by `python scripts/measure_spread.py --report` from benchmarks/spread/*.json "
             "(`make spread` measures them). For every cell that nbval compares within a "
             "tolerance (`# NBVAL_APPROX`), the smallest relative / absolute tolerance (beyond "
             "one unit of rounding) that would cover each variant, next to the declared one "
             "(`=`: the variant printed exactly the saved text). *Machine* variants must be "
             "covered (tests/test_tolerances.py). For a result of training the declared "
             "tolerance is 1.5 times the largest deviation over machines and seeds, rounded "
             "up (an absolute one for counts and for differences near zero); in chapter 1, "
             "where a seed also draws the data, it rests on the machines. Cells that hold no "
             "trained result (float arithmetic printed to its last digit, random numbers "
             "before training) need only cover the machines: another seed draws other numbers "
             "there, so their seed columns say nothing about the tolerance.", "",
             "Variants:", ""]
    for r in records:
        env = ", ".join(f"`{k}={v}`" for k, v in r["environment"].items() if v is not None)
        extra = f", seeds + {r['seed_offset']}" if r["kind"] == "seed" else ""
        lines.append(f"- **{r['label']}** ({r['kind']}{extra}): {env or 'no variables set'}")
    lines += [""]
    header = ["chapter", "cell", "declared"] + [r["label"] for r in machines + seeds]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    exact_changed = []
    for path in sorted(CHAPTERS.glob("[0-9][0-9]_*.ipynb")):
        labels = cell_labels(nbformat.read(path, as_version=4))
        for cell_id, (number, tolerance) in labels.items():
            row, seen = [], False
            for r in machines + seeds:
                entry = r.get("chapters", {}).get(path.stem, {}).get("cells", {}).get(cell_id)
                if entry is None:
                    row.append("")
                    continue
                seen = True
                same_text, pairs = evaluated(entry)
                if entry["equal"]:
                    row.append("=")
                elif not same_text:
                    row.append("text differs")
                else:
                    row.append(fmt(*needed(pairs)))
                if tolerance is None and not entry["equal"] and r["kind"] == "machine":
                    exact_changed.append(f"{path.stem} cell {number} ({r['label']})")
            if tolerance is not None and seen:
                declared = (fmt(tolerance.rel, tolerance.abs)
                            if tolerance.rel or tolerance.abs else "last digit")
                lines.append(f"| {path.stem} | {number} | {declared} | " + " | ".join(row) + " |")
    lines += ["", "Cells compared exactly that a machine variant changed: "
              + (", ".join(exact_changed) if exact_changed else "none") + "."]
    failed = [f"{r['label']}, {name}, {error}" for r in records
              for name, chapter in sorted(r.get("chapters", {}).items())
              for error in chapter.get("errors", [])]
    lines += ["", "Cells that raised an error (an assertion about a result that failed) in a "
              "variant: " + ("; ".join(failed) if failed else "none") + "."]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every chapter")
    parser.add_argument("--label", help="name of the variant (benchmarks/spread/LABEL.json)")
    parser.add_argument("--seed-offset", type=int, default=0)
    parser.add_argument("--report", action="store_true", help="write benchmarks/spread.md")
    args = parser.parse_args()
    if args.report:
        REPORT.write_text(report())
        print(f"wrote {REPORT.relative_to(ROOT)}")
        return 0
    if not args.label or not re.fullmatch(r"[a-z0-9-]+", args.label):
        parser.error("--label NAME is required (lower-case letters, digits and '-')")
    if args.seed_offset < 0:
        parser.error(f"--seed-offset must be >= 0, got {args.seed_offset}")
    paths = [p.resolve() for p in args.notebooks] or sorted(CHAPTERS.glob("[0-9][0-9]_*.ipynb"))
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}")
    target = measure(args.label, args.seed_offset, paths)
    print(f"wrote {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
