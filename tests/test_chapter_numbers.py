"""Numbers that one chapter's code takes from another chapter's results.

Later chapters draw earlier results as reference lines and table rows (the
5-gram's 4.55, chapter 5's nn.RNN, chapter 7's nn.GRU ...). They are typed in,
not recomputed, so that each chapter runs on its own. If a chapter is changed
and re-executed and its result moves, these tests name every place that still
quotes the old number.
"""

import re
from pathlib import Path

import nbformat
import pytest

CHAPTERS = Path(__file__).resolve().parent.parent / "chapters"

# name -> (chapter that computes it, regex over its checked outputs, capturing the value)
RESULTS = {
    "char 5-gram, k=0.1": ("03_language_models", r"^5-gram\s+\S+\s+(\d+\.\d\d)"),
    "nn.RNN with embedding": ("05_rnn_concise",
                              r"Adam, embedding: validation perplexity (\d+\.\d\d)"),
    "nn.GRU": ("07_gru_training", r"nn\.GRU: validation perplexity (\d+\.\d\d)"),
    "2-layer GRU": ("10_deep_rnn", r"2 layers: .*validation perplexity per epoch: .*?(\d+\.\d\d)$"),
}

# (chapter that quotes it, code that must appear in one of its code cells, result)
QUOTES = [
    ("04_rnn_scratch", "ax.axhline({}", "char 5-gram, k=0.1"),
    ("07_gru_training", "ax.axhline({}", "char 5-gram, k=0.1"),
    ("07_gru_training", "ax.axhline({}", "nn.RNN with embedding"),
    ("08_lstm", "ax.axhline({}", "char 5-gram, k=0.1"),
    ("08_lstm", "ax.axhline({}", "nn.RNN with embedding"),
    ("08_lstm", "ax.axhline({}", "nn.GRU"),
    ("08_lstm", '"nn.RNN": {}', "nn.RNN with embedding"),
    ("08_lstm", '"nn.GRU": {}', "nn.GRU"),
    ("10_deep_rnn", "ax.axhline({}", "nn.RNN with embedding"),
    ("11_bidirectional_rnn", "math.log({})", "2-layer GRU"),
]


def _notebook(name):
    return nbformat.read(CHAPTERS / f"{name}.ipynb", as_version=4)


def _checked_output_lines(name):
    """Text output lines of the cells that nbval compares (not NBVAL_IGNORE_OUTPUT)."""
    for cell in _notebook(name).cells:
        if cell.cell_type != "code" or "NBVAL_IGNORE_OUTPUT" in cell.source:
            continue
        for output in cell.outputs:
            text = output.get("text") or output.get("data", {}).get("text/plain", "")
            yield from text.splitlines()


def result(name):
    chapter, pattern = RESULTS[name]
    values = {m.group(1) for line in _checked_output_lines(chapter)
              if (m := re.search(pattern, line))}
    assert len(values) == 1, (f"{chapter}: expected one checked output matching "
                              f"{pattern!r}, found {sorted(values) or 'none'}")
    return values.pop()


@pytest.mark.parametrize("name", sorted(RESULTS))
def test_each_result_is_printed_once_by_its_chapter(name):
    assert re.fullmatch(r"\d+\.\d\d", result(name))


@pytest.mark.parametrize("chapter, code, name", QUOTES,
                         ids=[f"{c}:{n}:{code.split('{')[0]}" for c, code, n in QUOTES])
def test_quoted_numbers_match_the_chapter_that_computes_them(chapter, code, name):
    value = result(name)
    sources = "\n".join(c.source for c in _notebook(chapter).cells if c.cell_type == "code")
    expected = code.format(value)
    assert expected in sources, (
        f"{chapter} should quote {name} as {expected!r}, the value "
        f"{RESULTS[name][0]} prints now; update the number there (and the prose "
        f"around it), then re-execute {chapter}.")
