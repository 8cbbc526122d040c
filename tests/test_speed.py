"""Tests for utils/speed.py: training_speed and the speed_meter widget, without a kernel.

The models are tiny (hidden size 8, batches of 4 x 5 tokens) and every
measurement asks for 0.01 s, so the whole file runs in about a second.
"""

import ipywidgets as widgets
import pytest
import torch
from torch import nn

from utils import Speed, SpeedMeter, speed_meter, training_speed
from utils.speed import interleaved_speeds

V = 28


class Counting(nn.Module):
    """An embedding, an nn.GRU and an output layer that count forward calls and batch shapes."""

    def __init__(self, vocab_size=V, hidden_size=8):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, hidden_size)
        self.rnn = nn.GRU(hidden_size, hidden_size)
        self.output = nn.Linear(hidden_size, vocab_size)
        self.shapes = []

    def forward(self, X, state):
        self.shapes.append(tuple(X.shape))
        Y, state = self.rnn(self.embedding(X.T), state)              # (T, n, h)
        return self.output(Y).reshape(-1, self.output.out_features), state


def test_training_speed_counts_the_tokens_of_the_timed_steps():
    model = Counting()
    speed = training_speed(model, V, batch_size=4, num_steps=5, seconds=0.01, warmup=3,
                           min_steps=2)
    assert isinstance(speed, Speed)
    assert speed.steps >= 2 and speed.seconds >= 0.01
    assert len(model.shapes) == 3 + speed.steps                 # warm-up steps are not timed
    assert set(model.shapes) == {(4, 5)}
    assert speed.tokens_per_second == pytest.approx(4 * 5 * speed.steps / speed.seconds)
    assert (speed.batch_size, speed.num_steps) == (4, 5)


def test_interleaved_speeds_measures_every_model_once_per_round_in_turn(monkeypatch):
    order = []

    def fake_speed(model, vocab_size, *, seconds, **settings):
        order.append(model)
        assert vocab_size == V and seconds == 0.01 and settings == {"batch_size": 4}
        return Speed({"a": [1.0, 9.0, 2.0], "b": [5.0, 4.0, 6.0]}[model][order.count(model) - 1],
                     1, 1.0, 4, 35)

    monkeypatch.setattr("utils.speed.training_speed", fake_speed)
    medians = interleaved_speeds({"A": "a", "B": "b"}, V, rounds=3, seconds=0.01, batch_size=4)
    assert order == ["a", "b"] * 3                         # A B A B A B, not A A A B B B
    assert medians == {"A": 2.0, "B": 5.0}                 # the medians, not the means


@pytest.mark.parametrize("models, rounds, match", [({}, 3, "non-empty dict"),
                                                   ([Counting()], 3, "non-empty dict"),
                                                   ({"m": Counting()}, 0, "rounds")])
def test_interleaved_speeds_rejects_bad_arguments(models, rounds, match):
    with pytest.raises(ValueError, match=match):
        interleaved_speeds(models, V, rounds=rounds, seconds=0.01)


def test_training_speed_trains_the_model(make_scratch_rnn):
    model = make_scratch_rnn(V, 8)                              # a from-scratch model works too
    before = [p.detach().clone() for p in model.params]
    training_speed(model, V, batch_size=4, num_steps=5, seconds=0.01, warmup=0, min_steps=1)
    assert any(not torch.equal(b, p) for b, p in zip(before, model.params))


def test_training_speed_can_run_the_forward_pass_under_autocast():
    seen = []

    class Spy(Counting):
        def forward(self, X, state):
            seen.append((torch.is_autocast_enabled("cpu"), torch.get_autocast_dtype("cpu")))
            return super().forward(X, state)

    model = Spy()
    training_speed(model, V, batch_size=4, num_steps=5, seconds=0.01, warmup=1,
                   autocast=torch.bfloat16)
    assert seen and all(s == (True, torch.bfloat16) for s in seen)
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert not torch.is_autocast_enabled("cpu")
    seen.clear()
    training_speed(model, V, batch_size=4, num_steps=5, seconds=0.01, warmup=0, min_steps=1)
    assert seen and not any(enabled for enabled, _ in seen)


@pytest.mark.parametrize("setting, value, message", [
    ("autocast", torch.float64, "autocast must be None, torch.bfloat16 or torch.float16"),
    ("batch_size", 0, "batch_size must be a positive integer, got 0"),
    ("num_steps", 2.5, "num_steps must be a positive integer, got 2.5"),
    ("seconds", -1, "seconds must be a positive finite number, got -1"),
    ("min_steps", 0, "min_steps must be a positive integer, got 0"),
    ("warmup", -1, "warmup must be a non-negative integer, got -1"),
])
def test_training_speed_names_a_bad_setting(setting, value, message):
    with pytest.raises(ValueError, match=message):
        training_speed(Counting(), V, **{setting: value})


