"""Tests for utils/playground.py: the training playground, without a kernel.

Every corpus is replaced by the first 12,000 characters of The Time Machine
(``small_split`` in conftest.py) and the model is an RNN of hidden size 8, so
with batches of 64 x 8 an epoch is 21 small steps and a training takes a
fraction of a second. Buttons are pressed with ``button.click()``.
"""

import math
import sys
import threading

import ipywidgets as widgets
import pytest
import torch
from torch import nn

from utils import History, Playground, playground

module = sys.modules["utils.playground"]    # the name utils.playground is the function
real_char_data = module.char_data
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TINY = dict(hidden_size=8, batch_size=64, num_steps=8, epochs=1, lr=1.0, time_limit=600)
PER_EPOCH = (10_800 - 1) // (64 * 8)         # 21 batches
WAIT = 10                                    # seconds, for threads; never reached when all is well


class TinyRNN(nn.Module):
    """nn.RNN with an embedding and an output layer; ``on_forward(calls)`` runs on every call."""

    def __init__(self, vocab_size, hidden_size, on_forward=None):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, hidden_size)
        self.rnn = nn.RNN(hidden_size, hidden_size)
        self.output = nn.Linear(hidden_size, vocab_size)
        self.calls, self.on_forward = 0, on_forward

    def forward(self, X, state):
        self.calls += 1
        if self.on_forward:
            self.on_forward(self.calls)
        Y, state = self.rnn(self.embedding(X.T), state)    # (steps, batch, hidden)
        return self.output(Y).reshape(-1, self.output.out_features), state


class NanAfter3(TinyRNN):
    """Its logits turn NaN from the 4th call on: training diverges in the first epoch."""

    def forward(self, X, state):
        logits, state = super().forward(X, state)
        return (logits * math.nan if self.calls > 3 else logits), state


class Factory:
    """Builds TinyRNNs and records each call: (vocab_size, hidden_size, thread)."""

    def __init__(self, on_forward=None, error=None):
        self.on_forward, self.error, self.calls = on_forward, error, []

    def __call__(self, vocab_size, hidden_size):
        self.calls.append((vocab_size, hidden_size, threading.current_thread()))
        if self.error:
            error, self.error = self.error, None            # fails once
            raise error
        return TinyRNN(vocab_size, hidden_size, self.on_forward)


@pytest.fixture(autouse=True)
def books_loaded(monkeypatch, small_split, time_machine):
    """Every book is the short split; returns the list of books asked for."""
    books = []

    def char_data(book):
        books.append(book)
        return (*small_split, time_machine[1])
    monkeypatch.setattr(module, "char_data", char_data)
    return books


def tiny(factory=None, **defaults):
    return playground({"RNN": factory or Factory()}, defaults={**TINY, **defaults})


def run_button(pg):
    """Click Train and wait for its thread."""
    pg.train_button.click()
    pg._thread.join(WAIT)
    assert not pg._thread.is_alive()


def buttons(pg):
    """(Train, Stop, Generate) enabled?"""
    return tuple(not b.disabled for b in (pg.train_button, pg.stop_button, pg.generate_button))


IDLE, BUSY = (True, False, True), (False, True, False)


# Building

def test_building_trains_nothing_and_prints_nothing(capsys):
    factory = Factory()
    pg = playground({"RNN": factory}, title="Try <it>")
    assert isinstance(pg, Playground) and isinstance(pg, widgets.VBox)
    assert factory.calls == []
    assert capsys.readouterr() == ("", "")
    assert pg.model is None and pg.history is None and pg.vocab is None
    assert bytes(pg.image.value).startswith(PNG_SIGNATURE)
    assert "press Train" in pg.status.value and pg.text.value == ""
    assert buttons(pg) == IDLE
    assert repr(pg) == "Playground(RNN)"


