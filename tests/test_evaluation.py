"""utils.evaluation: all references, the standard form (13a BLEU, chrF), paired bootstrap."""

from __future__ import annotations

import random

import pytest

from utils import corpus_bleu
from utils.evaluation import (Bootstrap, detokenize, multi_reference_bleu, paired_bootstrap,
                              standard_scores)
from utils import evaluation as B

WORDS = "le chat est sur la table il fait beau je suis chez moi".split()


def corpus(n=60, seed=0):
    rng = random.Random(seed)
    refs = [[rng.sample(WORDS, rng.randint(3, 7)) for _ in range(rng.randint(1, 3))]
            for _ in range(n)]
    good = [list(r[0]) for r in refs]
    noisy = [[w if rng.random() < 0.6 else rng.choice(WORDS) for w in p] for p in good]
    return refs, good, noisy


def test_one_reference_each_is_corpus_bleu():
    refs, _, noisy = corpus()
    one = [[r[0]] for r in refs]
    assert multi_reference_bleu(noisy, one).score == pytest.approx(
        corpus_bleu(noisy, [r[0] for r in refs]).score)


def test_more_references_can_only_help_and_a_copy_changes_nothing():
    refs, _, noisy = corpus()
    first = multi_reference_bleu(noisy, [[r[0]] for r in refs]).score
    all_refs = multi_reference_bleu(noisy, refs)
    assert all_refs.score >= first
    doubled = multi_reference_bleu(noisy, [r + [r[0]] for r in refs]).score
    assert doubled == pytest.approx(all_refs.score)


def test_the_sufficient_statistics_give_sacrebleus_score():
    refs, _, noisy = corpus(seed=3)
    sums = B._sentence_statistics(noisy, refs).sum(axis=0, keepdims=True)
    assert B._bleu_from_sums(sums)[0] == pytest.approx(multi_reference_bleu(noisy, refs).score)


def test_bad_references_are_named():
    with pytest.raises(TypeError, match=r"references\[1\] must be a non-empty list"):
        multi_reference_bleu([["a"], ["b"]], [[["a"]], []])
    with pytest.raises(TypeError, match=r"references\[0\]\[0\]"):
        multi_reference_bleu([["a"]], [["a b"]])
    with pytest.raises(ValueError, match="2 predictions but 1 reference"):
        multi_reference_bleu([["a"], ["b"]], [[["a"]]])


def test_detokenize_rejoins_full_stops_and_commas_only():
    assert detokenize("oui , je suis là .".split()) == "oui, je suis là."
    assert detokenize("cours !".split()) == "cours !"
    with pytest.raises(TypeError, match="split it first"):
        detokenize("je suis")


def test_standard_scores_ignore_case_and_special_spaces():
    bleu, chrf, bleu_sig, chrf_sig = standard_scores(
        ["cours !", "je suis chez moi."], [["Cours\u202f!"], ["Je suis chez moi.", "J'y suis."]])
    assert bleu.score == pytest.approx(100) and chrf.score == pytest.approx(100)
    assert "case:lc" in bleu_sig and "tok:13a" in bleu_sig and "nrefs:var" in bleu_sig
    assert chrf_sig.startswith("nrefs:var")
    with pytest.raises(TypeError, match="detokenize"):
        standard_scores([["cours", "!"]], [["Cours !"]])


def test_a_better_system_wins_every_resample_and_a_system_ties_itself():
    refs, good, noisy = corpus(n=200)
    result = paired_bootstrap(good, noisy, refs, samples=200, seed=1)
    assert isinstance(result, Bootstrap) and result.samples == 200
    assert result.difference == pytest.approx(result.bleu_a - result.bleu_b) and result.difference > 0
    assert 0 < result.low <= result.difference <= result.high
    assert result.share_reversed == 0
    same = paired_bootstrap(noisy, noisy, refs, samples=50)
    assert same.difference == 0 and same.low == same.high == 0 and same.share_reversed == 1.0


def test_the_bootstrap_is_seeded_and_its_arguments_are_checked():
    refs, good, noisy = corpus(n=40)
    a = paired_bootstrap(good, noisy, refs, samples=100, seed=5)
    assert a == paired_bootstrap(good, noisy, refs, samples=100, seed=5)
    with pytest.raises(ValueError, match="samples"):
        paired_bootstrap(good, noisy, refs, samples=0)
    with pytest.raises(ValueError, match="predictions"):
        paired_bootstrap(good[:-1], noisy, refs)


@pytest.fixture(scope="module")
def book_data():
    import utils
    return utils.load_translation_data()


def test_references_group_every_pair_once_with_its_texts(book_data):
    refs = B.references(book_data, "test")
    pairs = book_data.test_pairs
    assert len(refs.sources) == len({tuple(s) for s, _ in pairs}) == len(refs.first)
    assert sum(len(r) for r in refs.tokens) == len(pairs) == sum(len(t) for t in refs.texts)
    for source, tokens, texts, first in zip(refs.sources, refs.tokens, refs.texts, refs.first):
        assert pairs[first][0] == source and pairs[first][1] == tokens[0]
        assert sorted(map(tuple, tokens)) == sorted(tuple(t) for s, t in pairs if s == source)
        import utils
        assert [utils.normalize(text).split() for text in texts] == tokens
    assert refs.once(list(range(len(pairs)))) == refs.first
    with pytest.raises(ValueError, match="give one per pair"):
        refs.once([["x"]])
    with pytest.raises(ValueError, match="part must be"):
        B.references(book_data, "dev")


def test_all_scores_of_the_references_themselves(book_data):
    perfect = [list(t) for _, t in book_data.test_pairs]
    scores = B.all_scores(perfect, book_data, "test")
    assert scores.one_reference == pytest.approx(100)
    assert scores.all_references == pytest.approx(100)
    assert scores.bleu_13a == pytest.approx(100) and scores.chrf == pytest.approx(100)
    assert "nrefs:var" in scores.signatures["tokens"] and "tok:13a" in scores.signatures["13a"]
    empty = [[] for _ in perfect]
    assert B.all_scores(empty, book_data, "test").all_references == 0
    with pytest.raises(ValueError, match="1000 test pairs"):
        B.all_scores(perfect[:10], book_data, "test")
