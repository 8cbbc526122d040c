"""utils.translator: the model cache (cold and warm give the same model), decoding one
sentence, scoring a test set, and the translation widget's text."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

import utils
from utils import model_cache
from utils import translator as TR

# A model small enough to train in a second or two: pairs of at most 3 words, 1 epoch.
TINY = utils.Seq2SeqConfig(train_max_tokens=3, embed_size=8, num_hiddens=8, num_layers=1,
                           dropout=0.0, batch_size=64, epochs=1)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("RNN_BOOK_CACHE", str(tmp_path))
    return tmp_path


def test_cache_dir_defaults_outside_the_repository(monkeypatch):
    monkeypatch.delenv("RNN_BOOK_CACHE", raising=False)
    assert model_cache.cache_dir().parts[-2:] == (".cache", "rnn-book")


def test_config_key_depends_on_every_setting():
    keys = {TR.config_key(TINY), TR.config_key(utils.Seq2SeqConfig()),
            TR.config_key(utils.Seq2SeqConfig(seed=1)), TR.config_key(utils.Seq2SeqConfig(lr=0.01))}
    assert len(keys) == 4 and all(len(k) == 16 for k in keys)


def _after_call_random_numbers():
    return random.random(), float(np.random.rand()), torch.rand(1).item()


def test_cold_and_warm_cache_give_the_same_model_and_leave_the_random_state(cache):
    utils.set_seed(5)
    cold = utils.trained_seq2seq(TINY, plot=False, verbose=False)
    after_cold = _after_call_random_numbers()
    assert not cold.from_cache and sorted(p.suffix for p in cache.iterdir()) == [".json", ".pt"]
    utils.set_seed(5)
    warm = utils.trained_seq2seq(TINY, plot=False, verbose=False)
    after_warm = _after_call_random_numbers()
    assert warm.from_cache
    assert after_cold == after_warm
    for (name, a), (_, b) in zip(cold.model.state_dict().items(), warm.model.state_dict().items()):
        assert torch.equal(a, b), name
    assert warm.history == cold.history
    cold_bleu = utils.evaluate_bleu(cold.model, cold.data, "valid")[0].score
    assert utils.evaluate_bleu(warm.model, warm.data, "valid")[0].score == cold_bleu
    again = utils.trained_seq2seq(TINY, retrain=True, plot=False, verbose=False)
    assert not again.from_cache
    assert torch.equal(again.model.decoder.dense.weight, cold.model.decoder.dense.weight)


def test_trained_seq2seq_wants_a_config():
    with pytest.raises(TypeError, match="Seq2SeqConfig"):
        utils.trained_seq2seq({"epochs": 1})


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RNN_BOOK_CACHE", str(tmp_path_factory.mktemp("cache")))
        return utils.trained_seq2seq(TINY, plot=False, verbose=False)


def test_greedy_translate_marks_unknown_words_and_truncation(tiny):
    result = utils.greedy_translate(tiny.model, "Go Zyxwv!", tiny.data)
    assert result.source == ["go", "zyxwv", "!"]
    assert result.unknown == ["zyxwv"]
    assert not result.truncated and result.attention is None
    assert "<eos>" not in result.tokens and len(result.tokens) <= tiny.data.num_steps
    assert result.text == " ".join(result.tokens)
    long = utils.greedy_translate(tiny.model, ["go"] * 20, tiny.data)
    assert long.truncated
    with pytest.raises(ValueError, match="no words"):
        utils.greedy_translate(tiny.model, "   ", tiny.data)
    with pytest.raises(TypeError, match="a str or a list of str"):
        utils.greedy_translate(tiny.model, 42, tiny.data)


def test_batched_translation_equals_one_sentence_at_a_time(tiny):
    predictions = utils.translate_pairs(tiny.model, tiny.data, "test")
    assert len(predictions) == 1000
    for (src, _), batched in list(zip(tiny.data.test_pairs, predictions))[:20]:
        assert utils.greedy_translate(tiny.model, src, tiny.data).tokens == batched
    with pytest.raises(ValueError, match="'train', 'valid' or 'test'"):
        utils.translate_pairs(tiny.model, tiny.data, "dev")


def test_evaluate_bleu_scores_against_the_real_french(tiny):
    score, predictions = utils.evaluate_bleu(tiny.model, tiny.data, "test")
    labels = [t for _, t in tiny.data.test_pairs]
    assert score.score == utils.corpus_bleu(predictions, labels).score
    assert 0 <= score.score <= 100


def test_translation_text_shows_unknown_words_and_handles_blank_input(tiny):
    text = utils.translation_text(tiny.model, tiny.data, "I'm zyxwv.")
    assert text.splitlines()[0] == "English: i'm <unk>(zyxwv) ."
    assert text.splitlines()[1].startswith("French:  ")
    assert "Unknown to the model (read as <unk>): zyxwv" in text
    assert "Type an English sentence" in utils.translation_text(tiny.model, tiny.data, "  ")
    long = utils.translation_text(tiny.model, tiny.data, "go " * 12)
    assert f"Only the first {tiny.data.num_steps - 1} words were read" in long


def test_translation_box_builds_without_training_and_updates(tiny):
    box = utils.translation_box(tiny.model, tiny.data, value="go .")
    text, shown = box.children
    assert "English: go ." in shown.value
    text.value = "i'm zyxwv ."
    assert "&lt;unk&gt;(zyxwv)" in shown.value
