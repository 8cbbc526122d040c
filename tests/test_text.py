"""Tests for utils/text.py: clean_text, tokenize, Vocab, load_corpus."""

import collections
import re
import string

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from utils import Vocab, clean_text, load_corpus, tokenize

LETTERS = list(string.ascii_lowercase)


# clean_text

@pytest.mark.parametrize("text, expected", [
    ("Hello, World!", "hello world"),
    ("  The Time-Machine, by H. G. Wells [1898]  ", "the time machine by h g wells"),
    ("end of a line\nstart of the next", "end of a line start of the next"),
    ("tab\tand\r\nCRLF", "tab and crlf"),
    ("It’s 1895 -- ‘really’", "it s really"),
    ("café", "caf"),
    ("", ""),
    ("123 !!! ---", ""),
])
def test_clean_text_examples(text, expected):
    assert clean_text(text) == expected


@settings(max_examples=100, deadline=None)
@given(st.text())
def test_clean_text_keeps_only_lowercase_letters_and_single_spaces(text):
    cleaned = clean_text(text)
    assert re.fullmatch(r"([a-z]+( [a-z]+)*)?", cleaned)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=string.ascii_letters + " \n,.!'-0123", max_size=60))
def test_clean_text_keeps_the_ascii_words_in_order(text):
    words = [w.lower() for w in re.findall("[A-Za-z]+", text)]
    assert clean_text(text).split(" ") == (words or [""])


@pytest.mark.parametrize("bad", [None, 42, b"bytes", ["a list"]])
def test_clean_text_rejects_non_strings(bad):
    with pytest.raises(TypeError, match=f"expects a str, got {type(bad).__name__}"):
        clean_text(bad)


# tokenize

def test_tokenize_char_splits_a_string_into_characters():
    assert tokenize("ab c") == ["a", "b", " ", "c"]
    assert tokenize("ab c", "char") == ["a", "b", " ", "c"]


def test_tokenize_word_splits_on_white_space():
    assert tokenize("the  time\nmachine ", "word") == ["the", "time", "machine"]


@pytest.mark.parametrize("lines", [["ab", "c d"], ("ab", "c d")])
def test_tokenize_lines_gives_one_token_list_per_line(lines):
    assert tokenize(lines, "char") == [["a", "b"], ["c", " ", "d"]]
    assert tokenize(lines, "word") == [["ab"], ["c", "d"]]


def test_tokenize_keeps_blank_lines_among_others():
    assert tokenize(["a b", ""], "word") == [["a", "b"], []]


@pytest.mark.parametrize("token", ["chars", "words", "Char", "", None, 1])
def test_tokenize_rejects_an_unknown_token_type(token):
    with pytest.raises(ValueError, match=rf"'char' or 'word', got {re.escape(repr(token))}"):
        tokenize("some text", token)


@pytest.mark.parametrize("text", ["", [], [""], ["", ""]])
@pytest.mark.parametrize("token", ["char", "word"])
def test_tokenize_rejects_empty_text(text, token):
    with pytest.raises(ValueError, match="empty"):
        tokenize(text, token)


def test_tokenize_rejects_text_with_no_words():
    # Only white space: word tokenization would give nothing to build a vocabulary from.
    with pytest.raises(ValueError, match="empty"):
        tokenize("  \n ", "word")


@pytest.mark.parametrize("lines, bad_type", [(["ok", 3], "int"), (["ok", None], "NoneType"),
                                             ([b"bytes"], "bytes"), ([["nested"]], "list")])
def test_tokenize_rejects_lines_that_are_not_strings(lines, bad_type):
    with pytest.raises(TypeError, match=f"holds a {bad_type}"):
        tokenize(lines)


@pytest.mark.parametrize("text", [42, None, b"bytes", {"a": 1}])
def test_tokenize_rejects_other_types(text):
    with pytest.raises(TypeError, match=f"str or a list of str, got {type(text).__name__}"):
        tokenize(text)


# Vocab: building

