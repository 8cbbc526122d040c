"""The corpora that ship inside the package, loaded by name and verified by SHA-1.

Nothing is downloaded: the files live in ``utils/data/`` and are installed with
the package (also by ``pip install`` on Colab). ``utils/data/README.md`` gives
their origin, license and attribution.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class DataFile:
    filename: str
    sha1: str
    title: str


DATA_FILES = {
    "time_machine": DataFile(
        "timemachine.txt", "090b5e7e70c295757f55df93cb0a180b9691891a",
        "The Time Machine, H. G. Wells (1895)"),
    "war_of_the_worlds": DataFile(
        "war_of_the_worlds.txt", "c930de09ed9cc7766136881c303acde30da242fa",
        "The War of the Worlds, H. G. Wells (1898), Project Gutenberg #36"),
    "fra_eng": DataFile(
        "fra-eng.zip", "94646ad1522d915e7b0f9296181140edcf86a4f5",
        "English-French sentence pairs, Tatoeba / manythings.org"),
}
BOOKS = ("time_machine", "war_of_the_worlds")

_REINSTALL = ("To restore it, run `git checkout -- utils/data` in a clone of the repository; "
              "after a pip install (on Colab, say), reinstall the package with the command "
              "in the notebook's setup cell, adding --force-reinstall.")
_verified: set[Path] = set()


class DataFileError(RuntimeError):
    """A shipped data file is missing or does not match its SHA-1."""


def _sha1(path: Path) -> str:
    digest = hashlib.sha1()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def data_path(name: str) -> Path:
    """Return the path of the data file ``name`` after checking its SHA-1.

    ``name`` is one of ``DATA_FILES``: 'time_machine', 'war_of_the_worlds', 'fra_eng'.
    Raises ``DataFileError`` if the file is missing or damaged.
    """
    if name not in DATA_FILES:
        raise ValueError(f"Unknown data file {name!r}. Choose one of: "
                         + ", ".join(repr(n) for n in DATA_FILES) + ".")
    entry = DATA_FILES[name]
    path = DATA_DIR / entry.filename
    if path in _verified:
        return path
    if not path.is_file():
        raise DataFileError(f"The data file {entry.filename!r} ({entry.title}) is missing "
                            f"from utils/data/. {_REINSTALL}")
    actual = _sha1(path)
    if actual != entry.sha1:
        raise DataFileError(f"The data file {entry.filename!r} is damaged: its SHA-1 is {actual}, "
                            f"expected {entry.sha1}. {_REINSTALL}")
    _verified.add(path)
    return path


_GUTENBERG_START = re.compile(r"^\*\*\* ?START OF (THIS|THE) PROJECT GUTENBERG EBOOK.*$", re.M)
_GUTENBERG_END = re.compile(r"^\*\*\* ?END OF (THIS|THE) PROJECT GUTENBERG EBOOK.*$", re.M)
# Many Gutenberg texts also close with a plain line just above the *** END marker.
_GUTENBERG_LAST_LINE = re.compile(r"\n\s*End of (the|this) Project Gutenberg.*\s*$", re.I)


def strip_gutenberg(text: str) -> str:
    """Remove the Project Gutenberg header and license footer, if present."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str (a whole book), got a {type(text).__name__}.")
    start = _GUTENBERG_START.search(text)
    end = _GUTENBERG_END.search(text)
    if start:
        body = text[start.end():end.start() if end else len(text)]
        return _GUTENBERG_LAST_LINE.sub("", body).strip("\n") + "\n"
    return text


def read_book(name: str) -> str:
    """The raw text of a book ('time_machine' or 'war_of_the_worlds').

    Line endings are normalised to ``'\\n'`` and a Project Gutenberg header and footer
    are removed; nothing else is changed (see ``clean_text`` for that).
    """
    if name not in BOOKS:
        raise ValueError(f"Unknown book {name!r}. Choose one of: "
                         + ", ".join(repr(b) for b in BOOKS) + ".")
    text = data_path(name).read_text(encoding="utf-8")
    return strip_gutenberg(text.replace("\r\n", "\n"))
