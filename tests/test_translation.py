"""utils.translation: reading, normalizing, filtering, splitting, vocabularies, encoding, batches."""

from __future__ import annotations

import re

import pytest
import torch

import utils
from utils import translation as T


@pytest.fixture(scope="module")
def book_data():
    """The book's data with its default settings (never modify it in a test)."""
    return T.load_translation_data()


def test_read_pairs_gives_every_line_of_the_file():
    pairs = T.read_pairs()
    assert len(pairs) == 167_130
    assert pairs[0] == ("Go.", "Va !")
    assert all(isinstance(e, str) and isinstance(f, str) and e and f for e, f in pairs[:1000])


@pytest.mark.parametrize("raw, expected", [
    ("Go.", "go ."),
    ("Cours\u202f!", "cours !"),                   # narrow no-break space
    ("Va\u00a0!", "va !"),                          # no-break space
    ("Wait,  what?", "wait , what ?"),
    ("I'm home.", "i'm home ."),
    ("Hi...", "hi . . ."),
    ("  Qui ?  ", "qui ?"),
    ("C'est l'heure !", "c'est l'heure !"),
])
def test_normalize(raw, expected):
    assert T.normalize(raw) == expected


def test_normalize_rejects_non_strings():
    with pytest.raises(TypeError, match="expects a str"):
        T.normalize(["go"])


def test_tokenize_pair_splits_both_sides():
    assert T.tokenize_pair("He's calm.", "Il est calme.") == (["he's", "calm", "."],
                                                               ["il", "est", "calme", "."])


def test_filter_by_length_keeps_pairs_short_on_both_sides():
    pairs = [(["a"] * 2, ["b"] * 3), (["a"] * 4, ["b"]), (["a"], ["b"] * 4), (["a"] * 3, ["b"] * 3)]
    assert T.filter_by_length(pairs, 3) == [pairs[0], pairs[3]]
    with pytest.raises(ValueError, match="max_tokens must be a positive integer, got 0"):
        T.filter_by_length(pairs, 0)


def _toy_pairs(num_sentences=300):
    pairs = []
    for i in range(num_sentences):
        for j in range(1 + i % 3):             # 1, 2 or 3 translations per sentence
            pairs.append(([f"e{i}", "."], [f"f{i}", f"v{j}", "."]))
    return pairs


def test_split_is_by_english_sentence_exact_in_size_and_fixed():
    pairs = _toy_pairs()
    train, valid, test = T.split_pairs(pairs, num_test=50, num_valid=40, seed=0)
    assert (len(test), len(valid), len(train)) == (50, 40, len(pairs) - 90)
    sources = [{" ".join(s) for s, _ in part} for part in (train, valid, test)]
    assert not (sources[0] & sources[1] or sources[0] & sources[2] or sources[1] & sources[2])
    assert sorted(map(str, train + valid + test)) == sorted(map(str, pairs))
    assert T.split_pairs(list(reversed(pairs)), 50, 40, 0)[2] != []
    again = T.split_pairs(pairs, num_test=50, num_valid=40, seed=0)
    assert again == (train, valid, test)
    other = T.split_pairs(pairs, num_test=50, num_valid=40, seed=1)
    assert other[2] != test


@pytest.mark.parametrize("first, second", [
    ("what is your name ?", "what's your name ?"),
    ("i am a twin .", "i'm a twin ."),
    ("stop yelling .", "stop yelling !"),
    ("i will go .", "i'll go ."),
    ("they are all the same .", "they're all the same ."),
    ("tom won't come .", "tom will not come ."),
    ("yes , i can't .", "yes i can not"),
])
def test_near_duplicate_key_merges_contractions_and_punctuation(first, second):
    assert T.near_duplicate_key(first.split()) == T.near_duplicate_key(second.split())


def test_near_duplicate_key_keeps_different_sentences_apart_and_checks_its_input():
    assert T.near_duplicate_key("i am here .".split()) != T.near_duplicate_key("i was here .".split())
    assert T.near_duplicate_key(["don't", "go", "!"]) == "do not go"
    with pytest.raises(TypeError, match="list of str tokens"):
        T.near_duplicate_key("what's up ?")


