"""Tests for utils/training.py: seeds, devices, gradients, perplexity, train_language_model.

The training tests use the first 12,000 characters of The Time Machine (see
``small_split`` in conftest.py) and batches of 64 x 8, so an epoch is 21 small
steps of a hidden-size-32 RNN and each training takes a fraction of a second.
"""

import collections
import copy
import math
import random
import re

import numpy as np
import pytest
import torch
from torch import nn

from utils import (History, clip_gradients, detach_state, evaluate_perplexity, gradient_norm,
                   model_parameters, set_seed, train_language_model)
from utils.training import begin_state, perplexity

V = 28                 # the Time Machine's character vocabulary
B, S = 64, 8           # batch_size, num_steps of the training tests


def per_epoch(tokens: int) -> int:
    """Batches in one epoch over ``tokens`` tokens, counted by hand."""
    return (tokens - 1) // (B * S)


def train(model, split, **overrides):
    """Two epochs with the settings above; the batch order is seeded, so every run is the same."""
    torch.manual_seed(0)
    settings = dict(batch_size=B, num_steps=S, valid_batch_size=B, valid_num_steps=S, lr=3.0,
                    epochs=2, plot=False)
    settings.update(overrides)
    return train_language_model(model, *split, **settings)


# Models that misbehave on purpose

class Wrapper:
    """A from-scratch model around another one; subclasses change what a call does."""

    def __init__(self, inner, after: int = 0):
        self.inner, self.params, self.after = inner, inner.params, after
        self.calls, self.begin_states, self.inputs = 0, 0, []
        self.snapshot = None

    def begin_state(self, batch_size, device):
        self.begin_states += 1
        return self.inner.begin_state(batch_size, device)

    def __call__(self, X, state):
        self.calls += 1
        self.inputs.append((X, state))
        if self.calls > self.after and self.snapshot is None:
            self.snapshot = [p.detach().clone() for p in self.params]
        return self.forward(X, state)

    def forward(self, X, state):
        return self.inner(X, state)


class NanAfter(Wrapper):
    """Logits become NaN after ``after`` calls."""

    def forward(self, X, state):
        logits, state = self.inner(X, state)
        return (logits * math.nan if self.calls > self.after else logits), state


class _InfiniteGradient(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, grad):
        return grad * math.inf


class InfiniteGradientAfter(Wrapper):
    """A finite loss whose gradient is infinite, after ``after`` calls."""

    def forward(self, X, state):
        logits, state = self.inner(X, state)
        return (_InfiniteGradient.apply(logits) if self.calls > self.after else logits), state


class InterruptAfter(Wrapper):
    """Raises KeyboardInterrupt (what Ctrl-C does) after ``after`` calls."""

    def forward(self, X, state):
        if self.calls > self.after:
            raise KeyboardInterrupt
        return self.inner(X, state)


class BatchMajorLogits(Wrapper):
    """Logits of shape (batch, steps, vocab_size): a common mistake."""

    def forward(self, X, state):
        logits, state = self.inner(X, state)
        return logits.reshape(X.shape[1], X.shape[0], -1).transpose(0, 1), state


class ScriptedLogits:
    """Logits from a rule: 'uniform', 'next' (x + 1 mod V, time-major) or 'next batch-major'."""

    def __init__(self, rule: str, vocab_size: int = V):
        self.rule, self.vocab_size = rule, vocab_size
        self.params = [torch.zeros(1, requires_grad=True)]
        self.begin_states, self.inputs = [], []

    def begin_state(self, batch_size, device):
        self.begin_states.append(batch_size)
        return torch.zeros(())

    def __call__(self, X, state):
        self.inputs.append((X.clone(), state))
        if self.rule == "uniform":
            return torch.zeros(X.numel(), self.vocab_size), state + 1
        order = X.T if self.rule == "next" else X            # time-major or batch-major
        targets = (order.reshape(-1) + 1) % self.vocab_size
        return 50.0 * nn.functional.one_hot(targets, self.vocab_size).float(), state + 1


# model_parameters

def test_model_parameters_of_a_module_skips_frozen_ones():
    layer = nn.Linear(3, 2)
    layer.bias.requires_grad_(False)
    params = model_parameters(layer)
    assert len(params) == 1 and params[0] is layer.weight


def test_model_parameters_of_a_scratch_model_uses_params(make_scratch_rnn):
    model = make_scratch_rnn()
    frozen = torch.zeros(3)
    model.params = [*model.params, frozen]
    params = model_parameters(model)
    assert len(params) == 5
    assert all(p is q for p, q in zip(params, model.params[:5]))


