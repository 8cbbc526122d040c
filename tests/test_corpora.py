"""Tests for utils/corpora.py: the shipped data files, their SHA-1 check, read_book."""

import hashlib
import re
import shutil
from pathlib import Path

import pytest

import utils
from utils import corpora
from utils.corpora import BOOKS, DATA_FILES, DataFileError, data_path, read_book, strip_gutenberg

SHIPPED = Path(utils.__file__).resolve().parent / "data"
README = SHIPPED / "README.md"


def sha1_of(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


@pytest.fixture
def fresh_cache(monkeypatch):
    """Forget which files were already verified, so data_path hashes them again."""
    monkeypatch.setattr(corpora, "_verified", set())


@pytest.fixture
def data_copy(tmp_path, monkeypatch, fresh_cache):
    """A copy of utils/data in tmp_path that data_path reads instead of the real one."""
    for entry in DATA_FILES.values():
        shutil.copyfile(SHIPPED / entry.filename, tmp_path / entry.filename)
    monkeypatch.setattr(corpora, "DATA_DIR", tmp_path)
    return tmp_path


# data_path

@pytest.mark.parametrize("name", list(DATA_FILES))
def test_data_path_returns_the_shipped_file_with_its_sha1(name, fresh_cache):
    path = data_path(name)
    assert path.is_file()
    assert path.parent == SHIPPED
    assert path.name == DATA_FILES[name].filename
    assert sha1_of(path) == DATA_FILES[name].sha1


def test_data_files_agree_with_the_data_readme():
    readme = README.read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(\w+)` \| `([^`]+)` \(([\d,]+) bytes\) \| `([0-9a-f]{40})` \|",
                      readme, re.M)
    assert {name for name, *_ in rows} == set(DATA_FILES)
    for name, filename, size, sha1 in rows:
        assert DATA_FILES[name].filename == filename
        assert DATA_FILES[name].sha1 == sha1
        assert (SHIPPED / filename).stat().st_size == int(size.replace(",", ""))


def test_books_are_data_files():
    assert BOOKS == ("time_machine", "war_of_the_worlds")
    assert all(book in DATA_FILES for book in BOOKS)


def test_data_path_unknown_name_lists_the_choices():
    with pytest.raises(ValueError, match=r"'timemachine'.*'time_machine', 'war_of_the_worlds', "
                                         r"'fra_eng'"):
        data_path("timemachine")


@pytest.mark.parametrize("name", list(DATA_FILES))
def test_data_path_missing_file_says_which_and_how_to_restore(name, data_copy):
    filename = DATA_FILES[name].filename
    (data_copy / filename).unlink()
    with pytest.raises(DataFileError, match="missing") as info:
        data_path(name)
    message = str(info.value)
    assert repr(filename) in message
    assert "git checkout -- utils/data" in message
    assert "--force-reinstall" in message


@pytest.mark.parametrize("name", list(DATA_FILES))
def test_data_path_damaged_file_gives_both_hashes_and_how_to_restore(name, data_copy):
    path = data_copy / DATA_FILES[name].filename
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01                       # flip one bit in the middle
    path.write_bytes(bytes(data))
    with pytest.raises(DataFileError, match="damaged") as info:
        data_path(name)
    message = str(info.value)
    assert repr(path.name) in message
    assert sha1_of(path) in message
    assert DATA_FILES[name].sha1 in message
    assert "git checkout -- utils/data" in message
    assert "--force-reinstall" in message


def test_data_path_accepts_an_intact_copy(data_copy):
    assert data_path("time_machine") == data_copy / "timemachine.txt"


def test_data_file_error_is_a_runtime_error():
    assert issubclass(DataFileError, RuntimeError)


def test_data_path_hashes_each_file_only_once(fresh_cache, monkeypatch):
    hashed = []
    real_sha1 = corpora._sha1
    monkeypatch.setattr(corpora, "_sha1", lambda path: hashed.append(path) or real_sha1(path))
    first, second = data_path("time_machine"), data_path("time_machine")
    assert first == second
    assert hashed == [first]


# read_book

def test_read_book_war_of_the_worlds_drops_header_and_license():
    text = read_book("war_of_the_worlds")
    assert "PROJECT GUTENBERG" not in text
    assert "***" not in text
    assert "Title: The War of the Worlds" not in text      # from the header
    assert "The War of the Worlds" in text[:60]           # the book's own title page
    assert "among the dead." in text[-500:]               # the book's last words


def test_read_book_war_of_the_worlds_leaves_no_gutenberg_line():
    # The line 'End of the Project Gutenberg EBook of ...' just above the END marker
    # belongs to the footer, not to the book.
    text = read_book("war_of_the_worlds")
    assert "gutenberg" not in text.lower()
    assert text.rstrip().endswith("among the dead.")


def test_read_book_war_of_the_worlds_normalises_crlf():
    assert b"\r\n" in (SHIPPED / "war_of_the_worlds.txt").read_bytes()  # the file has CRLF
    text = read_book("war_of_the_worlds")
    assert "\r" not in text
    assert "\n\nby H. G. Wells\n" in text


def test_read_book_time_machine_is_the_file_unchanged():
    raw = (SHIPPED / "timemachine.txt").read_text(encoding="utf-8")
    text = read_book("time_machine")
    assert text == raw
    assert text.startswith("The Time Machine, by H. G. Wells [1898]\n")


@pytest.mark.parametrize("name", ["fra_eng", "time machine", "", "TIME_MACHINE"])
def test_read_book_rejects_what_is_not_a_book(name):
    with pytest.raises(ValueError, match=r"Unknown book .*'time_machine', 'war_of_the_worlds'"):
        read_book(name)


def test_read_book_reports_a_missing_file(data_copy):
    (data_copy / "war_of_the_worlds.txt").unlink()
    with pytest.raises(DataFileError, match="war_of_the_worlds.txt"):
        read_book("war_of_the_worlds")


# strip_gutenberg

@pytest.mark.parametrize("text", [
    "",
    "Just a book.\nTwo lines.\n",
    "It mentions the Project Gutenberg License, but has no markers.\n",
    "A quoted marker: *** START OF THIS PROJECT GUTENBERG EBOOK X *** mid-line.\n",
])
def test_strip_gutenberg_without_markers_returns_the_text_unchanged(text):
    assert strip_gutenberg(text) == text


@pytest.mark.parametrize("start, end", [
    ("*** START OF THIS PROJECT GUTENBERG EBOOK A BOOK ***",
     "*** END OF THIS PROJECT GUTENBERG EBOOK A BOOK ***"),
    ("*** START OF THE PROJECT GUTENBERG EBOOK A BOOK ***",
     "*** END OF THE PROJECT GUTENBERG EBOOK A BOOK ***"),
    ("***START OF THE PROJECT GUTENBERG EBOOK A BOOK***",
     "***END OF THE PROJECT GUTENBERG EBOOK A BOOK***"),
])
def test_strip_gutenberg_keeps_only_the_text_between_the_markers(start, end):
    text = f"Header\nlicense\n{start}\n\n\nChapter I\n\nThe body.\n\n{end}\nFooter\nmore\n"
    assert strip_gutenberg(text) == "Chapter I\n\nThe body.\n"


def test_strip_gutenberg_with_only_a_start_marker_keeps_the_rest():
    text = "Header\n*** START OF THIS PROJECT GUTENBERG EBOOK X ***\nThe body.\nThe end.\n"
    assert strip_gutenberg(text) == "The body.\nThe end.\n"
