"""Re-execute chapter notebooks in place, top to bottom, and report the time of each.

    python scripts/execute_notebooks.py                      # every notebook in chapters/
    python scripts/execute_notebooks.py chapters/02_*.ipynb  # some of them
    python scripts/execute_notebooks.py --sync-record        # execute nothing; see below

Run it through `make execute [NB=...]`, which uses the project's .venv. The
kernel starts in chapters/, widget state is stored (the website shows the
widgets frozen), no per-cell timing metadata is written, and the file comes out
the same on every run (stable widget ids, merged output streams). A notebook that
fails is left unchanged on disk and the script exits with status 1.

Each notebook that runs through records its time, the date, and the machine and
versions it ran on in book/execution_record.json, and the table of the page "How
the numbers were produced" (book/reproducibility.md, between two marker comments)
is written anew from that file. --sync-record adds an entry marked "not yet
recorded" for every chapter that has none, drops those of notebooks that no longer
exist, and rewrites the table, without executing anything.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import fcntl
import hashlib
import json
import os
import platform
import re
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # the repository, for utils
from utils.runtime import cpu_facts  # noqa: E402  (after the path is set)

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "chapters"
BUDGET_SECONDS = {13: 240, 14: 240, 15: 240}  # everything else: 180 s (the book's plan)
DEFAULT_BUDGET = 180
TOTAL_BUDGET = 900      # 15 minutes for the whole book (the book's plan)

RECORD = ROOT / "book" / "execution_record.json"
RECORD_LOCK = ROOT / "_build" / ".execution_record.lock"
PAGE = ROOT / "book" / "reproducibility.md"
BEGIN = ("<!-- execution record: begin. Written by scripts/execute_notebooks.py from "
         "book/execution_record.json; do not edit by hand. -->")
END = "<!-- execution record: end -->"
ABOUT = ("The last `make execute` of each chapter: its wall-clock seconds, when it ran, the "
         "load average then, the machine, the versions and the Makefile's reproducibility "
         "variables. Written by scripts/execute_notebooks.py, which also rewrites the table of "
         "book/reproducibility.md from it.")
# The variables the Makefile sets so that the numbers do not depend on the machine.
REPRODUCIBILITY_VARIABLES = ("ATEN_CPU_CAPABILITY", "MKL_CBWR", "ONEDNN_MAX_CPU_ISA", "OMP_NUM_THREADS")
VERSIONS_OF = ("torch", "numpy", "matplotlib", "ipywidgets", "nbclient", "ipykernel")


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


# --- the execution record -------------------------------------------------------------

def run_facts(seconds: float, started: float, load: float | None) -> dict:
    """What one successful run of a notebook is recorded with."""
    versions = {"python": platform.python_version()}
    for package in VERSIONS_OF:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "seconds": round(seconds, 1),
        "executed": datetime.datetime.fromtimestamp(started, datetime.timezone.utc)
                            .strftime("%Y-%m-%d %H:%M UTC"),
        "load_average": None if load is None else round(load, 2),
        "machine": {**cpu_facts(), "system": f"{platform.system()} {platform.machine()}"},
        "versions": versions,
        "environment": {name: os.environ.get(name) for name in REPRODUCIBILITY_VARIABLES},
    }


def not_recorded() -> dict:
    return {"seconds": None, "note": "not yet recorded: executed before runs were recorded"}


def chapter_names() -> list[str]:
    return sorted(p.stem for p in CHAPTERS.glob("[0-9][0-9]_*.ipynb"))


class RecordError(Exception):
    """The execution record or the page's table could not be written."""


@contextlib.contextmanager
def locked_record():
    """Read book/execution_record.json, let the caller change it, write it back and
    rewrite the page's table, all under a lock (a file in _build/, never committed):
    two `make execute` runs at once must not lose each other's entries."""
    RECORD_LOCK.parent.mkdir(parents=True, exist_ok=True)
    with open(RECORD_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            record = json.loads(RECORD.read_text(encoding="utf-8")) if RECORD.is_file() else {}
        except ValueError as error:
            raise RecordError(f"{RECORD.relative_to(ROOT)} is not valid JSON ({error}); "
                              "restore it with `git checkout -- book/execution_record.json`") from error
        record.setdefault("about", ABOUT)
        record.setdefault("notebooks", {})
        yield record
        record["notebooks"] = dict(sorted(record["notebooks"].items()))
        write_atomically(RECORD, json.dumps(record, indent=2, ensure_ascii=False) + "\n")
        write_page_table(record)


def write_atomically(path: Path, text: str) -> None:
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, delete=False,
                                     prefix=f".{path.name}.") as handle:
        handle.write(text)
    os.chmod(handle.name, 0o644)     # a temporary file is private; the result is not
    os.replace(handle.name, path)


def chapter_title(name: str) -> str:
    """The notebook's '# N. Title' heading, or its name if it has none."""
    with contextlib.suppress(OSError, ValueError, KeyError, IndexError):
        nb = json.loads((CHAPTERS / f"{name}.ipynb").read_text(encoding="utf-8"))
        first = "".join(nb["cells"][0]["source"]).splitlines()[0]
        if first.startswith("# "):
            return first[2:].strip()
    return name