@pytest.mark.parametrize("model", [object(), 42, [torch.zeros(2, requires_grad=True)]])
def test_model_parameters_rejects_neither_module_nor_scratch_model(model):
    with pytest.raises(TypeError, match=rf"A {type(model).__name__} is neither an nn.Module nor "
                                        rf"a from-scratch model: give it a `params` list"):
        model_parameters(model)


def test_model_parameters_rejects_params_that_are_not_tensors():
    class Model:
        params = [torch.zeros(2, requires_grad=True), [1.0, 2.0]]
    with pytest.raises(TypeError, match="model.params must be a list of tensors"):
        model_parameters(Model())


@pytest.mark.parametrize("model", [nn.ReLU(), nn.Linear(2, 2).requires_grad_(False)])
def test_model_parameters_rejects_a_module_with_nothing_to_train(model):
    with pytest.raises(ValueError, match="no trainable parameters"):
        model_parameters(model)


def test_model_parameters_rejects_a_scratch_model_with_nothing_to_train():
    class Model:
        params = [torch.zeros(2)]
    with pytest.raises(ValueError, match=r"no trainable parameters \(none with requires_grad"):
        model_parameters(Model())


# gradient_norm and clip_gradients

def params_with_grads(*grads):
    params = []
    for grad in grads:
        p = torch.zeros(len(grad) if isinstance(grad, list) else (), requires_grad=True)
        p.grad = torch.tensor(grad, dtype=torch.float32)
        params.append(p)
    return params


def test_gradient_norm_is_the_global_l2_norm():
    params = params_with_grads([3.0, 4.0], [12.0])        # sqrt(9 + 16 + 144) = 13
    assert gradient_norm(params) == pytest.approx(13.0, abs=1e-6)


def test_gradient_norm_skips_params_without_gradients():
    params = params_with_grads([3.0, 4.0]) + [torch.zeros(5, requires_grad=True)]
    assert gradient_norm(params) == pytest.approx(5.0, abs=1e-6)
    assert gradient_norm([torch.zeros(5, requires_grad=True)]) == 0.0


def test_clip_gradients_scales_a_large_gradient_to_max_norm():
    params = params_with_grads([3.0, 4.0], [12.0])
    reference = [p.detach().clone().requires_grad_() for p in params]
    for r, p in zip(reference, params):
        r.grad = p.grad.clone()
    torch_norm = torch.nn.utils.clip_grad_norm_(reference, max_norm=1.0)
    norm = clip_gradients(params, 1.0)
    assert norm == pytest.approx(13.0, abs=1e-6) == float(torch_norm)
    for p, r in zip(params, reference):
        torch.testing.assert_close(p.grad, r.grad)
    assert torch.cat([p.grad.reshape(-1) for p in params]).norm().item() == pytest.approx(1.0)
    torch.testing.assert_close(params[0].grad, torch.tensor([3.0, 4.0]) / 13)


@pytest.mark.parametrize("max_norm", [13.0, 20, 1e9])
def test_clip_gradients_leaves_a_small_gradient_alone(max_norm):
    params = params_with_grads([3.0, 4.0], [12.0])
    assert clip_gradients(params, max_norm) == pytest.approx(13.0, abs=1e-6)
    assert params[0].grad.tolist() == [3.0, 4.0] and params[1].grad.tolist() == [12.0]


def test_clip_gradients_accepts_a_model_or_a_tuple():
    layer = nn.Linear(4, 1)
    layer(torch.ones(2, 4)).sum().backward()             # grad: weight 2 * ones(1, 4), bias 2
    expected = math.sqrt(4 * 4 + 4)
    assert clip_gradients(layer, 1.0) == pytest.approx(expected, rel=1e-6)
    assert gradient_norm(list(layer.parameters())) == pytest.approx(1.0, rel=1e-6)
    params = params_with_grads([3.0, 4.0])
    assert clip_gradients(tuple(params), 1.0) == pytest.approx(5.0)
    assert gradient_norm(params) == pytest.approx(1.0)


@pytest.mark.parametrize("max_norm", [0, -1, math.nan, math.inf, True, "1", None])
def test_clip_gradients_rejects_a_bad_max_norm(max_norm):
    params = params_with_grads([3.0, 4.0])
    with pytest.raises(ValueError, match=rf"max_norm must be a positive finite number, got "
                                         rf"{re.escape(repr(max_norm))}"):
        clip_gradients(params, max_norm)
    assert params[0].grad.tolist() == [3.0, 4.0]


# detach_state

def test_detach_state_of_a_tensor_cuts_the_graph_and_keeps_the_values():
    h = torch.ones(2, 3, requires_grad=True) * 2
    detached = detach_state(h)
    assert h.grad_fn is not None and detached.grad_fn is None
    assert not detached.requires_grad
    assert torch.equal(detached, h.detach())