def test_split_keeps_near_duplicates_together_and_takes_a_key():
    pairs = [(["i'm", "a", "twin", "."], ["je", "suis", "jumeau", "."]),
             (["i", "am", "a", "twin", "!"], ["je", "suis", "jumelle", "!"])] + _toy_pairs()
    for seed in range(5):
        parts = T.split_pairs(pairs, num_test=50, num_valid=40, seed=seed)
        where = [i for i, part in enumerate(parts) for src, _ in part if "twin" in src]
        assert len(where) == 2 and where[0] == where[1]
    exact = T.split_pairs(pairs, num_test=50, num_valid=40, seed=0, key=" ".join)
    assert sorted(map(str, sum(exact, []))) == sorted(map(str, pairs))
    with pytest.raises(TypeError, match="key must be a function"):
        T.split_pairs(pairs, num_test=50, num_valid=40, key="loose")


def test_group_references_lists_each_sentence_once_with_all_its_translations():
    pairs = [(["go", "."], ["va", "!"]), (["hi", "."], ["salut", "."]),
             (["go", "."], ["allez", "!"])]
    sources, references = T.group_references(pairs)
    assert sources == [["go", "."], ["hi", "."]]
    assert references == [[["va", "!"], ["allez", "!"]], [["salut", "."]]]


def test_split_complains_when_too_small():
    with pytest.raises(ValueError, match="too few"):
        T.split_pairs(_toy_pairs(10), num_test=50, num_valid=40)


def test_build_vocabs_reserved_tokens_and_min_freq():
    pairs = [(["go", "."], ["va", "!"]), (["go", "now", "."], ["va", "!"])]
    src, tgt = T.build_vocabs(pairs, min_freq=2)
    assert src.idx_to_token == ["<unk>", "<pad>", "<bos>", "<eos>", ".", "go"]
    assert tgt.idx_to_token == ["<unk>", "<pad>", "<bos>", "<eos>", "!", "va"]
    assert src["now"] == src["<unk>"] == 0
    with pytest.raises(ValueError, match="no pairs"):
        T.build_vocabs([])


def test_truncate_pad():
    assert T.truncate_pad([5, 6, 7], 5, pad=1) == [5, 6, 7, 1, 1]
    assert T.truncate_pad([5, 6, 7], 2, pad=1) == [5, 6]
    with pytest.raises(ValueError, match="num_steps"):
        T.truncate_pad([5], 0, pad=1)


def test_encode_appends_eos_pads_and_counts_valid_length():
    pairs = [(["go", "."], ["va", "!"]), (["go", "now", "go", "."], ["va", "!"])]
    src_vocab, tgt_vocab = T.build_vocabs(pairs, min_freq=1)
    enc = T.encode(pairs, src_vocab, tgt_vocab, num_steps=4)
    eos, pad = src_vocab["<eos>"], src_vocab["<pad>"]
    assert enc.src[0].tolist() == [src_vocab["go"], src_vocab["."], eos, pad]
    assert enc.src_valid_len.tolist() == [3, 4]                  # the second one is cut
    assert enc.src[1].tolist() == src_vocab[["go", "now", "go", "."]]   # no room for <eos>
    assert enc.tgt_valid_len.tolist() == [3, 3]
    assert enc.src.dtype == enc.tgt.dtype == torch.long and enc.src.shape == (2, 4)
    with pytest.raises(TypeError, match="split it first"):
        T.encode_sentences(["go ."], src_vocab, 4)