def test_the_initial_view_is_the_same_every_time():
    first, second = playground({"RNN": Factory()}), playground({"RNN": Factory()})
    assert bytes(first.image.value) == bytes(second.image.value)
    assert bytes(first.image.value) == module.perplexity_png(None, 10, "not trained yet")
    assert first.status.value == second.status.value


def test_layout_title_controls_buttons_image_status_text():
    pg = playground({"RNN": Factory()}, title="Try <it>")
    title, controls, buttons_, image, status, text = pg.children
    assert title.value == "<b>Try &lt;it&gt;</b>"
    assert list(controls.children) == list(pg.controls.values())
    assert [b.description for b in buttons_.children] == ["Train", "Stop", "Generate"]
    assert (image, status, text) == (pg.image, pg.status, pg.text)
    assert all(c.description for c in pg.controls.values())
    assert len(playground({"RNN": Factory()}).children) == 5          # no title, no header


def test_built_in_initial_values():
    assert playground({"RNN": Factory()}).values() == dict(
        model="RNN", hidden_size=256, lr=1.0, optimizer="SGD", num_steps=35, batch_size=32,
        epochs=10, time_limit=60, clip=1.0, temperature=0.0, corpus="time_machine",
        sampling="random", prefix="the time traveller ")


def test_defaults_set_the_initial_values():
    defaults = dict(model="GRU", hidden_size=512, lr=2.0, optimizer="Adam", num_steps=20,
                    batch_size=16, epochs=3, time_limit=30, clip=5.0, temperature=0.5,
                    corpus="war_of_the_worlds", sampling="sequential", prefix="the martians ")
    pg = playground({"RNN": Factory(), "GRU": Factory()}, defaults=defaults)
    assert pg.values() == defaults
    assert pg.controls["corpus"].label == "The War of the Worlds"


def test_clip_none_means_off():
    pg = playground({"RNN": Factory()}, defaults=dict(clip=None))
    assert pg.values()["clip"] == "off" and pg.controls["clip"].label == "off"


BAD_DEFAULTS = [
    (dict(hiden_size=8), r"Unknown setting 'hiden_size' in defaults. The settings are: model, "
                         r"hidden_size, lr, optimizer, num_steps"),
    (dict(hidden_size=100), r"defaults\['hidden_size'\] = 100 is not one of the choices: 8, 16, "),
    (dict(model="LSTM"), r"defaults\['model'\] = 'LSTM' is not one of the choices: 'RNN'\."),
    (dict(clip=2.0), r"defaults\['clip'\] = 2.0 is not one of the choices: 'off', 0.1, 0.5"),
    (dict(corpus="The Time Machine"), r"defaults\['corpus'\] = 'The Time Machine' is not one of "
                                      r"the choices: 'time_machine', 'war_of_the_worlds'"),
    (dict(sampling="shuffled"), r"'shuffled' is not one of the choices: 'random', 'sequential'"),
    (dict(optimizer="adam"), r"'adam' is not one of the choices: 'SGD', 'Adam'"),
    (dict(lr=100), r"defaults\['lr'\] = 100 is not one of the choices: 0.0001, 0.0002, .*, 10.0\."),
    (dict(lr=0), r"defaults\['lr'\] = 0 is not one of the choices"),
    (dict(epochs=0), r"defaults\['epochs'\] = 0 is out of range: give an integer from 1 to 100"),
    (dict(epochs=2.5), r"defaults\['epochs'\] = 2.5 is out of range: give an integer"),
    (dict(batch_size=True), r"defaults\['batch_size'\] = True is out of range"),
    (dict(time_limit=601), r"defaults\['time_limit'\] = 601 is out of range: give an integer "
                           r"from 1 to 600"),
    (dict(temperature=-0.5), r"defaults\['temperature'\] = -0.5 is out of range: give a number "
                             r"from 0 to 2"),
    (dict(num_steps="35"), r"defaults\['num_steps'\] = '35' is out of range"),
    (dict(prefix=""), r"defaults\['prefix'\] must be a non-empty string, got ''"),
    (dict(prefix=3), r"defaults\['prefix'\] must be a non-empty string, got 3"),
]


