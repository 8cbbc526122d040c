"""utils.below: the bound a difference meets, printed the same on every machine."""

import json
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


def _record(folder, offset, chapters):
    (folder / f"seed-{offset}.json").write_text(json.dumps(
        {"kind": "seed", "seed_offset": offset, "chapters": chapters}), encoding="utf-8")


def test_seed_outputs_reads_what_other_seeds_printed(tmp_path):
    cells = {"a": {"equal": False, "new": "ppl 5.31\n"}, "b": {"equal": True}}
    _record(tmp_path, 2, {"04_rnn_scratch": {"cells": {"a": {"equal": False, "new": "ppl 5.20\n"}}}})
    _record(tmp_path, 1, {"04_rnn_scratch": {"cells": cells}, "05_rnn_concise": {"cells": {}}})
    assert utils.seed_outputs("04_rnn_scratch", tmp_path) == {1: ["ppl 5.31\n"], 2: ["ppl 5.20\n"]}
    assert utils.seed_outputs("07_gru", tmp_path) == {}


def test_seed_outputs_is_empty_without_the_repository(tmp_path):
    assert utils.seed_outputs("04_rnn_scratch", tmp_path / "missing") == {}


def test_seed_outputs_names_a_bad_chapter():
    with pytest.raises(ValueError, match="04_rnn_scratch.*'chapter 4'"):
        utils.seed_outputs("chapter 4")


def test_seed_values_reads_one_number_per_pattern_and_skips_incomplete_records(tmp_path):
    _record(tmp_path, 1, {"07_gru": {"cells": {
        "a": {"equal": False, "new": "scratch 4.20\n"},
        "b": {"equal": False, "new": "torch 4.18\nscratch 9.99\n"}}}})
    _record(tmp_path, 2, {"07_gru": {"cells": {"a": {"equal": False, "new": "scratch 4.21\n"}}}})
    got = utils.seed_values("07_gru", r"scratch ([\d.]+)", r"torch ([\d.]+)", spread=tmp_path)
    assert got == {1: (4.20, 4.18)}          # offset 2 printed no "torch" line
    assert utils.seed_values("07_gru", r"scratch ([\d.]+)", spread=tmp_path) == {1: (4.20,), 2: (4.21,)}


@pytest.mark.parametrize("patterns, message", [
    ((), "at least one pattern"),
    ((r"scratch [\d.]+",), "exactly one group.*has 0"),
    ((r"(scratch) ([\d.]+)",), "has 2"),
    ((r"scratch (",), "must be a regular expression"),
    ((r"(scratch) [\d.]+",), "captured 'scratch', not a number"),
])
def test_seed_values_says_what_is_wrong_with_a_pattern(tmp_path, patterns, message):
    _record(tmp_path, 1, {"07_gru": {"cells": {"a": {"equal": False, "new": "scratch 4.20\n"}}}})
    with pytest.raises(ValueError, match=message):
        utils.seed_values("07_gru", *patterns, spread=tmp_path)


def test_the_repository_holds_seed_records_for_every_chapter():
    records = utils.seed_outputs("04_rnn_scratch")
    assert sorted(records) == [1, 2, 3]
