"""Tests for utils/generation.py: generate, greedy and with temperature."""

import math
import re
import string

import numpy as np
import pytest
import torch

import utils
from utils import Vocab, generate, train_language_model

LETTERS_AND_SPACE = set(string.ascii_lowercase + " ")


class Scripted:
    """A from-scratch model whose scores come from a fixed vector; it records every call.

    The state counts the calls, so each call can see the state the previous one returned.
    """

    def __init__(self, logits):
        self.logits = torch.as_tensor(logits, dtype=torch.float32).reshape(1, -1)
        self.params = [torch.zeros(1, requires_grad=True)]
        self.inputs, self.states, self.begin_states = [], [], []

    def begin_state(self, batch_size, device):
        self.begin_states.append(batch_size)
        return torch.zeros(())

    def __call__(self, X, state):
        self.inputs.append(X.clone())
        self.states.append(int(state))
        return self.logits.clone(), state + 1            # (steps * batch, vocab) = (1, vocab)


def favouring(vocab, token):
    logits = torch.zeros(len(vocab))
    logits[vocab[token]] = 5.0
    return Scripted(logits)


@pytest.fixture(scope="module")
def trained(make_scratch_rnn, small_split, time_machine):
    """(model, vocab): a scratch RNN after 2 short epochs, so it never predicts '<unk>'."""
    model = make_scratch_rnn()
    train_language_model(model, *small_split, batch_size=64, num_steps=8, lr=3.0, epochs=2,
                         plot=False)
    return model, time_machine[1]


# What comes out

def test_greedy_is_deterministic_and_adds_num_tokens_characters(trained):
    model, vocab = trained
    first = generate(model, vocab, "the time ", 30)
    assert first == generate(model, vocab, "the time ", 30)
    assert first.startswith("the time ") and len(first) == len("the time ") + 30
    assert set(first[9:]) <= LETTERS_AND_SPACE


def test_greedy_takes_the_most_likely_token(time_machine):
    vocab = time_machine[1]
    assert generate(favouring(vocab, "e"), vocab, "ab", 5) == "abeeeee"
    assert generate(favouring(vocab, " "), vocab, "x", 3, temperature=0) == "x   "


def test_a_tiny_temperature_is_almost_greedy(time_machine):
    vocab = time_machine[1]
    result = generate(favouring(vocab, "q"), vocab, "a", 20, temperature=0.01,
                      generator=torch.Generator().manual_seed(0))
    assert result == "a" + "q" * 20


def test_sampling_with_a_seeded_generator_is_reproducible(trained):
    model, vocab = trained

    def sample(seed):
        return generate(model, vocab, "the ", 40, temperature=1.0,
                        generator=torch.Generator().manual_seed(seed))
    assert sample(0) == sample(0)
    assert sample(0) != sample(1)
    assert len(sample(2)) == 44 and set(sample(2)) <= LETTERS_AND_SPACE


@pytest.mark.parametrize("temperature, p_a", [(1.0, 0.75), (2.0, math.sqrt(3) / (math.sqrt(3) + 1)),
                                              (0.5, 0.9)])
def test_sampling_follows_softmax_of_logits_over_temperature(temperature, p_a):
    vocab = Vocab(list("ab"))                           # <unk>, a, b
    model = Scripted([-1e9, math.log(3), 0.0])          # P(a) = 3/4 at temperature 1
    result = generate(model, vocab, "a", 4000, temperature=temperature,
                      generator=torch.Generator().manual_seed(0))
    share = result[1:].count("a") / 4000
    assert share == pytest.approx(p_a, abs=0.025)
    assert set(result) == {"a", "b"}


def test_word_mode_splits_and_joins_with_spaces():
    vocab = Vocab("the time machine the".split())
    model = favouring(vocab, "machine")
    assert generate(model, vocab, "the  time", 2, token="word") == "the time machine machine"


# Warm-up and state

def test_warm_up_feeds_the_prefix_then_each_new_token_with_the_state_carried(time_machine):
    vocab = time_machine[1]
    model = favouring(vocab, "e")
    result = generate(model, vocab, "time", 3)
    assert result == "timeeee"
    # Every prefix token goes in once (the last one gives the first prediction), then
    # every generated token but the last: len(prefix) + num_tokens - 1 calls.
    fed = [int(X) for X in model.inputs]
    assert fed == vocab[list("time")] + vocab[["e", "e"]]
    assert all(X.shape == (1, 1) and X.dtype == torch.int64 for X in model.inputs)
    assert model.begin_states == [1]
    assert model.states == list(range(len(fed)))        # each call gets the last call's state


def test_a_one_token_prefix_needs_no_warm_up(time_machine):
    vocab = time_machine[1]
    model = favouring(vocab, "z")
    assert generate(model, vocab, "a", 1) == "az"
    assert [int(X) for X in model.inputs] == [vocab["a"]]


