"""Compare re-executed notebooks with a committed version: only measured times may differ.

    python scripts/compare_runs.py                 # chapters/*.ipynb against HEAD
    python scripts/compare_runs.py --rev HEAD~1 chapters/13_seq2seq.ipynb

On the machine that executed the book, ``make execute`` must give the same
notebooks except for what measures time on the wall clock: numbers followed by
a unit of time or speed (``97.9 s``, ``9,441 tokens/s``, ``0.97x``, ``12 ms``),
and the whole output of cells whose ``# Not compared:`` note says they show a
time, a speed, the machine or its load. Everything else (every other number, sample, figure and widget
state) must be equal, byte for byte. Prints each difference and exits with 1
if there is one that is not a time.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# A measured quantity: a number with a unit of time or of speed.
_MEASURED = re.compile(
    r"\d[\d,]*(?:\.\d+)?(?:e[+-]?\d+)?\s*"
    r"(?:s\b|ms\b|µs\b|us\b|min\b|seconds?\b|minutes?\b|x\b|×|"
    r"(?:target )?tokens/s\b|tok/s\b|steps/s\b|it/s\b|sentences/s\b|%\s+of\s+the\s+time)")
# A cell whose "# Not compared:" note (the reason nbval skips it) names a time, a
# speed, the machine or its load: its whole output may differ from run to run.
_TIMED_NOTE = re.compile(r"#\s*Not compared:.*\b(time|times|timed|speeds?|seconds|tokens/s|"
                         r"faster|slower|clock|how long|load|machine)\b", re.IGNORECASE | re.DOTALL)


def _masked(text: str) -> str:
    return _MEASURED.sub("<measured>", text)


def _outputs(cell: dict) -> list:
    return cell.get("outputs", [])


def _texts(output: dict) -> list[str]:
    parts = []
    if "text" in output:
        parts.append("".join(output["text"]))
    for kind, value in sorted(output.get("data", {}).items()):
        if kind.startswith("text/") or kind.endswith("json"):
            parts.append(kind + ":" + (value if isinstance(value, str) else
                                       json.dumps(value, sort_keys=True)))
    return parts


def _images(output: dict) -> list[str]:
    return [value for kind, value in sorted(output.get("data", {}).items())
            if kind.startswith("image/") and kind != "image/svg+xml"]


def compare(old: dict, new: dict, name: str) -> list[str]:
    """What differs between two versions of one notebook, other than measured times."""
    problems = []
    if len(old["cells"]) != len(new["cells"]):
        return [f"{name}: {len(old['cells'])} cells before, {len(new['cells'])} now"]
    for index, (a, b) in enumerate(zip(old["cells"], new["cells"])):
        where = f"{name}, cell {index}"
        if a.get("cell_type") != "code" and a.get("cell_type") == b.get("cell_type"):
            continue                                  # prose: not a result
        if a.get("source") != b.get("source"):
            problems.append(f"{where}: the source differs (compare a run of the same code)")
            continue
        outs_a, outs_b = _outputs(a), _outputs(b)
        if len(outs_a) != len(outs_b):
            problems.append(f"{where}: {len(outs_a)} outputs before, {len(outs_b)} now")
            continue
        timed = bool(_TIMED_NOTE.search("".join(a.get("source", ""))))
        if timed:
            continue
        for out_a, out_b in zip(outs_a, outs_b):
            for text_a, text_b in zip(_texts(out_a), _texts(out_b)):
                if text_a != text_b and _masked(text_a) != _masked(text_b):
                    problems.append(f"{where}: text differs:\n  before: {text_a[:300]!r}\n"
                                    f"  now:    {text_b[:300]!r}")
            if _images(out_a) != _images(out_b):
                problems.append(f"{where}: a figure differs (and the cell does not say it "
                                f"shows a time)")
    old_widgets = old.get("metadata", {}).get("widgets")
    new_widgets = new.get("metadata", {}).get("widgets")
    if json.dumps(old_widgets, sort_keys=True) != json.dumps(new_widgets, sort_keys=True):
        if _masked(json.dumps(old_widgets, sort_keys=True)) != \
                _masked(json.dumps(new_widgets, sort_keys=True)):
            problems.append(f"{name}: the saved widget state differs")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to compare (default: chapters/*.ipynb)")
    parser.add_argument("--rev", default="HEAD", help="the git revision to compare with")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted((ROOT / "chapters").glob("*.ipynb"))
    problems, same = [], 0
    for path in notebooks:
        path = path.resolve()
        relative = path.relative_to(ROOT).as_posix()
        shown = subprocess.run(["git", "show", f"{args.rev}:{relative}"], cwd=ROOT,
                               capture_output=True, text=True)
        if shown.returncode != 0:
            problems.append(f"{relative}: not in {args.rev}")
            continue
        found = compare(json.loads(shown.stdout), json.loads(path.read_text()), relative)
        problems += found
        same += not found
    for problem in problems:
        print(problem)
    print(f"{same} of {len(notebooks)} notebooks equal to {args.rev} except measured times.")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