def test_vocab_puts_unk_first_then_reserved_tokens_in_order():
    vocab = Vocab(list("banana"), reserved_tokens=["<pad>", "<eos>", "<bos>"])
    assert vocab.idx_to_token[:4] == ["<unk>", "<pad>", "<eos>", "<bos>"]
    assert vocab["<unk>"] == 0 and Vocab.unk == 0
    assert vocab["<pad>"] == 1 and vocab["<bos>"] == 3


def test_vocab_sorts_by_frequency_then_alphabetically():
    vocab = Vocab("d b c a b a c e b".split())    # b: 3, a: 2, c: 2, d: 1, e: 1
    assert vocab.idx_to_token == ["<unk>", "b", "a", "c", "d", "e"]
    assert vocab.token_freqs == [("b", 3), ("a", 2), ("c", 2), ("d", 1), ("e", 1)]


def test_vocab_token_to_idx_is_the_inverse_of_idx_to_token():
    vocab = Vocab(list("the time machine"))
    assert all(vocab.token_to_idx[t] == i for i, t in enumerate(vocab.idx_to_token))
    assert len(vocab.token_to_idx) == len(vocab.idx_to_token)


def test_vocab_min_freq_drops_rare_tokens():
    vocab = Vocab("a a a b b c".split(), min_freq=2)
    assert vocab.idx_to_token == ["<unk>", "a", "b"]
    assert vocab["c"] == 0
    assert "c" not in vocab
    assert ("c", 1) in vocab.token_freqs       # counted, but not given an index


def test_vocab_keeps_reserved_tokens_whatever_min_freq():
    vocab = Vocab(["a", "<eos>"], min_freq=5, reserved_tokens=["<eos>"])
    assert vocab.idx_to_token == ["<unk>", "<eos>"]


def test_vocab_does_not_repeat_reserved_tokens_seen_in_the_text():
    vocab = Vocab(["a", "<eos>", "<eos>", "<unk>"], reserved_tokens=["<eos>"])
    assert vocab.idx_to_token == ["<unk>", "<eos>", "a"]


def test_vocab_counts_nested_token_lists():
    vocab = Vocab([["a", "b"], [["b"], "c"], []])
    assert vocab.token_freqs == [("b", 2), ("a", 1), ("c", 1)]


# Vocab: looking up

def test_vocab_maps_unknown_tokens_to_zero():
    vocab = Vocab(list("abc"))
    assert vocab["z"] == 0
    assert vocab[["a", "z", "c"]] == [vocab["a"], 0, vocab["c"]]


def test_vocab_getitem_and_to_tokens_on_nested_lists():
    vocab = Vocab("b a b".split())                 # <unk>, b, a
    assert vocab[[["a", "b"], ("b",), []]] == [[2, 1], [1], []]
    assert vocab.to_tokens([[2, 1], (1,), []]) == [["a", "b"], ["b"], []]


def test_to_tokens_on_ints_lists_tensors_and_numpy():
    vocab = Vocab("b a b".split())                 # <unk>, b, a
    assert vocab.to_tokens(2) == "a"
    assert vocab.to_tokens([0, 1, 2]) == ["<unk>", "b", "a"]
    assert vocab.to_tokens(torch.tensor([2, 1])) == ["a", "b"]
    assert vocab.to_tokens(torch.tensor(1)) == "b"
    assert vocab.to_tokens(torch.tensor([[1], [2]])) == [["b"], ["a"]]
    assert vocab.to_tokens(np.array([2, 0], dtype=np.int32)) == ["a", "<unk>"]
    assert vocab.to_tokens(np.int64(2)) == "a"


@pytest.mark.parametrize("index", [3, 100, -1, -3])
def test_to_tokens_rejects_indices_outside_the_vocabulary(index):
    vocab = Vocab("b a b".split())
    with pytest.raises(IndexError, match=rf"Index {index} .* valid indices are 0 to 2"):
        vocab.to_tokens(index)


def test_to_tokens_rejects_an_out_of_range_index_inside_a_tensor():
    vocab = Vocab("b a b".split())
    with pytest.raises(IndexError, match="Index 7"):
        vocab.to_tokens(torch.tensor([1, 7]))