def test_detach_state_of_tuples_lists_and_nesting():
    h = torch.ones(2, requires_grad=True) * 2
    c = torch.ones(2, requires_grad=True) * 3
    state = ((h, c), [h, (c,)])
    detached = detach_state(state)
    assert type(detached) is tuple and type(detached[0]) is tuple and type(detached[1]) is list
    flat = [detached[0][0], detached[0][1], detached[1][0], detached[1][1][0]]
    assert all(t.grad_fn is None for t in flat)
    assert [t.tolist() for t in flat] == [[2, 2], [3, 3], [2, 2], [3, 3]]


def test_detach_state_of_none_is_none():
    assert detach_state(None) is None


def test_detach_state_of_a_named_tuple_keeps_its_type():
    LSTMState = collections.namedtuple("LSTMState", "h c")
    state = LSTMState(torch.ones(2, requires_grad=True) * 2, torch.ones(2, requires_grad=True))
    detached = detach_state(state)
    assert isinstance(detached, LSTMState)
    assert detached.h.grad_fn is None and detached.h.tolist() == [2, 2]


@pytest.mark.parametrize("state, name", [({"h": torch.zeros(1)}, "dict"), (1.5, "float"),
                                         ((torch.zeros(1), "h"), "str")])
def test_detach_state_rejects_other_types(state, name):
    with pytest.raises(TypeError, match=rf"must be a tensor or a tuple of tensors, got {name}"):
        detach_state(state)


# begin_state and perplexity (module helpers)

def test_begin_state_of_a_module_without_one_is_none(make_torch_rnn):
    assert begin_state(make_torch_rnn(), 4, torch.device("cpu")) is None


def test_begin_state_of_a_scratch_model_without_one_is_an_error():
    class Model:
        params = [torch.zeros(1, requires_grad=True)]
    with pytest.raises(TypeError, match=r"needs a begin_state\(batch_size, device\)"):
        begin_state(Model(), 4, torch.device("cpu"))


@pytest.mark.parametrize("nll, expected", [(0.0, 1.0), (math.log(28), 28.0), (1e4, math.inf),
                                           (709.5, math.inf)])
def test_perplexity_is_exp_of_the_mean_nll_and_never_overflows(nll, expected):
    assert perplexity(nll) == pytest.approx(expected)


# evaluate_perplexity

def cyclic_corpus(n=1000):
    return torch.arange(n) % V


def test_evaluate_perplexity_of_uniform_logits_is_the_vocab_size():
    assert evaluate_perplexity(ScriptedLogits("uniform"), cyclic_corpus(), 4, 5) == \
        pytest.approx(V, abs=1e-4)
    assert evaluate_perplexity(ScriptedLogits("uniform", 7), torch.arange(300) % 7, 3, 2) == \
        pytest.approx(7, abs=1e-4)


def test_evaluate_perplexity_of_a_model_that_outputs_nan_is_nan_not_inf(make_scratch_rnn):
    # issue 14: exp(nan) used to be reported as an infinite perplexity
    model = NanAfter(make_scratch_rnn(), after=0)
    assert math.isnan(evaluate_perplexity(model, cyclic_corpus(), 4, 5))


def test_evaluate_perplexity_of_a_perfect_model_is_one():
    assert evaluate_perplexity(ScriptedLogits("next"), cyclic_corpus(), 4, 5) == \
        pytest.approx(1.0, abs=1e-6)


def test_evaluate_perplexity_reads_logits_time_major():
    # Perfect predictions laid out batch-major land on the wrong targets.
    assert evaluate_perplexity(ScriptedLogits("next batch-major"), cyclic_corpus(), 4, 5) > 100


def test_evaluate_perplexity_reads_rows_in_order_and_carries_the_state():
    model = ScriptedLogits("uniform", vocab_size=1000)
    evaluate_perplexity(model, torch.arange(1000), batch_size=4, num_steps=5)
    # 999 // 20 = 49 batches; rows of 49 * 5 = 245 tokens, from position 0 (no offset).
    assert model.begin_states == [4]
    assert len(model.inputs) == 49
    assert model.inputs[0][0][:, 0].tolist() == [0, 245, 490, 735]
    for i, (X, state) in enumerate(model.inputs):
        assert torch.equal(X, torch.arange(5) + torch.tensor([[0], [245], [490], [735]]) + 5 * i)
        assert state.item() == i                        # the state came from the last call


def test_evaluate_perplexity_switches_a_module_to_eval_and_back(make_torch_rnn):
    model = make_torch_rnn()
    seen = []
    model.register_forward_pre_hook(lambda module, args: seen.append(module.training))
    model.train()
    evaluate_perplexity(model, cyclic_corpus(), 4, 5)
    assert seen and not any(seen)
    assert model.training
    model.eval()
    evaluate_perplexity(model, cyclic_corpus(), 4, 5)
    assert not model.training


