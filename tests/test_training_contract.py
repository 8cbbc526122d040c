"""One history shape and one hook contract for the book's two training loops.

``train_language_model`` (chapters 4-11) and ``train_seq2seq`` (chapters
13-15) both return a ``TrainingHistory``; ``on_epoch`` returning True stops
both; divergence and interrupts end both the same way; both take an optimizer.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch

import utils
from utils import seq2seq as S
from tiny_models import TinyLM, tiny_translation
from utils.training import STOP_REASONS, TrainingHistory


def _lm(**settings):
    torch.manual_seed(0)
    model, corpus = TinyLM(), torch.arange(400) % 6
    kwargs = dict(batch_size=2, num_steps=5, valid_batch_size=2, valid_num_steps=5, epochs=3,
                  plot=False, verbose=False)
    kwargs.update(settings)
    if "optimizer" not in kwargs and "lr" not in kwargs:
        kwargs["lr"] = 0.1
    if callable(kwargs.get("optimizer")):
        kwargs["optimizer"] = kwargs["optimizer"](model)
    return utils.train_language_model(model, corpus, corpus, **kwargs)


def _s2s(**settings):
    data, _, tgt, model = tiny_translation(copies=6)
    kwargs = dict(bos=tgt["<bos>"], epochs=3, batch_size=4, plot=False, verbose=False)
    kwargs.update(settings)
    if callable(kwargs.get("optimizer")):
        kwargs["optimizer"] = kwargs["optimizer"](model)
    return S.train_seq2seq(model, data, data, **kwargs)


TRAINERS = {"language model": _lm, "seq2seq": _s2s}


@pytest.mark.parametrize("train", TRAINERS.values(), ids=TRAINERS.keys())
def test_one_history_shape(train):
    history = train()
    assert isinstance(history, TrainingHistory)
    fields = {f.name for f in dataclasses.fields(TrainingHistory)}
    assert {"epochs", "seconds", "tokens", "train_seconds", "stop_reason", "message"} <= fields
    assert history.stop_reason == "epochs" and history.epochs == [1, 2, 3]
    assert history.train_seconds == history.seconds[-1] > 0 and history.tokens_per_second > 0


@pytest.mark.parametrize("train", TRAINERS.values(), ids=TRAINERS.keys())
def test_on_epoch_returning_true_stops_both(train):
    seen = []
    history = train(on_epoch=lambda h: seen.append(len(h.epochs)) or len(h.epochs) == 2)
    assert seen == [1, 2] and history.epochs == [1, 2]
    assert history.stop_reason == "stopped" and history.stop_reason in STOP_REASONS


@pytest.mark.parametrize("train", TRAINERS.values(), ids=TRAINERS.keys())
def test_stop_after_a_batch_ends_both(train):
    calls = []
    history = train(stop=lambda: calls.append(1) or len(calls) == 3)
    assert history.stop_reason == "stopped" and len(calls) == 3
    assert 0 < history.epochs[-1] < 1


@pytest.mark.parametrize("train", TRAINERS.values(), ids=TRAINERS.keys())
def test_divergence_ends_both_cleanly(train):
    def poison(model):                   # the first update makes every weight NaN
        return torch.optim.SGD(model.parameters(), lr=float("nan"))
    history = train(optimizer=poison, clip=None)
    assert history.stop_reason == "diverged" and "diverged" in history.message


@pytest.mark.parametrize("train", TRAINERS.values(), ids=TRAINERS.keys())
def test_an_interrupt_ends_both_cleanly(train):
    def interrupt():
        raise KeyboardInterrupt
    history = train(stop=interrupt)
    assert history.stop_reason == "interrupted" and "keeps what it learned" in history.message


@pytest.mark.parametrize("train", TRAINERS.values(), ids=TRAINERS.keys())
def test_both_take_an_optimizer_but_not_together_with_lr(train):
    history = train(optimizer=lambda model: torch.optim.Adam(model.parameters(), lr=0.01))
    assert history.settings["optimizer"] == "Adam"
    with pytest.raises(ValueError, match="Give lr or optimizer, not both"):
        train(optimizer=lambda model: torch.optim.Adam(model.parameters()), lr=0.1)
