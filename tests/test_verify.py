"""utils.below: the bound a difference meets, printed the same on every machine."""

import math

import numpy as np
import pytest
import torch

import utils


@pytest.mark.parametrize("value, bound, text", [
    (2.384185791015625e-07, 1e-6, "< 1e-6"),
    (4.76837158203125e-07, 1e-6, "< 1e-6"),     # another machine, same text
    (0.0, 1e-12, "< 1e-12"),
    (3e-9, 5e-8, "< 5e-8"),
    (torch.tensor(1e-7), 1e-6, "< 1e-6"),
    (np.float64(1e-17), 1e-15, "< 1e-15"),
    (np.array([1e-9]), 1e-8, "< 1e-8"),
])
def test_below_prints_the_bound_not_the_value(value, bound, text):
    assert utils.below(value, bound) == text


@pytest.mark.parametrize("value", [1e-6, 2e-6, math.inf, math.nan, torch.tensor(float("nan"))])
def test_a_value_at_or_over_the_bound_fails_and_names_it(value):
    with pytest.raises(AssertionError, match=r"is not below 1e-6"):
        utils.below(value, 1e-6)


@pytest.mark.parametrize("bound", [0, -1e-6, math.inf, math.nan, "1e-6", True, None])
def test_a_bad_bound_is_refused(bound):
    with pytest.raises(ValueError, match="bound must be a positive finite number"):
        utils.below(0.0, bound)


@pytest.mark.parametrize("value", ["0.1", None, torch.zeros(2), [1e-9]])
def test_a_value_that_is_not_one_number_is_refused(value):
    with pytest.raises(TypeError, match="value must be a number"):
        utils.below(value, 1e-6)