def test_evaluate_perplexity_does_not_touch_gradients(make_scratch_rnn):
    model = make_scratch_rnn()
    value = evaluate_perplexity(model, cyclic_corpus(), 4, 5)
    assert isinstance(value, float) and 1 < value < 100
    assert all(p.grad is None for p in model.params)


def test_evaluate_perplexity_rejects_a_too_short_corpus():
    with pytest.raises(ValueError, match=r"has 20 tokens, too few for one batch of "
                                         r"batch_size=4 x num_steps=5"):
        evaluate_perplexity(ScriptedLogits("uniform"), torch.arange(20), 4, 5)


def test_evaluate_perplexity_rejects_bad_arguments():
    model = ScriptedLogits("uniform")
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got 0"):
        evaluate_perplexity(model, cyclic_corpus(), 0, 5)
    with pytest.raises(ValueError, match="num_steps must be a positive integer, got 2.5"):
        evaluate_perplexity(model, cyclic_corpus(), 4, 2.5)
    with pytest.raises(TypeError, match="integer token indices"):
        evaluate_perplexity(model, torch.rand(100), 4, 5)


def test_evaluate_perplexity_rejects_logits_of_the_wrong_shape(make_scratch_rnn):
    model = BatchMajorLogits(make_scratch_rnn())
    with pytest.raises(ValueError, match=r"logits of shape \(4, 5, 28\) for X of shape \(4, 5\)"):
        evaluate_perplexity(model, cyclic_corpus(), 4, 5)


# History

def test_history_summary_and_speed():
    history = History(settings={}, epochs=[1.0, 1.5], train_perplexity=[12.0, 10.0],
                      valid_perplexity=[13.0, 12.0], seconds=[1.0, 2.0], tokens=1000,
                      train_seconds=2.0)
    assert history.tokens_per_second == 500.0
    assert history.summary() == ("after 1.50 epochs: train perplexity 10.00, validation "
                                 "perplexity 12.00; 2.0 s of training, 500 tokens/s")
    history.epochs[-1] = 2.0
    history.message = "Stopped."
    assert history.summary().startswith("after 2 epochs:")
    assert history.summary().endswith("\nStopped.")


def test_history_summary_writes_huge_perplexities_compactly():
    history = History(settings={}, epochs=[1.0], train_perplexity=[4.58e135],
                      valid_perplexity=[math.inf], seconds=[1.0], tokens=10, train_seconds=1.0)
    assert history.summary().startswith("after 1 epochs: train perplexity 4.58e+135, "
                                        "validation perplexity inf;")


def test_history_without_epochs():
    history = History(settings={})
    assert history.tokens_per_second == 0.0
    assert history.summary() == "No epoch finished."
    history.message = "Interrupted."
    assert history.summary() == "Interrupted."


# train_language_model: what a normal run records

@pytest.mark.parametrize("sampling", ["sequential", "random"])
def test_training_a_scratch_rnn_lowers_perplexity(make_scratch_rnn, small_split, sampling,
                                                  capsys):
    model = make_scratch_rnn()
    history = train(model, small_split, sampling=sampling)
    train_tokens, valid_tokens = map(len, small_split)
    assert history.stop_reason == "epochs" and history.message == ""
    assert history.epochs == [1.0, 2.0]
    assert len(history.train_perplexity) == len(history.valid_perplexity) == 2
    for curve in (history.train_perplexity, history.valid_perplexity):
        assert all(math.isfinite(p) for p in curve)
        assert V > curve[0] > curve[1]                  # below the uniform baseline, and falling
    assert history.tokens == 2 * per_epoch(train_tokens) * B * S
    assert len(history.seconds) == 2
    assert 0 < history.seconds[0] <= history.seconds[1] == pytest.approx(history.train_seconds)
    assert history.settings == dict(batch_size=B, num_steps=S, lr=3.0, epochs=2, time_budget=None,
                                    sampling=sampling, clip=1.0, optimizer="SGD")
    assert history.valid_perplexity[-1] == pytest.approx(
        evaluate_perplexity(model, small_split[1], B, S))
    assert "after 2 epochs: train perplexity" in capsys.readouterr().out


@pytest.mark.parametrize("sampling", ["sequential", "random"])
def test_training_an_nn_module_lowers_perplexity(make_torch_rnn, small_split, sampling):
    model = make_torch_rnn()
    before = copy.deepcopy(model.state_dict())
    untrained = evaluate_perplexity(model, small_split[1], B, S)
    history = train(model, small_split, sampling=sampling)
    assert history.stop_reason == "epochs"
    assert untrained > history.valid_perplexity[0] and V > history.valid_perplexity[-1]
    assert V > history.valid_perplexity[0] > history.valid_perplexity[1]
    assert any(not torch.equal(before[k], v) for k, v in model.state_dict().items())