def test_batches_cover_every_pair_once_and_repeat_with_a_seed():
    pairs = _toy_pairs(40)
    src_vocab, tgt_vocab = T.build_vocabs(pairs, min_freq=1)
    enc = T.encode(pairs, src_vocab, tgt_vocab, num_steps=5)
    batches = list(T.translation_batches(enc, 16, generator=torch.Generator().manual_seed(0)))
    assert [len(b.src) for b in batches] == [16] * (len(pairs) // 16) + [len(pairs) % 16]
    rows = torch.cat([b.src for b in batches])
    assert sorted(map(tuple, rows.tolist())) == sorted(map(tuple, enc.src.tolist()))
    again = list(T.translation_batches(enc, 16, generator=torch.Generator().manual_seed(0)))
    assert all(torch.equal(a.tgt, b.tgt) for a, b in zip(batches, again))
    in_order = next(T.translation_batches(enc, 16, shuffle=False))
    assert torch.equal(in_order.src, enc.src[:16])


def test_book_data_split_sizes_and_no_test_sentence_in_training(book_data):
    d = book_data
    assert len(d.test_pairs) == T.NUM_TEST == 1000
    assert len(d.valid_pairs) == T.NUM_VALID
    assert len(d.train_pairs) == 52_014
    train_sources = {" ".join(s) for s, _ in d.train_pairs}
    assert not any(" ".join(s) in train_sources for s, _ in d.test_pairs + d.valid_pairs)


def _loose(sentence: str) -> str:
    """Written apart from near_duplicate_key: contractions spelled out, punctuation dropped."""
    for short, long in (("won't", "will not"), ("can't", "can not"), ("cannot", "can not"),
                        ("shan't", "shall not"), ("ain't", "is not"), ("let's", "let us")):
        sentence = re.sub(rf"(?<!\S){re.escape(short)}(?!\S)", long, sentence)
    for short, long in (("n't", " not"), ("'re", " are"), ("'ve", " have"), ("'ll", " will"),
                        ("'d", " would"), ("'s", " is"), ("'m", " am")):
        sentence = re.sub(rf"(?<=\S){short}(?!\S)", long, sentence)
    return " ".join(w for w in sentence.split() if w not in {".", "!", "?", ",", '"'})


def test_no_test_or_validation_sentence_has_a_near_duplicate_in_training(book_data):
    # the normalization: contractions spelled out ("what's" -> "what is", "won't" ->
    # "will not", every 's read as "is"), the punctuation tokens . ! ? , " dropped
    d = book_data
    train = {_loose(" ".join(s)) for s, _ in d.train_pairs}
    for part in (d.test_pairs, d.valid_pairs):
        assert not [" ".join(s) for s, _ in part if _loose(" ".join(s)) in train]
    assert _loose("what's your name ?") == _loose("what is your name .") == "what is your name"
    assert _loose("i won't go , tom's here") == "i will not go tom is here"
    for s, t in d.train_pairs + d.valid_pairs + d.test_pairs:
        assert 1 <= len(s) <= T.MAX_TOKENS and 1 <= len(t) <= T.MAX_TOKENS
    assert d.num_steps == T.MAX_TOKENS + 1
    assert d.test.src.shape == (1000, d.num_steps)
    assert d.src_vocab.idx_to_token[:4] == ["<unk>", "<pad>", "<bos>", "<eos>"]


def test_vocabularies_come_from_the_training_pairs_only(book_data):
    d = book_data
    counts = {}
    for s, _ in d.train_pairs:
        for token in s:
            counts[token] = counts.get(token, 0) + 1
    kept = {t for t, n in counts.items() if n >= 2}
    assert set(d.src_vocab.idx_to_token[4:]) == kept


def test_train_max_tokens_keeps_the_test_set():
    short = T.load_translation_data(train_max_tokens=4)
    full = T.load_translation_data()
    assert short.test_pairs == full.test_pairs
    assert all(len(s) <= 4 and len(t) <= 4 for s, t in short.train_pairs)
    with pytest.raises(ValueError, match="train_max_tokens=7 is larger than max_tokens=6"):
        T.load_translation_data(train_max_tokens=7)


def test_public_names():
    for name in ("normalize", "read_pairs", "load_translation_data", "split_pairs",
                 "build_vocabs", "truncate_pad", "translation_batches"):
        assert hasattr(utils, name), name


def test_batches_by_length_trim_the_target_padding_and_still_cover_every_pair():
    pairs = [([f"e{i}", "."], [f"f{j}" for j in range(1 + i % 5)]) for i in range(90)]
    src_vocab, tgt_vocab = T.build_vocabs(pairs, min_freq=1)
    enc = T.encode(pairs, src_vocab, tgt_vocab, num_steps=7)
    batches = list(T.translation_batches(enc, 8, generator=torch.Generator().manual_seed(0),
                                         by_length=True))
    assert len(batches) == -(-90 // 8)
    for b in batches:
        assert b.src.shape[1] == 7                               # the source keeps its width
        assert b.tgt.shape[1] == int(b.tgt_valid_len.max())      # the target loses its padding
    seen = sorted(tuple(r) for b in batches for r in b.src.tolist())
    assert seen == sorted(tuple(r) for r in enc.src.tolist())
    # sorted within chunks: most batches hold one target length only
    assert sum(len(set(b.tgt_valid_len.tolist())) == 1 for b in batches) >= len(batches) - 5
