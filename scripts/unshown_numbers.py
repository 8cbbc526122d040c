"""Numbers in a chapter's prose that no output shows.

The book's rule: a number in the prose is printed by a cell of the same chapter,
or is arithmetic on printed numbers, or is cited (another chapter's printed output,
a paper). This script finds the numbers of a chapter's markdown that it cannot
trace to any of those, so that a person either makes the chapter print them or
puts them on the allowlist (tests/unshown_numbers_allowlist.json) with a reason.

What counts as a number of the prose: every number outside equations, code,
links and HTML, except

- integers from 0 to 12 (counts and indices: "three seeds", "2 layers", "step 4"),
- years from 1800 to 2039 written without a thousands separator (citations),
- numbers that name a part of the book: "chapter 7", "section 4.3", "cell 11",
  "exercise 2", "solution 3", headings' section numbers, list markers.

What counts as shown:

- a number in a *checked* output of the same chapter (a cell whose output nbval
  compares: outputs of cells marked NBVAL_IGNORE_OUTPUT differ from machine to
  machine and from run to run, so a sentence must not quote them) that equals the
  prose number once rounded to the prose number's decimals ("5.3" is shown by
  5.28; "24 s" by 23.7); a percentage also by the fraction ("12%" by 0.12);
- a literal in one of the chapter's code cells (a setting the reader can see:
  "256 hidden units", "lr 0.005");
- a number in a checked output of the other notebook of the same chapter, where a
  chapter continues in a second notebook (06_bptt and 06_truncation_clipping);
- a number in a benchmark table that scripts/benchmark_report.py wrote into the
  chapter from the committed results (tests/test_benchmark.py checks it); the
  table itself is not prose;
- a number in a checked output of a chapter that the same paragraph (or list item)
  names ("chapter 5's 4.64").

Run it to list what is not shown:

    python scripts/unshown_numbers.py [chapters/NN_name.ipynb ...]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "chapters"
ALLOWLIST = ROOT / "tests" / "unshown_numbers_allowlist.json"

SMALL = 12                   # integers up to this are counts and indices, not results
YEARS = range(1800, 2040)

# A number: 17,342 or 5.28 or .5 or 1e-6 (signs are left out: "-0.3" and "0.3" are
# looked up alike, and a dash often joins a range, "0.184-0.195").
NUMBER = re.compile(r"(?<![\w.,/])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?(?:e-?\d+)?|\.\d+)"
                    r"(?![\w/]|\.\d|,\d{3})(%?)")
# Numbers that name a part of the book ("chapters 13 and 15", "section 4.3") or a
# software version ("ipywidgets 7.7"), not a result.
_LIST = r"\d+(?:\.\d+)*(?:\s*(?:,|and|or|to|-|–)\s*\d+(?:\.\d+)*)*"
PART = re.compile(r"\b(?:chapters?|sections?|cells?|exercises?|solutions?|figures?|equations?|"
                  r"appendix|issue|python|ipywidgets|torch|pytorch|numpy|jupyter book|sphinx|"
                  r"myst-nb|nbval|sacrebleu|arxiv)\s+" + _LIST, re.IGNORECASE)
PARAGRAPH = re.compile(r"\n\s*\n|\n(?=\s*(?:[-*]|\d+\.)\s)")
CHAPTER_REFERENCE = re.compile(r"chapters?\s+(\d+)(?:\s*(?:,|and|or|to)\s*(\d+))*", re.IGNORECASE)

# A table that scripts/benchmark_report.py writes into a chapter from the committed
# results in benchmarks/ (tests/test_benchmark.py checks that it is what the data
# holds): generated, not prose, and its numbers are shown for the chapter's prose.
DATA_TABLE = re.compile(r"<!-- benchmark-table: \w+ -->.*?<!-- end benchmark-table -->", re.DOTALL)

# Removed from markdown before numbers are looked for: what is not prose.
NOT_PROSE = [
    DATA_TABLE,
    re.compile(r"```.*?```", re.DOTALL),             # fenced code
    re.compile(r"\$\$.*?\$\$", re.DOTALL),           # display math
    re.compile(r"\{[a-z:]+\}`[^`]*`"),               # MyST roles: {cite:p}`Elman1990`
    re.compile(r"`[^`]*`"),                          # inline code
    re.compile(r"(?<!\\)\$[^$]+?(?<!\\)\$"),         # inline math, also over a line break
    re.compile(r"\]\([^)]*\)"),                      # link targets
    re.compile(r"<[^>]+>"),                          # HTML tags and their attributes
    re.compile(r"^#+ .*$", re.MULTILINE),            # headings ("## 4.3 Gradient clipping")
    re.compile(r"^\s*(?:[-*]|\d+\.)\s", re.MULTILINE),   # list markers
    PART,
]


@dataclass(frozen=True)
class ProseNumber:
    chapter: str
    cell: int
    text: str          # as written, "17,342" or "12%"
    context: str       # the words around it
    paragraph: str = ""  # the paragraph or list item it stands in (for cited chapters)

    @property
    def key(self) -> str:
        return f"{self.text} | {self.context}"


def _cells(name: str) -> list[dict]:
    return json.loads((CHAPTERS / f"{name}.ipynb").read_text(encoding="utf-8"))["cells"]


def _source(cell: dict) -> str:
    source = cell["source"]
    return source if isinstance(source, str) else "".join(source)


def _prose(markdown: str) -> str:
    for pattern in NOT_PROSE:
        markdown = pattern.sub(lambda m: " " * len(m.group(0)), markdown)
    return markdown


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text.replace(",", ""))
    except InvalidOperation:
        return None


def prose_numbers(name: str) -> list[ProseNumber]:
    """The numbers of chapter ``name``'s markdown that the rule is about."""
    found = []
    for index, cell in enumerate(_cells(name)):
        if cell["cell_type"] != "markdown":
            continue
        source = _source(cell)
        prose = _prose(source)
        # paragraphs and list items: a chapter named in one shows numbers in that one only
        starts = [0] + [m.end() for m in PARAGRAPH.finditer(source)] + [len(source)]
        for match in NUMBER.finditer(prose):
            text, percent = match.group(1), match.group(2)
            value = _decimal(text)
            if value is None:
                continue
            if not percent and "," not in text and "." not in text and "e" not in text:
                if value <= SMALL or int(value) in YEARS:
                    continue
            context = " ".join(prose[max(0, match.start() - 30):match.end() + 30].split())
            start = max(s for s in starts if s <= match.start())
            end = min(s for s in starts if s > match.start())
            found.append(ProseNumber(name, index, text + percent, context, source[start:end]))
    return found