@pytest.mark.parametrize("sampling, expected", [("sequential", 1), ("random", None)])
def test_sequential_carries_the_state_and_random_restarts_it(make_scratch_rnn, small_split,
                                                             sampling, expected):
    model = Wrapper(make_scratch_rnn())
    train(model, small_split, sampling=sampling, epochs=1)
    batches = per_epoch(len(small_split[0]))
    valid_batches = per_epoch(len(small_split[1]))
    train_inputs = model.inputs[:batches]
    # begin_state: once per training epoch (sequential) or per batch (random), + 1 to evaluate
    assert model.begin_states == (expected or batches) + 1
    if sampling == "sequential":
        for (X, _), (X_next, state_next) in zip(train_inputs, train_inputs[1:]):
            assert state_next.grad_fn is None and not state_next.requires_grad
            assert state_next.abs().sum() > 0           # not a fresh zero state
    else:
        assert all(state.abs().sum() == 0 for _, state in train_inputs)
    assert len(model.inputs) == batches + valid_batches


def test_training_works_with_plot_on_outside_a_notebook(make_scratch_rnn, small_split):
    history = train(make_scratch_rnn(), small_split, epochs=1, plot=True)
    assert history.stop_reason == "epochs" and history.epochs == [1.0]


def test_training_the_same_seed_twice_gives_the_same_numbers(make_scratch_rnn, small_split):
    results = []
    for _ in range(2):
        set_seed(0)
        model = make_scratch_rnn(seed=None)             # initialised from the global seed
        history = train(model, small_split, sampling="random")
        results.append((history.train_perplexity, history.valid_perplexity,
                        [p.detach().clone() for p in model.params]))
    assert results[0][0] == results[1][0] and results[0][1] == results[1][1]
    assert all(torch.equal(p, q) for p, q in zip(results[0][2], results[1][2]))


def test_training_uses_the_optimizer_given(make_scratch_rnn, small_split):
    model = make_scratch_rnn()
    optimizer = torch.optim.Adam(model.params, lr=0.01)
    history = train(model, small_split, lr=None, optimizer=optimizer)
    assert history.settings["optimizer"] == "Adam" and history.settings["lr"] is None
    steps = 2 * per_epoch(len(small_split[0]))
    for p in model.params:
        assert "exp_avg" in optimizer.state[p]
        assert int(optimizer.state[p]["step"]) == steps
    assert V > history.valid_perplexity[-1]


def test_training_steps_the_scheduler_once_per_epoch(make_scratch_rnn, small_split):
    model = make_scratch_rnn()
    optimizer = torch.optim.SGD(model.params, lr=2.0)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    history = train(model, small_split, lr=None, optimizer=optimizer, scheduler=scheduler,
                    epochs=3)
    assert history.stop_reason == "epochs"
    assert optimizer.param_groups[0]["lr"] == pytest.approx(2.0 * 0.5 ** 3)


def test_training_calls_a_custom_scheduler_once_per_epoch(make_scratch_rnn, small_split):
    class Counting:
        steps = 0

        def step(self):
            self.steps += 1
    scheduler = Counting()
    train(make_scratch_rnn(), small_split, scheduler=scheduler, epochs=3)
    assert scheduler.steps == 3


# train_language_model: stopping early

def test_time_budget_stops_training_early(make_scratch_rnn, small_split):
    history = train(make_scratch_rnn(), small_split, epochs=None, time_budget=1e-9)
    assert history.stop_reason == "time budget"
    assert history.epochs == [pytest.approx(1 / per_epoch(len(small_split[0])))]
    assert history.tokens == B * S                     # one batch, then the budget was spent
    assert len(history.train_perplexity) == len(history.valid_perplexity) == 1
    assert "after 0.05 epochs" in history.summary()


class TickingClock:
    """Stands in for the time module in utils.training: every reading is one second later."""

    def __init__(self):
        self.now = 0.0

    def perf_counter(self):
        self.now += 1.0
        return self.now


def test_a_budget_that_runs_out_in_the_last_batch_ends_after_that_epoch(
        make_scratch_rnn, small_split, monkeypatch):
    import utils.training
    monkeypatch.setattr(utils.training, "time", TickingClock())
    per = per_epoch(len(small_split[0]))
    # One clock reading at the start of the epoch and one after each batch: the
    # budget runs out exactly at the last batch of the first epoch.
    history = train(make_scratch_rnn(), small_split, epochs=None, time_budget=per)
    assert history.stop_reason == "time budget"
    assert history.epochs == [1.0]                     # no extra, one-batch epoch
    assert history.tokens == per * B * S