def describe_setup(entry: dict) -> str:
    """One line: the machine, the versions and the Makefile's variables of a run."""
    machine, versions = entry["machine"], entry["versions"]
    cpu = machine["cpu"] + (f" ({machine['vector_isa']})" if machine.get("vector_isa") else "")
    packages = ", ".join(f"{name} {version}" for name, version in versions.items()
                         if name != "python" and version)
    variables = ", ".join(f"`{name}={value}`" for name, value in entry["environment"].items()
                          if value is not None) or "none of the Makefile's variables set"
    return (f"{cpu}, {machine['logical_cpus']} logical CPUs, {machine['system']}; "
            f"Python {versions['python']}, {packages}; {variables}")


def page_table(record: dict) -> str:
    """The Markdown between the page's markers: one row per chapter and the total, then
    each distinct setup (machine, versions, variables) that the rows refer to."""
    rows = ["| chapter | seconds | budget | executed | load | setup |",
            "|---|---:|---:|---|---:|---|"]
    setups: dict[str, str] = {}       # description -> label
    total, timed = 0.0, 0
    notebooks = record.get("notebooks", {})
    for name, entry in notebooks.items():
        limit = budget(Path(f"{name}.ipynb"))
        link = f"[{chapter_title(name)}](../chapters/{name}.ipynb)"
        if entry.get("seconds") is None:
            rows.append(f"| {link} | not yet recorded | {limit} | | | |")
            continue
        total += entry["seconds"]
        timed += 1
        label = setups.setdefault(describe_setup(entry), chr(ord("A") + len(setups)))
        load = "" if entry.get("load_average") is None else f"{entry['load_average']:.2f}"
        over = " (over)" if entry["seconds"] > limit else ""
        rows.append(f"| {link} | {entry['seconds']:.1f}{over} | {limit} | {entry['executed']} | "
                    f"{load} | {label} |")
    over = " (over)" if total > TOTAL_BUDGET else ""
    rows.append(f"| **all chapters** | **{total:.1f}**{over} | {TOTAL_BUDGET} | "
                f"{timed} of {len(notebooks)} recorded | | |")
    lines = ["\n".join(rows), ""]
    if setups:
        lines.append("Setups:")
        lines.append("")
        lines += [f"- **{label}**: {description}" for description, label in setups.items()]
    else:
        lines.append("No run has been recorded yet.")
    return "\n".join(lines)


def write_page_table(record: dict) -> None:
    """Replace what lies between the markers of book/reproducibility.md by the table."""
    text = PAGE.read_text(encoding="utf-8")
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise RecordError(f"{PAGE.relative_to(ROOT)}: the markers of the execution table are "
                          f"missing; put these two lines where the table goes:\n{BEGIN}\n{END}")
    new = text[:start] + BEGIN + "\n\n" + page_table(record) + "\n\n" + text[end:]
    if new != text:
        write_atomically(PAGE, new)


def sync_record() -> None:
    names = chapter_names()
    with locked_record() as record:
        notebooks = record["notebooks"]
        for name in list(notebooks):
            if name not in names:
                del notebooks[name]
        for name in names:
            notebooks.setdefault(name, not_recorded())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: chapters/*.ipynb")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per cell")
    parser.add_argument("--sync-record", action="store_true",
                        help="execute nothing: add missing chapters to book/execution_record.json "
                             "as not yet recorded, and rewrite the table of book/reproducibility.md")
    args = parser.parse_args()
    if args.sync_record:
        try:
            sync_record()
        except RecordError as error:
            print(error, file=sys.stderr)
            return 1
        print(f"{RECORD.relative_to(ROOT)} and the table of {PAGE.relative_to(ROOT)} are up to date.")
        return 0
    paths = args.notebooks or [CHAPTERS / f"{name}.ipynb" for name in chapter_names()]
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
        started, load = time.time(), (os.getloadavg()[0] if hasattr(os, "getloadavg") else None)
        try:
            seconds = execute(path, args.timeout)
        except CellExecutionError as error:
            print(f"{path.name} FAILED; the file is unchanged.\n{error}", file=sys.stderr)
            failed = True
            continue
        rows.append((path.name, seconds, budget(path)))
        if path.parent == CHAPTERS:
            try:
                with locked_record() as record:
                    record["notebooks"][path.stem] = run_facts(seconds, started, load)
            except (RecordError, OSError) as error:
                print(f"{path.name} ran, but its time was not recorded: {error}", file=sys.stderr)
                failed = True
    if rows:
        print(f"\n| notebook | seconds | budget | |\n|---|---:|---:|---|")
        for name, seconds, limit in rows:
            flag = "OVER BUDGET" if seconds > limit else ""
            print(f"| {name} | {seconds:.1f} | {limit} | {flag} |")
        print(f"| total | {sum(s for _, s, _ in rows):.1f} | {TOTAL_BUDGET} | "
              f"{'OVER BUDGET' if sum(s for _, s, _ in rows) > TOTAL_BUDGET else ''} |")
        print(f"\nRecorded in {RECORD.relative_to(ROOT)} and the table of {PAGE.relative_to(ROOT)}.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