@pytest.mark.parametrize("defaults, message", BAD_DEFAULTS,
                         ids=[f"{k}={v!r}" for d, _ in BAD_DEFAULTS for k, v in d.items()])
def test_bad_defaults_are_named_with_what_is_allowed(defaults, message):
    factory = Factory()
    with pytest.raises(ValueError, match=message):
        playground({"RNN": factory}, defaults=defaults)
    assert factory.calls == []


def test_defaults_must_be_a_dict():
    with pytest.raises(TypeError, match="defaults must be a dict of setting -> value, got list"):
        playground({"RNN": Factory()}, defaults=[("lr", 1.0)])


@pytest.mark.parametrize("models", [{}, None, [TinyRNN], {"RNN": 3}, {"RNN": None}, {1: TinyRNN}])
def test_models_must_be_a_non_empty_dict_of_factories(models):
    with pytest.raises(TypeError, match=r"models must be a non-empty dict of name -> factory, "
                                        r"where factory\(vocab_size, hidden_size\)"):
        playground(models)


@pytest.mark.parametrize("seed", [-1, 1.5, True, "0"])
def test_the_seed_must_be_a_non_negative_integer(seed):
    with pytest.raises(ValueError, match=f"seed must be a non-negative integer, got {seed!r}"):
        playground({"RNN": Factory()}, seed=seed)


def test_one_model_shows_a_disabled_menu_several_an_enabled_one():
    one = playground({"RNN": Factory()}).controls["model"]
    assert one.disabled and one.options == (("RNN", "RNN"),)
    several = playground({"RNN": Factory(), "GRU": Factory()}).controls["model"]
    assert not several.disabled and [label for label, _ in several.options] == ["RNN", "GRU"]


# Training in the caller's thread: Playground.train()

def test_train_builds_a_fresh_model_and_shows_plot_summary_and_text(time_machine, capsys):
    factory = Factory()
    pg = tiny(factory)
    empty_plot = bytes(pg.image.value)
    history = pg.train()
    assert isinstance(history, History) and pg.history is history
    assert history.stop_reason == "epochs" and history.epochs == [1.0]
    assert [(v, h) for v, h, _ in factory.calls] == [(28, 8)]
    assert isinstance(pg.model, TinyRNN) and pg.vocab is time_machine[1]
    assert pg.model.calls > PER_EPOCH                          # trained, validated, generated
    png = bytes(pg.image.value)
    assert png.startswith(PNG_SIGNATURE) and png != empty_plot
    assert history.summary().split(";")[0] in pg.status.value
    text = pg.text.value
    assert text.startswith("<pre>the time traveller ") and text.endswith("</pre>")
    assert len(text) == len("<pre></pre>") + len("the time traveller ") + module.GENERATED_CHARS
    assert buttons(pg) == IDLE
    assert capsys.readouterr().out == ""                      # nothing printed


def test_the_settings_reach_train_language_model():
    history = tiny(optimizer="Adam", lr=0.01, clip=None, sampling="sequential").train()
    assert history.settings == dict(batch_size=64, num_steps=8, lr=None, epochs=1,
                                    time_budget=600.0, sampling="sequential", clip=None,
                                    optimizer="Adam")
    history = tiny(clip=0.5).train()
    assert history.settings["optimizer"] == "SGD" and history.settings["lr"] == 1.0
    assert history.settings["clip"] == 0.5 and history.settings["sampling"] == "random"


def test_the_corpus_control_picks_the_book(books_loaded):
    tiny(corpus="war_of_the_worlds").train()
    tiny().train()
    assert books_loaded == ["war_of_the_worlds", "time_machine"]


