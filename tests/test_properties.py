"""Properties of utils' checks and losses over many inputs (hypothesis).

Where an input is bad, the error names it; where it is good, the function
agrees with a plain reference computation.
"""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings, strategies as st
from torch.nn import functional as F

import utils
from utils.checks import lengths_tensor, positive_int, real_number

SETTINGS = settings(max_examples=60, deadline=None)


@SETTINGS
@given(n=st.integers(1, 5), T=st.integers(1, 6), V=st.integers(2, 7), seed=st.integers(0, 10 ** 6),
       layout=st.sampled_from(["(n, T, V)", "(T, n, V) transposed", "strided"]))
def test_masked_cross_entropy_is_the_mean_over_real_tokens(n, T, V, seed, layout):
    # in every memory layout: the decoders hand back a transposed (T, n, V), which
    # the loss reads without a copy; others are read after one
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, T, V, generator=g)
    if layout == "(T, n, V) transposed":
        logits = logits.transpose(0, 1).contiguous().transpose(0, 1)
    elif layout == "strided":
        logits = torch.cat([logits, logits], dim=2)[:, :, ::2]
    targets = torch.randint(0, V, (n, T), generator=g)
    valid_len = torch.randint(0, T + 1, (n,), generator=g)
    if int(valid_len.sum()) == 0:
        valid_len[0] = 1
    expected = sum(F.cross_entropy(logits[i, :k], targets[i, :k], reduction="sum")
                   for i, k in enumerate(valid_len.tolist()) if k) / valid_len.sum()
    got = utils.masked_cross_entropy(logits, targets, valid_len)
    assert math.isclose(got.item(), expected.item(), rel_tol=1e-5, abs_tol=1e-6)


@SETTINGS
@given(rows=st.integers(1, 6), extra=st.sampled_from(["column", "one", "float", "too long"]))
def test_lengths_tensor_refuses_what_would_broadcast_or_overflow(rows, extra):
    lengths = torch.ones(rows, dtype=torch.long)
    bad = {"column": lengths[:, None], "one": lengths[:1] if rows > 1 else lengths[:, None],
           "float": lengths.float(), "too long": lengths + 10}[extra]
    with pytest.raises((ValueError, TypeError), match="lengths"):
        lengths_tensor("lengths", bad, rows, 5)


@SETTINGS
@given(value=st.one_of(st.integers(-5, 0), st.floats(allow_nan=True), st.text(max_size=3),
                       st.booleans(), st.none()))
def test_positive_int_names_every_bad_value(value):
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return
    with pytest.raises(ValueError, match=r"n must be a positive integer, got "):
        positive_int("n", value)


@SETTINGS
@given(value=st.floats(allow_nan=True, allow_infinity=True))
def test_real_number_keeps_finite_values_in_range_and_names_the_rest(value):
    if math.isfinite(value) and 0 <= value <= 2:
        assert real_number("alpha", value, 0, 2) == value
    else:
        with pytest.raises(ValueError, match="alpha must be a finite number between 0 and 2"):
            real_number("alpha", value, 0, 2)


@SETTINGS
@given(sentences=st.lists(st.lists(st.sampled_from(["a", "b", "c", "."]), min_size=1, max_size=6),
                          min_size=1, max_size=5),
       position=st.integers(0, 4))
def test_corpus_bleu_refuses_a_str_anywhere(sentences, position):
    assert utils.corpus_bleu(sentences, sentences).score == pytest.approx(100.0) or \
        any(len(s) < 4 for s in sentences)
    position %= len(sentences)
    broken = list(sentences)
    broken[position] = " ".join(broken[position])
    with pytest.raises(TypeError, match=rf"predictions\[{position}\]"):
        utils.corpus_bleu(broken, sentences)
