"""Tests for utils/checks.py: the argument checks behind every error message."""

import math
import re

import numpy as np
import pytest
import torch

from utils.checks import positive_float, positive_int, token_tensor


# positive_int

@pytest.mark.parametrize("value", [1, 7, 10 ** 12, np.int64(3), torch.tensor(5).item()])
def test_positive_int_returns_a_python_int(value):
    result = positive_int("batch_size", value)
    assert result == value and type(result) is int


@pytest.mark.parametrize("value", [0, -1, 1.0, 2.5, True, False, "3", None, float("nan")])
def test_positive_int_names_the_argument_and_the_value(value):
    with pytest.raises(ValueError, match=rf"^batch_size must be a positive integer, got "
                                         rf"{re.escape(repr(value))}\.$"):
        positive_int("batch_size", value)


# positive_float

@pytest.mark.parametrize("value", [1, 0.5, 1e-12, 1e300, np.float32(0.25)])
def test_positive_float_returns_a_python_float(value):
    result = positive_float("lr", value)
    assert result == pytest.approx(float(value)) and type(result) is float


@pytest.mark.parametrize("value", [0, 0.0, -1, -0.5, math.nan, math.inf, -math.inf, True, "1",
                                   None])
def test_positive_float_names_the_argument_and_the_value(value):
    with pytest.raises(ValueError, match=rf"^lr must be a positive finite number, got "
                                         rf"{re.escape(repr(value))}\.$"):
        positive_float("lr", value)


# token_tensor

@pytest.mark.parametrize("corpus", [
    [3, 1, 4, 1, 5],
    (3, 1, 4, 1, 5),
    np.array([3, 1, 4, 1, 5], dtype=np.int32),
    torch.tensor([3, 1, 4, 1, 5], dtype=torch.int16),
    torch.tensor([3, 1, 4, 1, 5], dtype=torch.uint8),
])
def test_token_tensor_gives_a_1d_int64_tensor(corpus):
    tensor = token_tensor("corpus", corpus)
    assert tensor.dtype == torch.int64
    assert tensor.tolist() == [3, 1, 4, 1, 5]


def test_token_tensor_keeps_an_int64_tensor_as_it_is():
    corpus = torch.arange(5)
    assert token_tensor("corpus", corpus) is corpus


@pytest.mark.parametrize("corpus", ["the time machine", b"bytes"])
def test_token_tensor_rejects_text_with_a_hint(corpus):
    with pytest.raises(TypeError, match=rf"corpus must hold token indices.*got a "
                                        rf"{type(corpus).__name__}.*vocab\[\.\.\.\]"):
        token_tensor("corpus", corpus)


@pytest.mark.parametrize("corpus, dtype", [
    (torch.tensor([1.0, 2.0]), "torch.float32"),
    ([1.0, 2.0], "torch.float32"),
    (np.array([1.0, 2.0]), "torch.float64"),
    (torch.tensor([True, False]), "torch.bool"),
    (torch.tensor([1 + 0j]), "torch.complex64"),
])
def test_token_tensor_rejects_non_integer_dtypes(corpus, dtype):
    with pytest.raises(TypeError, match=rf"train must hold integer token indices, got dtype "
                                        rf"{dtype}"):
        token_tensor("train", corpus)


@pytest.mark.parametrize("corpus, shape", [
    (torch.zeros(2, 3, dtype=torch.long), r"\(2, 3\)"),
    (torch.tensor(5), r"\(\)"),
    ([[1, 2], [3, 4]], r"\(2, 2\)"),
])
def test_token_tensor_rejects_other_shapes(corpus, shape):
    with pytest.raises(ValueError, match=rf"valid must be 1-D, of shape \(num_tokens,\), got "
                                         rf"shape {shape}"):
        token_tensor("valid", corpus)


@pytest.mark.parametrize("corpus", [[1, 2, "3"], [1, [2, 3]], None, {"a": 1}, object()])
def test_token_tensor_rejects_what_cannot_be_converted(corpus):
    with pytest.raises(TypeError, match=rf"corpus must be a 1-D tensor or list of integer token "
                                        rf"indices; could not convert a {type(corpus).__name__}"):
        token_tensor("corpus", corpus)


@pytest.mark.parametrize("corpus", [[0, -1, 2], torch.tensor([5, -7])])
def test_token_tensor_rejects_negative_indices(corpus):
    smallest = min(list(corpus))
    with pytest.raises(ValueError, match=rf"corpus holds a negative index \({int(smallest)}\)"):
        token_tensor("corpus", corpus)


def test_token_tensor_accepts_an_empty_tensor_of_indices():
    assert token_tensor("corpus", torch.tensor([], dtype=torch.long)).shape == (0,)


def test_token_tensor_treats_an_empty_list_as_no_tokens():
    # [] holds no floats; calling it a float32 corpus sends the reader the wrong way.
    tensor = token_tensor("corpus", [])
    assert tensor.dtype == torch.int64 and tensor.shape == (0,)