def test_char_data_splits_a_book_and_loads_it_once():
    train, valid, vocab = real_char_data("war_of_the_worlds")
    assert len(vocab) == 28 and train.dtype == torch.long
    assert len(valid) == int((len(train) + len(valid)) * 0.1)
    assert real_char_data("war_of_the_worlds")[0] is train


def test_the_plot_is_redrawn_after_every_epoch():
    pg = tiny(epochs=2)
    shown = []
    pg.image.observe(lambda change: shown.append(change.new), names="value")
    pg.train()
    assert len(shown) == 2 and shown[0] != shown[1]
    assert all(bytes(png).startswith(PNG_SIGNATURE) for png in shown)


def test_the_same_seed_gives_the_same_history_and_text():
    first, second = tiny(), tiny()
    a, b = first.train(), second.train()
    assert (a.train_perplexity, a.valid_perplexity) == (b.train_perplexity, b.valid_perplexity)
    assert first.text.value == second.text.value
    again = first.train()                                      # a fresh model, seeded again
    assert again.valid_perplexity == a.valid_perplexity and first.text.value == second.text.value
    other = playground({"RNN": Factory()}, defaults=TINY, seed=1).train()
    assert other.valid_perplexity != a.valid_perplexity


def test_stop_during_training_keeps_the_model_usable():
    pg = None
    factory = Factory(on_forward=lambda calls: pg.stop() if calls == 5 else None)
    pg = tiny(factory, epochs=3)
    history = pg.train()
    assert history.stop_reason == "stopped"
    assert history.epochs == [pytest.approx(5 / PER_EPOCH)]
    assert "keeps what it learned" in pg.status.value
    assert pg.model is not None and pg.history is history
    assert pg.text.value.startswith("<pre>the time traveller ")
    pg.controls["prefix"].value = "time "
    assert pg.generate().startswith("time ")


def test_a_stop_before_train_does_not_stop_the_next_training():
    pg = tiny()
    pg.stop()
    assert pg.train().stop_reason == "epochs"


def test_a_setting_that_cannot_work_is_shown_in_red_and_keeps_the_last_model():
    pg = tiny()
    history, model = pg.train(), pg.model
    pg.controls["batch_size"].value = 512
    pg.controls["num_steps"].value = 200
    assert pg.train() is None                                  # no exception
    assert "color:#b00" in pg.status.value
    assert "batch_size=512 x num_steps=200" in pg.status.value
    assert "Use a smaller batch_size or num_steps" in pg.status.value
    assert pg.model is model and pg.history is history
    assert buttons(pg) == IDLE


def test_a_diverged_training_is_reported_and_its_model_kept():
    pg = playground({"RNN": NanAfter3}, defaults=TINY)
    empty_plot = bytes(pg.image.value)
    history = pg.train()
    assert history.stop_reason == "diverged" and history.epochs == []
    assert "loss became nan in epoch 1, batch 4" in pg.status.value
    assert isinstance(pg.model, NanAfter3) and pg.history is history
    assert bytes(pg.image.value) != empty_plot                 # titled "no epoch finished"
    assert buttons(pg) == IDLE


def test_other_errors_in_train_are_raised_and_leave_the_buttons_usable():
    pg = tiny(Factory(error=RuntimeError("a bug in the factory")))
    with pytest.raises(RuntimeError, match="a bug in the factory"):
        pg.train()
    assert buttons(pg) == IDLE
    assert pg.train().stop_reason == "epochs"                  # the lock was released


# Buttons: Train in a thread, Stop, Generate

def test_the_train_button_trains_in_a_background_thread():
    factory = Factory()
    pg = tiny(factory)
    run_button(pg)
    assert pg._thread.daemon and factory.calls[0][2] is pg._thread
    assert pg.history.stop_reason == "epochs" and pg.history.epochs == [1.0]
    assert pg.text.value.startswith("<pre>the time traveller ")
    assert "after 1 epochs" in pg.status.value
    assert buttons(pg) == IDLE


