"""utils.gru_scratch computes exactly what the first half of chapter 7 writes.

The second half of chapter 7 (07_gru_training) imports its GRU from
utils.gru_scratch instead of repeating the first half's cells. These tests run
the first half's code cells and hold the two against each other: bit for bit the
same parameters, states, gates, logits and gradients, in both forms of the GRU
(tests/test_chapter_modules.py checks the names and the statements).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from chapter_cells import run_code_cells
from utils import gru_scratch

CHAPTERS = Path(__file__).resolve().parent.parent / "chapters"
FIRST_HALF = CHAPTERS / "07_gru.ipynb"


@pytest.fixture(scope="module")
def chapter():
    """The namespace of chapter 7's first half after running all its code cells."""
    return run_code_cells(FIRST_HALF)


@pytest.mark.parametrize("reset_after", [False, True])
def test_the_models_are_bit_identical(chapter, reset_after):
    V, H, n, T = 28, 16, 3, 5
    results = []
    for module in (vars(gru_scratch), chapter):
        torch.manual_seed(4)
        model = module["GRUScratch"](V, H, sigma=0.3, reset_after=reset_after)
        X = torch.randint(0, V, (n, T))
        state = torch.randn(n, H)
        logits, last = model(X, state)
        loss = torch.nn.functional.cross_entropy(logits, torch.randint(0, V, (n * T,)))
        loss.backward()
        _, Z, R = module["gru_step"](torch.randn(n, V), state, model.p, reset_after)
        results.append([logits, last, Z, R] + [p.detach() for p in model.params]
                       + [p.grad for p in model.params])
    assert len(results[0]) == len(results[1])
    for ours, theirs in zip(*results):
        assert torch.equal(ours, theirs)


def test_params_from_nn_gru_is_the_same(chapter):
    torch.manual_seed(0)
    gru = nn.GRU(6, 5)
    ours, theirs = gru_scratch.params_from_nn_gru(gru), chapter["params_from_nn_gru"](gru)
    assert list(ours) == list(theirs)
    assert all(torch.equal(ours[k], theirs[k]) for k in theirs)
