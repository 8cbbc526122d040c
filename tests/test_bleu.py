"""utils.bleu: BLEU from scratch on hand-worked examples, and corpus BLEU with sacrebleu."""

from __future__ import annotations

import math

import pytest

import utils


def test_a_perfect_translation_scores_one():
    assert utils.bleu("je suis chez moi .".split(), "je suis chez moi .".split(), k=4) == 1.0


def test_the_seeds_example_worked_by_hand():
    # prediction 'sois calme .' (3 tokens), label 'il est calme .' (4 tokens), k = 2:
    # brevity penalty exp(1 - 4/3); p1 = 2/3 ('calme', '.'); p2 = 1/2 ('calme .').
    expected = math.exp(1 - 4 / 3) * (2 / 3) ** 0.5 * (1 / 2) ** 0.25
    assert utils.bleu("sois calme .".split(), "il est calme .".split(), k=2) == \
        pytest.approx(expected)
    assert round(expected, 3) == 0.492


def test_matches_are_clipped_by_the_label_counts():
    # 'the' occurs once in the label, so only one of the four predicted 'the' counts.
    assert utils.bleu("the the the the".split(), "the cat".split(), k=1) == \
        pytest.approx((1 / 4) ** 0.5)


def test_no_brevity_penalty_for_long_predictions_and_short_ones_pay():
    label = "a b".split()
    assert utils.bleu("a b c d".split(), label, k=1) == pytest.approx((2 / 4) ** 0.5)
    assert utils.bleu("a".split(), "a b c".split(), k=1) == pytest.approx(math.exp(1 - 3))


def test_ngrams_longer_than_the_prediction_are_skipped_and_empty_scores_zero():
    assert utils.bleu(["va"], ["va"], k=4) == 1.0
    assert utils.bleu([], ["va"], k=4) == 0.0
    assert utils.bleu(["x", "y"], ["va", "!"], k=2) == 0.0


def test_bleu_rejects_strings_and_bad_k():
    with pytest.raises(TypeError, match=r"\.split\(\)"):
        utils.bleu("va !", ["va", "!"])
    with pytest.raises(ValueError, match="k must be a positive integer"):
        utils.bleu(["va"], ["va"], k=0)


def test_corpus_bleu_with_sacrebleu():
    preds = [["il", "est", "calme", "."], ["je", "suis", "chez", "moi", "."]]
    score = utils.corpus_bleu(preds, preds)
    assert score.score == pytest.approx(100.0)
    half = utils.corpus_bleu([["il", "est", "grand", "."], ["je", "suis", "chez", "moi", "."]],
                             preds)
    # By hand: 1-grams 8/9, 2-grams 5/7, 3-grams 3/5, 4-grams 2/3 matched, no brevity penalty.
    expected = 100 * math.exp((math.log(8 / 9) + math.log(5 / 7) + math.log(3 / 5)
                               + math.log(2 / 3)) / 4)
    assert half.score == pytest.approx(expected)
    assert "tok:none" in utils.bleu_signature()


def test_corpus_bleu_checks_its_inputs():
    with pytest.raises(ValueError, match="2 predictions but 1 labels"):
        utils.corpus_bleu([["a"], ["b"]], [["a"]])
    with pytest.raises(ValueError, match="no sentences"):
        utils.corpus_bleu([], [])
    with pytest.raises(TypeError, match="list of tokens"):
        utils.corpus_bleu(["va !"], [["va", "!"]])