def _output_text(cell: dict) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if "text" in output:
            text = output["text"]
            parts.append(text if isinstance(text, str) else "".join(text))
        data = output.get("data", {})
        for mime in ("text/plain", "text/html", "text/markdown"):
            if mime in data:
                text = data[mime]
                parts.append(text if isinstance(text, str) else "".join(text))
    return "\n".join(parts)


def _values(text: str) -> set[Decimal]:
    values = set()
    for match in re.finditer(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?(?:e[-+]?\d+)?", text):
        value = _decimal(match.group(0))
        if value is not None:
            values.add(value)
    return values


def checked_output_values(name: str) -> set[Decimal]:
    """Every number in the outputs nbval compares, for chapter ``name``."""
    values = set()
    for cell in _cells(name):
        if cell["cell_type"] == "code" and "NBVAL_IGNORE_OUTPUT" not in _source(cell):
            values |= _values(_output_text(cell))
    return values


def data_table_values(name: str) -> set[Decimal]:
    """Every number in chapter ``name``'s benchmark tables (see DATA_TABLE)."""
    values = set()
    for cell in _cells(name):
        if cell["cell_type"] == "markdown":
            for table in DATA_TABLE.findall(_source(cell)):
                values |= _values(table)
    return values


def code_values(name: str) -> set[Decimal]:
    """Every numeric literal in chapter ``name``'s code cells (the settings shown)."""
    values = set()
    for cell in _cells(name):
        if cell["cell_type"] == "code":
            code = re.sub(r"#.*", "", _source(cell))   # not the comments: they are prose
            values |= _values(code)
    return values


def _rounds_to(value: Decimal, written: str) -> bool:
    target = _decimal(written)
    if "e" in written:
        return value == target
    exponent = Decimal(1).scaleb(target.as_tuple().exponent)
    if value.adjusted() > target.adjusted() + 1:      # 3.4e+38 is not 23, and too
        return False                                  # long to quantize to units
    return any(value.quantize(exponent, rounding=mode) == target
               for mode in (ROUND_HALF_UP, ROUND_HALF_EVEN))


def is_shown(number: str, values: set[Decimal]) -> bool:
    written = number.rstrip("%").replace(",", "")
    if any(_rounds_to(value, written) for value in values):
        return True
    if number.endswith("%"):
        return any(_rounds_to(value * 100, written) for value in values)
    return False


def _chapter_names() -> list[str]:
    return sorted(p.stem for p in CHAPTERS.glob("[0-9][0-9]_*.ipynb"))


def _notebooks_of(number: int) -> set[str]:
    """The notebooks of chapter ``number``: one, or two where a chapter continues in a
    second notebook (06_bptt and 06_truncation_clipping)."""
    return {name for name in _chapter_names() if int(name[:2]) == number}


def cited_chapters(markdown: str) -> set[str]:
    numbers = set()
    for match in CHAPTER_REFERENCE.finditer(markdown):
        numbers |= {int(n) for n in re.findall(r"\d+", match.group(0))}
    return set().union(*(_notebooks_of(n) for n in numbers))


def unshown(name: str) -> list[ProseNumber]:
    """The prose numbers of chapter ``name`` that nothing shows (before the allowlist).

    The chapter's own values are those of all its notebooks (a chapter in two
    notebooks is one chapter) and of its benchmark tables."""
    own = code_values(name) | data_table_values(name)
    for sibling in _notebooks_of(int(name[:2])) | {name}:
        own |= checked_output_values(sibling)
    others: dict[str, set[Decimal]] = {}
    missing = []
    for number in prose_numbers(name):
        if is_shown(number.text, own):
            continue
        cited = cited_chapters(number.paragraph) - {name}
        for chapter in cited:
            if chapter not in others:
                others[chapter] = checked_output_values(chapter)
        if any(is_shown(number.text, others[c]) for c in cited):
            continue
        missing.append(number)
    return missing


def load_allowlist(path: Path = ALLOWLIST) -> dict[str, list[dict]]:
    """chapter -> [{"number": ..., "context": ..., "why": ...}]."""
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))["chapters"]


def allowed(number: ProseNumber, entries: list[dict]) -> bool:
    return any(e["number"] == number.text and e["context"] in number.context for e in entries)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", help="chapters (default: all)")
    parser.add_argument("--all", action="store_true", help="also list allowlisted numbers")
    args = parser.parse_args(argv)
    names = [Path(n).stem for n in args.notebooks] or _chapter_names()
    allowlist = load_allowlist()
    total = 0
    for name in names:
        missing = unshown(name)
        entries = allowlist.get(name, [])
        left = [n for n in missing if args.all or not allowed(n, entries)]
        total += len(left)
        print(f"{name}: {len(prose_numbers(name))} prose numbers, {len(missing)} not shown, "
              f"{len(missing) - len([n for n in missing if not allowed(n, entries)])} allowlisted")
        for n in left:
            print(f"    cell {n.cell}: {n.text:>8}   ... {n.context} ...")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