def test_a_budget_that_runs_out_mid_epoch_records_the_fraction_done(
        make_scratch_rnn, small_split, monkeypatch):
    import utils.training
    monkeypatch.setattr(utils.training, "time", TickingClock())
    per = per_epoch(len(small_split[0]))
    # Epoch 1 counts per + 1 seconds (its last reading comes after the last batch),
    # which leaves 4 seconds: 4 batches of epoch 2.
    history = train(make_scratch_rnn(), small_split, epochs=None, time_budget=per + 5)
    assert history.stop_reason == "time budget"
    assert history.epochs == [1.0, pytest.approx(1 + 4 / per)]
    assert history.tokens == (per + 4) * B * S


def test_time_budget_with_epochs_stops_at_whichever_comes_first(make_scratch_rnn, small_split):
    assert train(make_scratch_rnn(), small_split, epochs=5,
                 time_budget=1e-9).stop_reason == "time budget"
    assert train(make_scratch_rnn(), small_split, epochs=1,
                 time_budget=1e6).stop_reason == "epochs"


class StopAfter:
    """A stop() function that says True from its ``after``-th call on, counting its calls."""

    def __init__(self, after: int):
        self.after, self.calls = after, 0

    def __call__(self):
        self.calls += 1
        return self.calls >= self.after


def test_stop_ends_training_after_that_batch_and_records_the_part_done(make_scratch_rnn,
                                                                       small_split, capsys):
    per = per_epoch(len(small_split[0]))
    stop = StopAfter(per + 3)                          # the 3rd batch of epoch 2
    model = make_scratch_rnn()
    history = train(model, small_split, epochs=5, stop=stop)
    assert history.stop_reason == "stopped" and stop.calls == per + 3
    assert history.epochs == [1.0, pytest.approx(1 + 3 / per)]
    assert history.tokens == (per + 3) * B * S
    assert len(history.train_perplexity) == len(history.valid_perplexity) == 2
    assert history.valid_perplexity[-1] == pytest.approx(
        evaluate_perplexity(model, small_split[1], B, S))
    assert "the model keeps what it learned so far" in history.message
    assert history.summary().startswith("after 1.14 epochs:")
    assert history.summary().endswith(history.message)
    assert capsys.readouterr().out == history.summary() + "\n"


def test_stop_that_is_true_from_the_start_still_does_one_batch(make_scratch_rnn, small_split):
    history = train(make_scratch_rnn(), small_split, stop=lambda: True)
    assert history.stop_reason == "stopped"
    assert history.epochs == [pytest.approx(1 / per_epoch(len(small_split[0])))]
    assert history.tokens == B * S


@pytest.mark.parametrize("epochs, reason, recorded", [(2, "stopped", [1.0]),
                                                       (1, "epochs", [1.0])])
def test_stop_at_the_last_batch_of_an_epoch(make_scratch_rnn, small_split, epochs, reason,
                                            recorded):
    # Stopping in the last batch of the last epoch is just the end of training.
    history = train(make_scratch_rnn(), small_split, epochs=epochs,
                    stop=StopAfter(per_epoch(len(small_split[0]))))
    assert history.stop_reason == reason and history.epochs == recorded


def test_stop_that_never_says_true_is_asked_after_every_batch(make_scratch_rnn, small_split):
    stop = StopAfter(math.inf)
    history = train(make_scratch_rnn(), small_split, stop=stop)
    assert history.stop_reason == "epochs" and history.epochs == [1.0, 2.0]
    assert stop.calls == 2 * per_epoch(len(small_split[0]))


def test_on_epoch_is_called_once_per_epoch_with_the_growing_history(make_scratch_rnn,
                                                                    small_split):
    seen = []

    def on_epoch(history):
        seen.append((history, list(history.epochs), len(history.valid_perplexity),
                     history.stop_reason))
    history = train(make_scratch_rnn(), small_split, epochs=3, on_epoch=on_epoch)
    assert [s[1] for s in seen] == [[1.0], [1.0, 2.0], [1.0, 2.0, 3.0]]
    assert all(s[0] is history for s in seen)
    assert [s[2] for s in seen] == [1, 2, 3]           # called after validation
    assert [s[3] for s in seen] == ["", "", "epochs"]  # the last call knows it is the last


def test_on_epoch_sees_the_partial_epoch_of_a_stop(make_scratch_rnn, small_split):
    seen = []
    per = per_epoch(len(small_split[0]))
    train(make_scratch_rnn(), small_split, epochs=3, stop=StopAfter(per + 2),
          on_epoch=lambda h: seen.append((list(h.epochs), h.stop_reason)))
    assert seen == [([1.0], ""), ([1.0, pytest.approx(1 + 2 / per)], "stopped")]