@pytest.mark.parametrize("indices", ["a", 1.0, True, None, torch.tensor([1.0]),
                                     np.array([True]), ["a", "b"]])
def test_to_tokens_rejects_non_integers_with_a_hint(indices):
    vocab = Vocab("b a b".split())
    with pytest.raises(TypeError, match=r"integer indices.*use vocab\[\.\.\.\]"):
        vocab.to_tokens(indices)


@pytest.mark.parametrize("tokens", [1, 1.5, None, torch.tensor(1), [1, 2], ["a", 1]])
def test_getitem_rejects_non_strings_with_a_hint(tokens):
    vocab = Vocab("b a b".split())
    with pytest.raises(TypeError, match=r"looks up tokens \(str\).*vocab\.to_tokens"):
        vocab[tokens]


def test_vocab_contains_and_len():
    vocab = Vocab(list("abca"), reserved_tokens=["<eos>"])
    assert len(vocab) == 5                           # <unk>, <eos>, a, b, c
    assert "a" in vocab and "<unk>" in vocab and "<eos>" in vocab
    assert "d" not in vocab and "ab" not in vocab


def test_vocab_repr_is_short_and_shows_the_size():
    assert repr(Vocab(list("aab"))) == "Vocab(size=3: '<unk>', 'a', 'b')"
    long = repr(Vocab(LETTERS))
    assert long.startswith("Vocab(size=27: '<unk>', 'a', 'b'")
    assert long.endswith(", ...)")
    assert len(long) < 100


# Vocab: bad arguments

@pytest.mark.parametrize("min_freq", [0, -1, 1.5, True, "2", None])
def test_vocab_rejects_a_bad_min_freq(min_freq):
    with pytest.raises(ValueError, match=rf"min_freq must be a positive integer, got "
                                         rf"{re.escape(repr(min_freq))}"):
        Vocab(["a"], min_freq=min_freq)


@pytest.mark.parametrize("reserved", [["<pad>", "<pad>"], ["<unk>"], ["<eos>", "<unk>"]])
def test_vocab_rejects_duplicate_reserved_tokens_or_unk(reserved):
    with pytest.raises(ValueError, match=r"distinct and must not contain '<unk>'"):
        Vocab(["a"], reserved_tokens=reserved)


def test_vocab_rejects_reserved_tokens_that_are_not_strings():
    with pytest.raises(TypeError, match="reserved_tokens must be strings"):
        Vocab(["a"], reserved_tokens=["<pad>", 0])


def test_vocab_rejects_a_bare_string_with_a_hint():
    with pytest.raises(TypeError, match=r"not a str.*tokenize\(text, 'char'\)"):
        Vocab("the time machine")


@pytest.mark.parametrize("tokens", [[], [[]], [[], []], ()])
def test_vocab_rejects_empty_tokens(tokens):
    with pytest.raises(ValueError, match="no tokens"):
        Vocab(tokens)


@pytest.mark.parametrize("tokens, bad", [([1, 2], "int"), (["a", None], "NoneType"),
                                         ([["a", 3.5]], "float")])
def test_vocab_rejects_tokens_that_are_not_strings(tokens, bad):
    with pytest.raises(TypeError, match=f"found a {bad}"):
        Vocab(tokens)


# Vocab: properties

token_lists = st.lists(st.text(alphabet="abcde", min_size=1, max_size=3), min_size=1, max_size=60)


@settings(max_examples=100, deadline=None)
@given(token_lists)
def test_vocab_round_trip_with_min_freq_1(tokens):
    vocab = Vocab(tokens)
    indices = vocab[tokens]
    assert all(isinstance(i, int) and 1 <= i < len(vocab) for i in indices)
    assert vocab.to_tokens(indices) == tokens
    assert vocab.to_tokens(torch.tensor(indices)) == tokens
    assert len(vocab) == 1 + len(set(tokens))