def test_stop_button_while_the_thread_trains():
    started, go = threading.Event(), threading.Event()

    def on_forward(calls):
        if calls == 2:                          # hold the second batch until the test goes on
            started.set()
            go.wait(WAIT)
    pg = tiny(Factory(on_forward), epochs=3)
    pg.train_button.click()
    assert started.wait(WAIT)
    thread = pg._thread
    assert buttons(pg) == BUSY
    assert pg.status.value.startswith(f"Training: batch 1 of at most {3 * PER_EPOCH}")
    pg.train_button.click()                     # ignored: one training at a time
    assert pg._thread is thread
    with pytest.raises(RuntimeError, match="already training: press Stop"):
        pg.train()
    pg.stop_button.click()
    go.set()
    thread.join(WAIT)
    assert not thread.is_alive() and buttons(pg) == IDLE
    assert pg.history.stop_reason == "stopped"
    assert pg.history.epochs == [pytest.approx(2 / PER_EPOCH)]
    before = pg.text.value
    pg.controls["temperature"].value = 1.0
    pg.generate_button.click()
    assert pg.text.value != before and pg.text.value.startswith("<pre>the time traveller ")


def test_generate_samples_again_without_training():
    factory = Factory()
    pg = tiny(factory)
    pg.train()
    history, model, calls = pg.history, pg.model, len(factory.calls)
    pg.controls["temperature"].value = 1.0
    texts = set()
    for _ in range(3):
        pg.generate_button.click()
        texts.add(pg.text.value)
    assert len(texts) == 3                                     # new samples each time
    assert len(factory.calls) == calls and pg.model is model and pg.history is history
    pg.controls["temperature"].value = 0.0
    pg.controls["prefix"].value = "the "
    assert pg.generate().startswith("the ") and pg.text.value.startswith("<pre>the ")


def test_generate_explains_a_bad_prefix_and_a_missing_model():
    pg = tiny()
    pg.generate_button.click()
    assert "No model yet: press Train first." in pg.text.value and "color:#b00" in pg.text.value
    pg.train()
    pg.controls["prefix"].value = "The Time"
    assert pg.generate() == ""
    assert "not in the vocabulary: [&#x27;T&#x27;]" in pg.text.value
    assert "color:#b00" in pg.text.value


def test_an_error_in_the_thread_is_shown_and_the_next_training_works():
    pg = tiny(Factory(error=RuntimeError("a <broken> factory")))
    run_button(pg)
    assert pg.status.value == ('<span style="color:#b00">RuntimeError: a &lt;broken&gt; '
                               'factory</span>')
    assert pg.model is None and buttons(pg) == IDLE
    run_button(pg)                                             # the factory works now
    assert pg.history.stop_reason == "epochs"


def test_a_setting_that_cannot_work_from_the_button_is_shown_too():
    pg = tiny(batch_size=512, num_steps=200)
    run_button(pg)
    assert "color:#b00" in pg.status.value and "batch_size=512" in pg.status.value
    assert pg.model is None and buttons(pg) == IDLE


def test_the_learning_rate_slider_holds_exact_values():
    # a FloatLogSlider with step 0.1 showed (and could send back) 10 ** -2.3 = 0.00501 for 0.005
    from utils.playground import LEARNING_RATES
    values = [value for _, value in LEARNING_RATES]
    assert values[0] == 0.0001 and values[-1] == 10.0 and 0.005 in values and 2.0 in values
    assert [label for label, _ in LEARNING_RATES][5] == "0.005"


@pytest.mark.parametrize("title", [5, None, ["Train"]])
def test_a_title_that_is_not_a_str_is_a_type_error(title):
    # It failed in html.escape with "'int' object has no attribute 'replace'".
    with pytest.raises(TypeError, match=rf"title must be a str, got {type(title).__name__}"):
        playground({"RNN": Factory()}, title=title)