def test_verbose_false_prints_nothing(make_scratch_rnn, small_split, capsys):
    history = train(make_scratch_rnn(), small_split, epochs=1, verbose=False)
    assert history.stop_reason == "epochs"
    assert capsys.readouterr().out == ""


def test_a_nan_loss_stops_training_and_keeps_the_parameters(make_scratch_rnn, small_split):
    # Epoch 1: 21 batches, then 2 validation batches; NaN from batch 6 of epoch 2.
    after = per_epoch(len(small_split[0])) + per_epoch(len(small_split[1])) + 5
    model = NanAfter(make_scratch_rnn(), after=after)
    history = train(model, small_split, epochs=3)
    assert history.stop_reason == "diverged"
    assert history.epochs == [1.0] and len(history.valid_perplexity) == 1
    assert "loss became nan in epoch 2, batch 6" in history.message
    assert "lr=3.0" in history.message and "clip=1.0" in history.message
    assert all(torch.isfinite(p).all() for p in model.params)
    assert all(torch.equal(p, q) for p, q in zip(model.params, model.snapshot))
    assert model.calls == after + 1                    # no call after the NaN


@pytest.mark.parametrize("clip", [1.0, None])
def test_an_infinite_gradient_stops_training_and_skips_the_update(make_scratch_rnn, small_split,
                                                                  clip):
    model = InfiniteGradientAfter(make_scratch_rnn(), after=3)
    history = train(model, small_split, clip=clip)
    assert history.stop_reason == "diverged"
    assert history.epochs == []
    assert "gradient norm became" in history.message and "update was skipped" in history.message
    assert f"clip={clip}" in history.message and "lr=3.0" in history.message
    assert all(torch.equal(p, q) for p, q in zip(model.params, model.snapshot))
    assert history.summary() == history.message


def test_a_huge_learning_rate_without_clipping_does_not_raise(make_scratch_rnn, small_split):
    model = make_scratch_rnn()
    history = train(model, small_split, lr=1e6, clip=None)
    assert history.stop_reason == "diverged" or math.isinf(history.valid_perplexity[-1])
    assert all(torch.isfinite(p).all() for p in model.params)


def test_an_interrupt_keeps_the_finished_epochs(make_scratch_rnn, small_split):
    after = per_epoch(len(small_split[0])) + per_epoch(len(small_split[1])) + 3
    model = InterruptAfter(make_scratch_rnn(), after=after)
    history = train(model, small_split, epochs=3)
    assert history.stop_reason == "interrupted"
    assert history.epochs == [1.0] and len(history.valid_perplexity) == 1
    assert "Interrupted" in history.message
    assert all(torch.isfinite(p).all() for p in model.params)


