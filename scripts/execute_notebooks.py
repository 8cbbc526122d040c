"""Re-execute chapter notebooks in place, top to bottom, and report the time of each.

    python scripts/execute_notebooks.py                      # every notebook in chapters/
    python scripts/execute_notebooks.py chapters/02_*.ipynb  # some of them

Run it through `make execute [NB=...]`, which uses the project's .venv. The
kernel starts in chapters/, widget state is stored (the website shows the
widgets frozen), no per-cell timing metadata is written, and the file comes out
the same on every run (stable widget ids, merged output streams). A notebook that
fails is left unchanged on disk and the script exits with status 1.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "chapters"
BUDGET_SECONDS = {13: 240, 14: 240, 15: 240}  # everything else: 180 s (BOOK.md)
DEFAULT_BUDGET = 180


def budget(path: Path) -> int:
    match = re.match(r"(\d+)_", path.name)
    return BUDGET_SECONDS.get(int(match.group(1)), DEFAULT_BUDGET) if match else DEFAULT_BUDGET


def stable_widget_ids(nb, name: str):
    """Replace the random widget model ids by ids derived from the notebook's name and
    the order the widgets were created in, so that re-executing an unchanged notebook
    gives an unchanged file (and small diffs)."""
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json")
    if not state:
        return nb
    mapping = {old: hashlib.sha1(f"{name}:{i}".encode()).hexdigest()[:32]
               for i, old in enumerate(state["state"])}
    text = json.dumps(nb)
    for old, new in mapping.items():
        text = text.replace(old, new)
    return nbformat.from_dict(json.loads(text))


def merge_streams(nb):
    """Join consecutive stdout (or stderr) outputs of a cell into one. How the kernel
    splits a stream depends on timing; merged, the saved file is the same every run."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        merged = []
        for output in cell.outputs:
            if (merged and output.output_type == "stream" == merged[-1].output_type
                    and output.name == merged[-1].name):
                merged[-1].text += output.text
            else:
                merged.append(output)
        cell.outputs = merged
    return nb


def execute(path: Path, timeout: int) -> float:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}},
                            store_widget_state=True, record_timing=False)
    tic = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - tic
    nbformat.write(stable_widget_ids(merge_streams(nb), path.stem), path)
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: chapters/*.ipynb")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per cell")
    args = parser.parse_args()
    paths = args.notebooks or sorted(CHAPTERS.glob("[0-9][0-9]_*.ipynb"))
    if not paths:
        print("No notebooks found.", file=sys.stderr)
        return 1
    rows, failed = [], False
    for path in paths:
        path = path.resolve()
        if not path.is_file():
            print(f"{path.name}: no such notebook.", file=sys.stderr)
            failed = True
            continue
        print(f"executing {path.relative_to(ROOT)} ...", flush=True)
        try:
            seconds = execute(path, args.timeout)
        except CellExecutionError as error:
            print(f"{path.name} FAILED; the file is unchanged.\n{error}", file=sys.stderr)
            failed = True
            continue
        rows.append((path.name, seconds, budget(path)))
    if rows:
        print(f"\n| notebook | seconds | budget | |\n|---|---:|---:|---|")
        for name, seconds, limit in rows:
            flag = "OVER BUDGET" if seconds > limit else ""
            print(f"| {name} | {seconds:.1f} | {limit} | {flag} |")
        print(f"| total | {sum(s for _, s, _ in rows):.1f} | 1200 | "
              f"{'OVER BUDGET' if sum(s for _, s, _ in rows) > 1200 else ''} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