def test_training_speed_rejects_something_that_is_not_a_model():
    with pytest.raises(TypeError, match="neither an nn.Module nor a from-scratch model"):
        training_speed(lambda X, state: X, V)


class Factory:
    """Builds Counting models and records (vocab_size, hidden_size) of each call."""

    def __init__(self, error=None):
        self.calls, self.error = [], error

    def __call__(self, vocab_size, hidden_size):
        self.calls.append((vocab_size, hidden_size))
        if self.error:
            raise self.error
        return Counting(vocab_size, hidden_size)


def meter(**factories):
    view = speed_meter(factories or {"tiny": Factory()}, V, seconds=0.01)
    view.controls["hidden_size"].value = 32
    view.controls["batch_size"].value = 8
    return view


def test_building_the_meter_measures_nothing():
    factory = Factory()
    view = speed_meter({"tiny": factory, "other": Factory()}, V)
    assert isinstance(view, SpeedMeter) and isinstance(view, widgets.VBox)
    assert factory.calls == [] and view.rows == [] and view.table.value == ""
    assert "press Measure" in view.status.value
    assert view.values()["model"] == "tiny"
    assert view.controls["threads"].value == torch.get_num_threads()
    assert "cpu" in view.controls["device"].options


def test_measure_adds_a_row_and_restores_the_threads():
    factory = Factory()
    view = meter(tiny=factory)
    threads = torch.get_num_threads()
    view.controls["threads"].value = 1
    view.button.click()
    assert factory.calls == [(V, 32)]
    assert torch.get_num_threads() == threads
    (row,) = view.rows
    assert (row["model"], row["hidden_size"], row["batch_size"], row["threads"],
            row["device"], row["format"]) == ("tiny", 32, 8, 1, "cpu", "float32")
    assert row["tokens_per_second"] > 0
    assert "tiny: " in view.status.value and "tokens/s" in view.status.value
    assert view.table.value.count("<tr>") == 2 and "1.00" in view.table.value
    assert not view.button.disabled


def test_the_format_control_switches_to_bfloat16_autocast():
    seen = []

    def factory(vocab_size, hidden_size):
        model = Counting(vocab_size, hidden_size)
        model.register_forward_pre_hook(
            lambda module, args: seen.append(torch.get_autocast_dtype("cpu")
                                             if torch.is_autocast_enabled("cpu") else None))
        return model
    view = meter(tiny=factory)
    view.controls["format"].value = "bfloat16 (autocast)"
    row = view.measure()
    assert row["format"] == "bfloat16 (autocast)" and set(seen) == {torch.bfloat16}
    assert "bfloat16 (autocast)" in view.table.value


def test_measurements_accumulate_until_cleared():
    view = meter()
    view.measure()
    view.measure()
    assert len(view.rows) == 2 and view.table.value.count("<tr>") == 3
    view.clear_button.click()
    assert view.rows == [] and view.table.value == ""


def test_a_model_that_fails_shows_the_reason_not_a_traceback():
    view = meter(broken=Factory(error=ValueError("hidden size <32> is too big")))
    assert view.measure() is None
    assert "ValueError: hidden size &lt;32&gt; is too big" in view.status.value
    assert view.rows == [] and not view.button.disabled


def test_a_from_scratch_model_is_built_on_the_chosen_device(make_scratch_rnn):
    built = []

    def factory(vocab_size, hidden_size):
        built.append(torch.zeros(1).device)      # tensors made here go to the chosen device
        return make_scratch_rnn(vocab_size, hidden_size)
    view = meter(scratch=factory)
    assert view.measure() is not None and built == [torch.device("cpu")]


@pytest.mark.parametrize("models", [{}, {"a": 1}, [("a", Factory())]])
def test_models_must_be_a_dict_of_factories(models):
    with pytest.raises(TypeError, match="models must be a non-empty dict"):
        speed_meter(models, V)


def test_bad_vocab_size_or_seconds_are_named():
    with pytest.raises(ValueError, match="vocab_size must be a positive integer, got 0"):
        speed_meter({"tiny": Factory()}, 0)
    with pytest.raises(ValueError, match="seconds must be a positive finite number"):
        speed_meter({"tiny": Factory()}, V, seconds=0)
