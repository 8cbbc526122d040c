"""scripts/measure_spread.py: how a variant's outputs are compared with the saved ones."""

from __future__ import annotations

import nbformat
import pytest

from scripts_loader import load_script


@pytest.fixture(scope="module")
def spread():
    return load_script("measure_spread")


def cell(*texts, error=False):
    c = nbformat.v4.new_code_cell("x")
    c.outputs = [nbformat.v4.new_output("stream", name="stdout", text=t) for t in texts]
    if error:
        c.outputs.append(nbformat.v4.new_output("error", ename="AssertionError",
                                                evalue="target missed", traceback=[]))
    return c


def test_equal_outputs(spread):
    entry = spread.compare_cell(cell("ppl 5.28\n"), cell("ppl 5.28\n"), [])
    assert entry == {"equal": True, "error": False, "same_text": True, "pairs": []}


def test_streams_are_merged_as_nbval_merges_them(spread):
    entry = spread.compare_cell(cell("ppl 5.28\n", "met\n"), cell("ppl 5.28\nmet\n"), [])
    assert entry["equal"]


def test_numbers_that_moved_are_recorded_in_pairs(spread):
    entry = spread.compare_cell(cell("ppl 5.28 (best 5.19)\n"), cell("ppl 5.17 (best 5.19)\n"), [])
    assert not entry["equal"] and entry["same_text"] and entry["pairs"] == [["5.28", "5.17"]]


def test_other_words_and_errors_are_recorded(spread):
    entry = spread.compare_cell(cell("target met\n"), cell("target missed\n", error=True), [])
    assert not entry["same_text"] and entry["error"] and "missed" in entry["new"]


def test_sanitizers_apply(spread):
    patterns = spread.sanitize_patterns()
    entry = spread.compare_cell(cell("at 0x7f00deadbeef\n"), cell("at 0x7f00cafebabe\n"), patterns)
    assert entry["equal"]


@pytest.mark.parametrize("pairs, rel, abs_", [
    ([["5.28", "5.17"]], 0.10 / 5.28, 0.10),          # 0.11 beyond one unit of 0.01
    ([["194", "201"]], 7 / 194, 7.0),                  # integers: no unit
    ([["5.28", "5.29"]], 0.0, 0.0),                    # within rounding
])
def test_needed_tolerance(spread, pairs, rel, abs_):
    assert spread.needed(pairs) == (pytest.approx(rel), pytest.approx(abs_))


def test_seed_patch_shifts_every_seed(spread):
    """The cell injected into a seed variant: set_seed(1) there is set_seed(6) here,
    for the chapters' calls and for utils.translator's."""
    import torch

    import utils
    import utils.runtime
    import utils.translator
    namespace = {}
    exec(spread.SEED_PATCH.format(offset=5), namespace)
    original = namespace["_set_seed"]
    try:
        utils.set_seed(1)
        shifted = torch.rand(3)
        original(6)
        assert torch.equal(shifted, torch.rand(3))
        assert utils.translator.set_seed is utils.runtime.set_seed is utils.set_seed
    finally:
        utils.set_seed = utils.runtime.set_seed = utils.translator.set_seed = original