def test_an_interrupt_in_the_first_epoch_returns_an_empty_history(make_torch_rnn, small_split):
    class Interrupting(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner, self.calls = make_torch_rnn(), 0

        def forward(self, X, state):
            self.calls += 1
            if self.calls > 2:
                raise KeyboardInterrupt
            return self.inner(X, state)
    model = Interrupting()
    model.train()
    history = train(model, small_split)
    assert history.stop_reason == "interrupted" and history.epochs == []
    assert history.summary() == history.message


# train_language_model: bad arguments

BAD_SETTINGS = [
    (dict(lr=0), r"lr must be a positive finite number, got 0\b"),
    (dict(lr=-1), r"lr must be a positive finite number, got -1\b"),
    (dict(lr=math.nan), r"lr must be a positive finite number, got nan"),
    (dict(lr="0.1"), r"lr must be a positive finite number, got '0.1'"),
    (dict(epochs=0), r"epochs must be a positive integer, got 0\b"),
    (dict(epochs=1.5), r"epochs must be a positive integer, got 1.5"),
    (dict(epochs=True), r"epochs must be a positive integer, got True"),
    (dict(batch_size=0), r"batch_size must be a positive integer, got 0\b"),
    (dict(num_steps=-3), r"num_steps must be a positive integer, got -3"),
    (dict(sampling="shuffled"), r"sampling must be 'random' or 'sequential', got 'shuffled'"),
    (dict(clip=0), r"clip must be a positive finite number, got 0\b"),
    (dict(clip=math.inf), r"clip must be a positive finite number, got inf"),
    (dict(time_budget=-5), r"time_budget must be a positive finite number, got -5"),
    (dict(epochs=None), r"Give epochs \(a number of passes over the text\) or time_budget"),
    (dict(lr=None), r"Give a learning rate lr \(for plain SGD\) or an optimizer"),
]


@pytest.mark.parametrize("overrides, message", BAD_SETTINGS,
                         ids=[",".join(f"{k}={v!r}" for k, v in o.items()) for o, _ in BAD_SETTINGS])
def test_nonsense_settings_are_named(make_scratch_rnn, small_split, overrides, message):
    model = Wrapper(make_scratch_rnn())
    with pytest.raises(ValueError, match=message):
        train(model, small_split, **overrides)
    assert model.calls == 0                            # checked before any training


def test_an_optimizer_and_lr_together_are_refused(make_scratch_rnn, small_split):
    model = make_scratch_rnn()
    with pytest.raises(ValueError, match="not both"):
        train(model, small_split, lr=0.1, optimizer=torch.optim.SGD(model.params, lr=0.1))


@pytest.mark.parametrize("part", ["train", "valid"])
def test_a_too_short_text_is_named_with_the_tokens_needed(make_scratch_rnn, small_split, part):
    train_part, valid_part = small_split
    split = (train_part[:100], valid_part) if part == "train" else (train_part, valid_part[:100])
    prefix = "" if part == "train" else "valid_"
    with pytest.raises(ValueError, match=rf"The {part} text has 100 tokens, too few for one batch "
                                         rf"of {prefix}batch_size={B} x {prefix}num_steps={S} "
                                         rf"\(needs {B * S + 1}\)"):
        train(make_scratch_rnn(), split)


def test_a_float_or_2d_corpus_is_refused(make_scratch_rnn, small_split):
    train_part, valid_part = small_split
    with pytest.raises(TypeError, match="train must hold integer token indices"):
        train(make_scratch_rnn(), (train_part.float(), valid_part))
    with pytest.raises(ValueError, match=r"valid must be 1-D"):
        train(make_scratch_rnn(), (train_part, valid_part.reshape(2, -1)))


def test_logits_of_the_wrong_shape_name_the_expected_shape(make_scratch_rnn, small_split):
    with pytest.raises(ValueError, match=rf"logits of shape \({B}, {S}, {V}\) for X of shape "
                                         rf"\({B}, {S}\).*expected \(steps \* batch, vocab_size\) "
                                         rf"= \({B * S}, vocab_size\)"):
        train(BatchMajorLogits(make_scratch_rnn()), small_split)


def test_logits_that_are_not_a_tensor_are_refused(make_scratch_rnn, small_split):
    class ListLogits(Wrapper):
        def forward(self, X, state):
            logits, state = self.inner(X, state)
            return logits.tolist(), state
    with pytest.raises(ValueError, match=r"logits of shape list"):
        train(ListLogits(make_scratch_rnn()), small_split)


def test_something_that_is_not_a_model_is_refused(small_split):
    with pytest.raises(TypeError, match="neither an nn.Module nor a from-scratch model"):
        train(lambda X, state: (X, state), small_split)


def test_a_scratch_model_without_begin_state_is_refused(make_scratch_rnn, small_split):
    inner = make_scratch_rnn()

    class NoBeginState:
        params = inner.params

        def __call__(self, X, state):
            return inner(X, state)
    with pytest.raises(TypeError, match=r"needs a begin_state\(batch_size, device\) method"):
        train(NoBeginState(), small_split)


# The validation text does not depend on the training batch

@pytest.mark.parametrize("batch_size, num_steps", [(8, 35), (256, 35), (32, 70)])
def test_validation_reads_the_same_tokens_whatever_the_training_batch(make_scratch_rnn, small_split,
                                                                      batch_size, num_steps):
    # Before, validation used the training batch_size x num_steps, so a run at batch 256
    # was scored on about half the text that a run at batch 32 was scored on.
    model = make_scratch_rnn()
    history = train(model, small_split, batch_size=batch_size, num_steps=num_steps,
                    valid_batch_size=32, valid_num_steps=35, epochs=1)
    assert history.valid_perplexity[-1] == evaluate_perplexity(model, small_split[1])


def test_the_default_validation_layout_is_32_by_35(make_scratch_rnn, small_split):
    model = make_scratch_rnn()
    torch.manual_seed(0)
    history = train_language_model(model, *small_split, batch_size=B, num_steps=S, lr=3.0,
                                   epochs=1, plot=False, verbose=False)
    assert history.valid_perplexity[-1] == evaluate_perplexity(model, small_split[1], 32, 35)
    assert history.valid_perplexity[-1] != evaluate_perplexity(model, small_split[1], B, S)


@pytest.mark.parametrize("name, value", [("valid_batch_size", 0), ("valid_num_steps", 2.5),
                                         ("valid_batch_size", "32")])
def test_a_bad_validation_layout_is_named(make_scratch_rnn, small_split, name, value):
    with pytest.raises((TypeError, ValueError), match=name):
        train(make_scratch_rnn(), small_split, **{name: value})
