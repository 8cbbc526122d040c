"""Tests for utils/sequences.py: train_valid_split, num_batches and the two iterators.

The property tests iterate over ``torch.arange(n)``, so every value in a batch is
its own position in the corpus.
"""

import math
import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from utils import batches, num_batches, random_batches, sequential_batches, train_valid_split

ITERATORS = pytest.mark.parametrize("iterate", [random_batches, sequential_batches],
                                    ids=["random", "sequential"])


def one_epoch(iterate, n, batch_size, num_steps, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return list(iterate(torch.arange(n), batch_size, num_steps, generator=generator))


@st.composite
def corpus_shapes(draw):
    """(num_tokens, batch_size, num_steps) with room for at least one batch."""
    batch_size = draw(st.integers(1, 8))
    num_steps = draw(st.integers(1, 10))
    per_batch = batch_size * num_steps
    num_tokens = draw(st.integers(per_batch + 1, 6 * per_batch + num_steps))
    return num_tokens, batch_size, num_steps


# train_valid_split

@pytest.mark.parametrize("n, fraction, num_valid", [(100, 0.1, 10), (105, 0.1, 10),
                                                    (1000, 0.25, 250), (10, 0.5, 5),
                                                    (7, 0.99, 6)])
def test_train_valid_split_takes_the_last_tokens_for_validation(n, fraction, num_valid):
    corpus = torch.arange(n) * 3
    train, valid = train_valid_split(corpus, fraction)
    assert len(valid) == num_valid
    assert torch.equal(valid, corpus[n - num_valid:])
    assert torch.equal(torch.cat([train, valid]), corpus)


def test_train_valid_split_default_is_ten_percent_and_accepts_lists():
    train, valid = train_valid_split(list(range(50)))
    assert train.tolist() == list(range(45)) and valid.tolist() == list(range(45, 50))
    assert train.dtype == valid.dtype == torch.int64


@pytest.mark.parametrize("fraction", [0, 0.0, 1, 1.0, -0.1, 1.5, math.nan, True])
def test_train_valid_split_rejects_a_bad_fraction(fraction):
    with pytest.raises(ValueError, match=rf"valid_fraction must be between 0 and 1, got "
                                         rf"{fraction!r}"):
        train_valid_split(torch.arange(100), fraction)


@pytest.mark.parametrize("fraction", [np.float32(0.1), np.float64(0.1)])
def test_train_valid_split_accepts_a_numpy_fraction(fraction):
    # issue 14: np.float32(0.1) was refused as "must be between 0 and 1"
    train, valid = train_valid_split(torch.arange(100), fraction)
    assert torch.equal(valid, torch.arange(90, 100)) and torch.equal(train, torch.arange(90))


@pytest.mark.parametrize("fraction", ["0.1", None])
def test_train_valid_split_names_a_fraction_of_the_wrong_type(fraction):
    with pytest.raises(ValueError, match="valid_fraction"):
        train_valid_split(torch.arange(100), fraction)


@pytest.mark.parametrize("n, fraction", [(5, 0.1), (1, 0.5), (9, 0.1)])
def test_train_valid_split_rejects_a_too_short_corpus(n, fraction):
    with pytest.raises(ValueError, match=rf"A corpus of {n} tokens is too short to split with "
                                         rf"valid_fraction={fraction}"):
        train_valid_split(torch.arange(n), fraction)


def test_train_valid_split_rejects_a_bad_corpus():
    with pytest.raises(TypeError, match="corpus must hold token indices"):
        train_valid_split("the time machine")
    with pytest.raises(TypeError, match="float32"):
        train_valid_split(torch.rand(100))
    with pytest.raises(ValueError, match="1-D"):
        train_valid_split(torch.zeros(10, 10, dtype=torch.long))


# num_batches

@pytest.mark.parametrize("num_tokens, batch_size, num_steps, expected", [
    (101, 4, 5, 5), (100, 4, 5, 4), (21, 4, 5, 1), (20, 4, 5, 0), (2, 1, 1, 1), (1, 1, 1, 0),
    (35_001, 32, 35, 31),
])
def test_num_batches_counts_whole_batches_plus_one_target(num_tokens, batch_size, num_steps,
                                                          expected):
    assert num_batches(num_tokens, batch_size, num_steps) == expected


def test_num_batches_of_an_empty_corpus_is_zero():
    assert num_batches(0, 4, 5) == 0


@pytest.mark.parametrize("batch_size, num_steps", [(0, 5), (4, 0), (-4, 5), (4, -5)])
def test_num_batches_rejects_a_non_positive_size(batch_size, num_steps):
    with pytest.raises(ValueError, match="batch_size|num_steps"):
        num_batches(100, batch_size, num_steps)


# Errors, raised when the iterator is called

@ITERATORS
@pytest.mark.parametrize("n, batch_size, num_steps", [(40, 8, 5), (3, 1, 5), (10, 10, 1)])
def test_too_short_corpus_names_both_sizes_and_the_tokens_needed(iterate, n, batch_size,
                                                                 num_steps):
    with pytest.raises(ValueError) as info:
        iterate(torch.arange(n), batch_size, num_steps)    # no next(): fails on the call
    message = str(info.value)
    assert f"has {n} tokens" in message
    assert f"batch_size={batch_size}" in message and f"num_steps={num_steps}" in message
    assert f"at least {batch_size * num_steps + 1} tokens" in message


@ITERATORS
@pytest.mark.parametrize("name", ["batch_size", "num_steps"])
@pytest.mark.parametrize("bad", [0, -2, 2.0, 2.5, True, "2", None])
def test_bad_batch_size_or_num_steps_is_named(iterate, name, bad):
    sizes = {"batch_size": 2, "num_steps": 3, name: bad}
    with pytest.raises(ValueError, match=rf"{name} must be a positive integer, got "
                                         rf"{re.escape(repr(bad))}"):
        iterate(torch.arange(100), **sizes)


@ITERATORS
def test_float_corpus_is_a_dtype_error(iterate):
    with pytest.raises(TypeError, match="integer token indices, got dtype torch.float32"):
        iterate(torch.arange(100, dtype=torch.float32), 2, 3)


@ITERATORS
def test_2d_corpus_is_a_shape_error(iterate):
    with pytest.raises(ValueError, match=r"1-D.*got shape \(10, 10\)"):
        iterate(torch.arange(100).reshape(10, 10), 2, 3)


@ITERATORS
def test_string_corpus_is_a_type_error_with_a_hint(iterate):
    with pytest.raises(TypeError, match=r"got a str; map tokens to indices with vocab\[\.\.\.\]"):
        iterate("the time machine " * 10, 2, 3)


@ITERATORS
def test_negative_index_is_an_error(iterate):
    corpus = torch.arange(100)
    corpus[50] = -3
    with pytest.raises(ValueError, match=r"negative index \(-3\)"):
        iterate(corpus, 2, 3)


@ITERATORS
def test_batches_do_not_share_memory_with_the_corpus(iterate):
    # issue 14: sequential batches were views, so X.zero_() changed the corpus
    corpus = torch.arange(100)
    for X, Y in iterate(corpus, 2, 5, torch.Generator().manual_seed(0)):
        assert not np.shares_memory(X.numpy(), corpus.numpy())
        assert not np.shares_memory(Y.numpy(), corpus.numpy())
        X.fill_(-1)
        Y.fill_(-1)
    assert torch.equal(corpus, torch.arange(100))


@ITERATORS
def test_accepts_a_list_and_a_numpy_array(iterate):
    for corpus in (list(range(50)), np.arange(50)):
        X, Y = next(iterate(corpus, 2, 3, torch.Generator().manual_seed(0)))
        assert X.dtype == Y.dtype == torch.int64
        assert torch.equal(Y, X + 1)


# batches

@pytest.mark.parametrize("sampling, iterate", [("random", random_batches),
                                               ("sequential", sequential_batches)])
def test_batches_dispatches_by_name(sampling, iterate):
    corpus = torch.arange(200)
    ours = list(batches(corpus, 3, 4, sampling, torch.Generator().manual_seed(7)))
    theirs = list(iterate(corpus, 3, 4, torch.Generator().manual_seed(7)))
    assert len(ours) == len(theirs) == num_batches(200, 3, 4)
    assert all(torch.equal(a, c) and torch.equal(b, d) for (a, b), (c, d) in zip(ours, theirs))


@pytest.mark.parametrize("sampling", ["shuffled", "Random", "", None])
def test_batches_rejects_an_unknown_sampling(sampling):
    with pytest.raises(ValueError, match=rf"sampling must be 'random' or 'sequential', got "
                                         rf"{sampling!r}"):
        batches(torch.arange(100), 2, 3, sampling)


def test_batches_checks_its_arguments_when_called():
    with pytest.raises(ValueError, match="num_steps"):
        batches(torch.arange(100), 2, 0, "random")


# Generators and reproducibility

@ITERATORS
def test_a_seeded_generator_makes_two_runs_identical(iterate):
    first = one_epoch(iterate, 1000, 4, 7, seed=3)
    second = one_epoch(iterate, 1000, 4, 7, seed=3)
    assert all(torch.equal(a, c) and torch.equal(b, d) for (a, b), (c, d) in zip(first, second))


def test_random_batches_shuffle_differently_with_another_seed():
    first = torch.stack([X for X, _ in one_epoch(random_batches, 1000, 4, 7, seed=0)])
    second = torch.stack([X for X, _ in one_epoch(random_batches, 1000, 4, 7, seed=1)])
    assert not torch.equal(first, second)


def test_random_batches_without_a_generator_follow_the_global_seed():
    torch.manual_seed(11)
    first = [X for X, _ in random_batches(torch.arange(500), 4, 5)]
    torch.manual_seed(11)
    second = [X for X, _ in random_batches(torch.arange(500), 4, 5)]
    assert all(torch.equal(a, b) for a, b in zip(first, second))


def test_random_batches_are_not_in_reading_order():
    starts = torch.cat([X[:, 0] for X, _ in one_epoch(random_batches, 2000, 8, 10)])
    assert not torch.equal(starts, starts.sort().values)


# Properties of one epoch, for both iterators

@ITERATORS
@settings(max_examples=100, deadline=None)
@given(shape=corpus_shapes(), seed=st.integers(0, 2 ** 31))
def test_every_batch_is_int64_of_shape_batch_by_steps(iterate, shape, seed):
    n, batch_size, num_steps = shape
    for X, Y in one_epoch(iterate, n, batch_size, num_steps, seed):
        assert X.shape == Y.shape == (batch_size, num_steps)
        assert X.dtype == Y.dtype == torch.int64


@ITERATORS
@settings(max_examples=100, deadline=None)
@given(shape=corpus_shapes(), seed=st.integers(0, 2 ** 31))
def test_targets_are_the_next_tokens_in_the_corpus(iterate, shape, seed):
    n, batch_size, num_steps = shape
    for X, Y in one_epoch(iterate, n, batch_size, num_steps, seed):
        assert torch.equal(Y, X + 1)                       # positions: Y is X shifted by one
        assert torch.equal(X[:, 1:], X[:, :-1] + 1)        # each row is a contiguous window
        assert int(X.min()) >= 0 and int(Y.max()) <= n - 1


@ITERATORS
@settings(max_examples=100, deadline=None)
@given(shape=corpus_shapes(), seed=st.integers(0, 2 ** 31))
def test_one_epoch_has_num_batches_non_overlapping_windows(iterate, shape, seed):
    n, batch_size, num_steps = shape
    epoch = one_epoch(iterate, n, batch_size, num_steps, seed)
    expected = (n - 1) // (batch_size * num_steps)
    assert len(epoch) == expected == num_batches(n, batch_size, num_steps)
    positions = torch.cat([X.reshape(-1) for X, _ in epoch])
    assert len(positions) == expected * batch_size * num_steps
    assert len(set(positions.tolist())) == len(positions)  # no position is read twice


@settings(max_examples=100, deadline=None)
@given(shape=corpus_shapes(), seed=st.integers(0, 2 ** 31))
def test_sequential_rows_continue_from_batch_to_batch(shape, seed):
    n, batch_size, num_steps = shape
    epoch = one_epoch(sequential_batches, n, batch_size, num_steps, seed)
    for (X, _), (X_next, _) in zip(epoch, epoch[1:]):
        assert torch.equal(X_next[:, 0], X[:, -1] + 1)
    offset = int(epoch[0][0][0, 0])
    assert 0 <= offset < num_steps


@settings(max_examples=100, deadline=None)
@given(shape=corpus_shapes(), seed=st.integers(0, 2 ** 31))
def test_random_windows_start_on_a_grid_from_one_offset(shape, seed):
    n, batch_size, num_steps = shape
    starts = torch.cat([X[:, 0] for X, _ in one_epoch(random_batches, n, batch_size, num_steps,
                                                      seed)])
    offsets = set((starts % num_steps).tolist())
    assert len(offsets) == 1 and offsets.pop() < num_steps


def offset_of(epoch, num_steps):
    return int(epoch[0][0][0, 0]) % num_steps


@ITERATORS
@settings(max_examples=100, deadline=None)
@given(shape=corpus_shapes().filter(lambda s: s[2] > 1 and (s[0] - 1) % (s[1] * s[2]) > 0))
def test_the_random_offset_changes_across_epochs(iterate, shape):
    # With room to spare (the tokens are not an exact multiple of a batch) the
    # offset is drawn from at least two values.
    n, batch_size, num_steps = shape
    generator = torch.Generator().manual_seed(0)
    offsets = {offset_of(list(iterate(torch.arange(n), batch_size, num_steps, generator)),
                         num_steps) for _ in range(30)}
    assert len(offsets) > 1


@ITERATORS
def test_the_offset_is_zero_when_the_batches_fill_the_corpus(iterate):
    generator = torch.Generator().manual_seed(0)
    for _ in range(10):                                    # 2 * 5 * 4 + 1 = 41 tokens
        epoch = list(iterate(torch.arange(41), 2, 5, generator))
        assert len(epoch) == 4
        assert sorted(torch.cat([X.reshape(-1) for X, _ in epoch]).tolist()) == list(range(40))