def test_an_nn_module_is_switched_to_eval_and_back(make_torch_rnn, time_machine):
    vocab = time_machine[1]
    model = make_torch_rnn()
    seen = []
    model.register_forward_pre_hook(lambda module, args: seen.append(module.training))
    model.train()
    first = generate(model, vocab, "the", 10)
    assert len(seen) == 3 + 10 - 1 and not any(seen)
    assert model.training
    assert generate(model, vocab, "the", 10) == first


# Bad arguments

def test_unknown_characters_are_named_with_a_hint(time_machine):
    vocab = time_machine[1]
    model = favouring(vocab, "e")
    with pytest.raises(ValueError, match=r"not in the vocabulary: \['T', 'W'\]\..*prefix\.lower\(\)"):
        generate(model, vocab, "The Wells", 5)
    with pytest.raises(ValueError, match=re.escape("['!']")):
        generate(model, vocab, "hello!", 5)
    assert model.inputs == []


def test_unknown_words_are_named():
    vocab = Vocab("the time machine".split())
    with pytest.raises(ValueError, match=r"not in the vocabulary: \['zebra'\]\.$"):
        generate(favouring(vocab, "the"), vocab, "the zebra", 2, token="word")


@pytest.mark.parametrize("prefix", ["", "   ", None, 5, ["t", "h"]])
def test_an_empty_or_non_string_prefix_is_refused(time_machine, prefix):
    vocab = time_machine[1]
    with pytest.raises(ValueError, match=rf"prefix must be a non-empty string, got "
                                         rf"{re.escape(repr(prefix))}"):
        generate(favouring(vocab, "e"), vocab, prefix, 5)


@pytest.mark.parametrize("num_tokens", [0, -1, 1.5, True, None])
def test_a_bad_num_tokens_is_refused(time_machine, num_tokens):
    vocab = time_machine[1]
    with pytest.raises(ValueError, match=rf"num_tokens must be a positive integer, got "
                                         rf"{re.escape(repr(num_tokens))}"):
        generate(favouring(vocab, "e"), vocab, "the", num_tokens)


@pytest.mark.parametrize("temperature, greedy", [(np.float32(0.01), False), (np.float64(0.01), False),
                                                 (np.int64(0), True), (np.float32(0.0), True)])
def test_a_numpy_temperature_is_a_number(time_machine, temperature, greedy):
    # issue 14: np.float32(0.01) was refused as "must be 0 (greedy) or a positive number"
    vocab = time_machine[1]
    generator = None if greedy else torch.Generator().manual_seed(0)
    assert generate(favouring(vocab, "q"), vocab, "a", 20, temperature=temperature,
                    generator=generator) == "a" + "q" * 20


@pytest.mark.parametrize("temperature", [-1, -0.5, math.nan, math.inf, True, np.bool_(True),
                                         np.float32(-1), "1", None])
def test_a_bad_temperature_is_refused(time_machine, temperature):
    vocab = time_machine[1]
    with pytest.raises(ValueError, match=rf"temperature must be 0 \(greedy\) or a positive number, "
                                         rf"got {re.escape(repr(temperature))}"):
        generate(favouring(vocab, "e"), vocab, "the", 5, temperature=temperature)


@pytest.mark.parametrize("token", ["chars", "Word", "", None])
def test_a_bad_token_type_is_refused(time_machine, token):
    vocab = time_machine[1]
    with pytest.raises(ValueError, match=rf"token must be 'char' or 'word', got "
                                         rf"{re.escape(repr(token))}"):
        generate(favouring(vocab, "e"), vocab, "the", 5, token=token)


def test_something_that_is_not_a_model_is_refused(time_machine):
    with pytest.raises(TypeError, match="neither an nn.Module nor a from-scratch model"):
        generate(lambda X, state: (X, state), time_machine[1], "the", 5)


def test_words_of_the_book_counts_the_words_between_the_prompt_and_the_cut_off_end():
    share, line = utils.words_of_the_book("the time traveller said the shill of the machi")
    # looked at: "said the shill of the" ("machi" may be cut off, the prompt is the prompt)
    assert line == "4 of 5 words are in the book; the others: shill"
    assert share == 0.8
    share, line = utils.words_of_the_book("a b the time", prefix_words=0)
    assert line.startswith("2 of 3 words are in the book")


@pytest.mark.parametrize("text, prefix_words, error, message", [
    (5, 3, TypeError, "text must be a str"),
    (["the", "time"], 3, TypeError, "text must be a str"),
    ("the time traveller said", 3, ValueError, "too few to judge after prefix_words=3"),
    ("", 0, ValueError, "text has 0 words"),
    ("a b c d e", -1, ValueError, "prefix_words must be a non-negative integer, got -1"),
    ("a b c d e", 1.5, ValueError, "prefix_words must be a non-negative integer, got 1.5"),
])
def test_words_of_the_book_names_a_bad_input(text, prefix_words, error, message):
    with pytest.raises(error, match=message):
        utils.words_of_the_book(text, prefix_words=prefix_words)
