"""Prose that quotes a sample quotes the sample the page shows.

Cells marked NBVAL_IGNORE_OUTPUT print what differs from machine to machine: text
sampled from a language model, translations. The markdown right after such a cell
often quotes it in italics (*je suis chez lui .*). When the chapter is re-executed
on another machine the output changes and the quotation can go stale silently:
nbval does not compare these cells, and the numbers check (test_unshown_numbers)
sees no number. This test reads the committed notebooks and requires every
italic span of those paragraphs to occur in the output they follow, except the
few italic words that are emphasis or titles, listed below with their reason.
Words in double quotes are not checked: there they are mostly glosses ("I am at
his place") and source sentences, which no output needs to hold; so a paragraph
that quotes a sample should quote it in italics, or better, describe it in terms
the cell prints (chapters 5, 7, 8 and 10 count the sample's words of the book).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from scripts_loader import load_script

CHAPTERS = Path(__file__).resolve().parents[1] / "chapters"

# Italic spans in those paragraphs that are not quotations of the output, by chapter.
NOT_QUOTES = {
    "05_rnn_concise": {"word": "emphasis: a word model, not a character model",
                       "The Time Machine": "a book's title",
                       "The War of the Worlds": "a book's title"},
    "11_bidirectional_rnn": {"before": "emphasis"},
    "13_seq2seq": {"grande": "the right form, which the model did not write"},
    "13_seq2seq_bleu": {"larger": "emphasis", "sentence BLEU": "a term being defined",
                        "one": "emphasis"},
    "14_beam_search": {"references": "emphasis"},
    "16_performance_settings": {"Runtime > Change runtime type": "a Colab menu"},
}

ITALIC = re.compile(r"(?<![*\w\\])\*(?!\*)([^*\n]+?)\*(?![*\w])")


# the text of a cell's outputs, as scripts/unshown_numbers.py reads it
_text = load_script("unshown_numbers")._output_text


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("`", "")).strip().lower()


def stale_quotes(path: Path) -> list[str]:
    """Italic spans after an ignored cell's text output that the output does not hold."""
    cells = json.loads(path.read_text())["cells"]
    allowed = NOT_QUOTES.get(path.stem, {})
    found = []
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "code" or "NBVAL_IGNORE_OUTPUT" not in "".join(cell["source"]):
            continue
        output = _normal(_text(cell))
        if not output:
            continue
        for after in cells[i + 1:]:
            if after["cell_type"] != "markdown":
                break
            prose = re.sub(r"\$[^$]*\$", "", "".join(after["source"]))   # not equations
            for quote in ITALIC.findall(prose):
                if quote not in allowed and _normal(quote).rstrip(" .") not in output:
                    found.append(f"cell {after.get('id')}: *{quote}* is not in the output of "
                                 f"cell {cell.get('id')}")
    return found


@pytest.mark.parametrize("path", sorted(CHAPTERS.glob("[0-9][0-9]_*.ipynb")), ids=lambda p: p.stem)
def test_italic_quotes_of_a_sample_are_in_the_sample(path):
    stale = stale_quotes(path)
    assert not stale, (
        f"{path.stem}: the prose quotes what the cell before it no longer prints (re-executed "
        "on another machine?); quote the output the page shows, or describe it in terms the "
        "cell prints, or list an italic word that is not a quotation in "
        "tests/test_quoted_samples.py:\n  " + "\n  ".join(stale))


def test_every_listed_exception_is_still_needed():
    for name, words in NOT_QUOTES.items():
        prose = "".join("".join(c["source"]) for c in
                        json.loads((CHAPTERS / f"{name}.ipynb").read_text())["cells"]
                        if c["cell_type"] == "markdown")
        for word, reason in words.items():
            assert reason and f"*{word}*" in prose, f"{name}: *{word}* is listed but not used"


def test_a_stale_quote_is_found(tmp_path):
    notebook = {"cells": [
        {"cell_type": "code", "source": ["# NBVAL_IGNORE_OUTPUT\n", "print(x)"],
         "outputs": [{"output_type": "stream", "text": ["i'm home . => je suis chez lui .\n"]}]},
        {"cell_type": "markdown", "id": "m1",
         "source": ["It wrote *je suis chez lui .* once and *je suis chez moi .* never."]}]}
    path = tmp_path / "99_example.ipynb"
    path.write_text(json.dumps(notebook))
    assert stale_quotes(path) == ["cell m1: *je suis chez moi .* is not in the output of cell None"]