@settings(max_examples=100, deadline=None)
@given(token_lists, st.integers(2, 5))
def test_vocab_round_trip_turns_rare_tokens_into_unk(tokens, min_freq):
    vocab = Vocab(tokens, min_freq=min_freq)
    expected = [t if tokens.count(t) >= min_freq else "<unk>" for t in tokens]
    assert vocab.to_tokens(vocab[tokens]) == expected
    assert len(vocab) == 1 + len({t for t in tokens if tokens.count(t) >= min_freq})


@settings(max_examples=100, deadline=None)
@given(token_lists)
def test_vocab_indices_follow_the_counts(tokens):
    vocab = Vocab(tokens)
    ranked = vocab.idx_to_token[1:]
    keys = [(-tokens.count(t), t) for t in ranked]
    assert keys == sorted(keys)


# load_corpus

def test_load_corpus_time_machine_chars(time_machine):
    corpus, vocab = time_machine
    assert isinstance(corpus, torch.Tensor)
    assert corpus.dtype == torch.int64 and corpus.dim() == 1
    assert len(vocab) == 28
    assert vocab.idx_to_token[0] == "<unk>"
    assert set(vocab.idx_to_token[1:]) == set(LETTERS) | {" "}
    assert vocab.idx_to_token[1] == " "               # the most frequent character
    assert "".join(vocab.to_tokens(corpus[:40])) == "the time machine by h g wells i the time"
    assert 0 not in corpus                            # no unknown characters
    assert int(corpus.max()) == 27


def test_load_corpus_time_machine_words():
    corpus, vocab = load_corpus("time_machine", "word")
    assert corpus.dtype == torch.int64 and corpus.dim() == 1
    assert vocab.to_tokens(corpus[:8]) == "the time machine by h g wells i".split()
    assert vocab.idx_to_token[1] == "the"
    assert len(vocab) > 4000


def test_load_corpus_war_of_the_worlds():
    corpus, vocab = load_corpus("war_of_the_worlds", "char")
    assert corpus.dtype == torch.int64 and corpus.dim() == 1
    assert len(vocab) == 28
    assert "".join(vocab.to_tokens(corpus[:27])) == "cover the war of the worlds"
    words, word_vocab = load_corpus("war_of_the_worlds", "word")
    assert word_vocab.to_tokens(words[:6]) == "cover the war of the worlds".split()


def test_load_corpus_word_min_freq_maps_rare_words_to_unk():
    full, full_vocab = load_corpus("time_machine", "word")
    corpus, vocab = load_corpus("time_machine", "word", min_freq=10)
    assert len(vocab) < len(full_vocab)
    assert len(corpus) == len(full)
    words = full_vocab.to_tokens(full)
    counts = collections.Counter(words)
    expected = [w if counts[w] >= 10 else "<unk>" for w in words]
    assert "<unk>" in expected
    assert vocab.to_tokens(corpus) == expected


def test_load_corpus_max_tokens_truncates_but_keeps_the_whole_vocab(time_machine):
    full, full_vocab = time_machine
    corpus, vocab = load_corpus("time_machine", max_tokens=1000)
    assert len(corpus) == 1000
    assert torch.equal(corpus, full[:1000])
    assert vocab.idx_to_token == full_vocab.idx_to_token


def test_load_corpus_max_tokens_beyond_the_book_gives_the_whole_book(time_machine):
    full, _ = time_machine
    corpus, _ = load_corpus("time_machine", max_tokens=10 ** 9)
    assert torch.equal(corpus, full)


@pytest.mark.parametrize("max_tokens", [0, -5, 1.5, True, "100"])
def test_load_corpus_rejects_a_bad_max_tokens(max_tokens):
    with pytest.raises(ValueError, match=rf"max_tokens must be a positive integer or None, "
                                         rf"got {re.escape(repr(max_tokens))}"):
        load_corpus("time_machine", max_tokens=max_tokens)


def test_load_corpus_rejects_an_unknown_book_or_token_type():
    with pytest.raises(ValueError, match="Unknown book 'fra_eng'"):
        load_corpus("fra_eng")
    with pytest.raises(ValueError, match="'char' or 'word', got 'line'"):
        load_corpus("time_machine", "line")
