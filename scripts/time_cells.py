"""Where a chapter's execution time goes: the seconds of each code cell.

    python scripts/time_cells.py chapters/04_rnn_scratch.ipynb [more notebooks]
    python scripts/time_cells.py --top 5 --json times.json chapters/*.ipynb

Executes each notebook in a fresh kernel as `make execute` does, but writes nothing
back to the notebook: it prints the chapter's total and its slowest cells (cell
number, id, first line), and with --json saves every cell's time. Run it through
make's environment for the book's settings, e.g. `make time-cells NB=...`, and with
an empty RNN_BOOK_CACHE to include the training that chapters 14 and 15 may load
from the cache. The whole book's budget is 15 minutes on 2 cores
(scripts/execute_notebooks.py); this says which cells to look at.
"""

from __future__ import annotations

import argparse
import datetime
import json
import time
from pathlib import Path

import os
import platform

import nbformat
import torch
from nbclient import NotebookClient

from utils.runtime import cpu_facts


def _seconds(execution: dict) -> float:
    start, end = (datetime.datetime.fromisoformat(execution[key].replace("Z", "+00:00"))
                  for key in ("iopub.execute_input", "shell.execute_reply"))
    return (end - start).total_seconds()


def time_notebook(path: Path) -> dict:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=1200, kernel_name="python3", record_timing=True,
                            resources={"metadata": {"path": str(path.parent)}})
    tic = time.perf_counter()
    client.execute()
    total = time.perf_counter() - tic
    cells = []
    for number, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        execution = cell.get("metadata", {}).get("execution", {})
        if "iopub.execute_input" in execution and "shell.execute_reply" in execution:
            first = next((line for line in cell.source.splitlines()
                          if line.strip() and not line.startswith("# NBVAL")), "")
            cells.append({"code_cell": number, "id": cell.get("id"),
                          "seconds": round(_seconds(execution), 2), "first_line": first[:70]})
    return {"seconds": round(total, 1), "cells": cells}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=5, help="slowest cells to print per notebook")
    parser.add_argument("--json", type=Path, help="save every cell's time here")
    args = parser.parse_args(argv)
    missing = [str(p) for p in args.notebooks if not p.is_file()]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}")
    results, total = {}, 0.0
    record = {"about": "Seconds of each code cell, from scripts/time_cells.py (make time-cells).",
              "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
              "machine": {**cpu_facts(), "system": f"{platform.system()} {platform.machine()}"},
              "torch": torch.__version__,
              "environment": {name: os.environ.get(name) for name in
                              ("OMP_NUM_THREADS", "ATEN_CPU_CAPABILITY", "MKL_CBWR",
                               "ONEDNN_MAX_CPU_ISA")},
              "notebooks": results}
    for path in args.notebooks:
        results[path.stem] = result = time_notebook(path.resolve())
        total += result["seconds"]
        print(f"{path.stem}: {result['seconds']:.1f} s", flush=True)
        for cell in sorted(result["cells"], key=lambda c: -c["seconds"])[:args.top]:
            print(f"  {cell['seconds']:7.2f} s  code cell {cell['code_cell']:3d}  "
                  f"{cell['id']}  {cell['first_line']}", flush=True)
        if args.json:
            record["total_seconds"] = round(total, 1)
            args.json.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    print(f"total: {total:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
