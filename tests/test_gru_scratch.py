"""utils.gru_scratch computes exactly what the first half of chapter 7 writes.

The second half of chapter 7 (07_gru_training) imports its GRU from
utils.gru_scratch instead of repeating the first half's cells. These tests run
the first half's code cells and hold the two against each other: the same names
and sources, and bit for bit the same parameters, states, gates, logits and
gradients, in both forms of the GRU.
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import io
import re
from pathlib import Path

import matplotlib
import nbformat
import pytest
import torch
from torch import nn

from utils import gru_scratch

matplotlib.use("Agg")
CHAPTERS = Path(__file__).resolve().parent.parent / "chapters"
FIRST_HALF = CHAPTERS / "07_gru.ipynb"
SECOND_HALF = CHAPTERS / "07_gru_training.ipynb"


@pytest.fixture(scope="module")
def chapter():
    """The namespace of chapter 7's first half after running all its code cells."""
    namespace = {"__name__": "chapter_07_gru"}
    cells = [c for c in nbformat.read(FIRST_HALF, as_version=4).cells if c.cell_type == "code"]
    with contextlib.redirect_stdout(io.StringIO()):
        for i, cell in enumerate(cells):
            exec(compile(cell.source, f"{FIRST_HALF.name}, code cell {i}", "exec"), namespace)
    return namespace


def test_every_name_of_the_module_is_defined_by_the_first_half(chapter):
    missing = [name for name in gru_scratch.__all__ if name not in chapter]
    assert not missing, f"utils.gru_scratch has names that chapter 7 does not define: {missing}"


def test_the_second_half_imports_only_what_the_module_has():
    imports = [c.source for c in nbformat.read(SECOND_HALF, as_version=4).cells
               if c.cell_type == "code" and "from utils.gru_scratch import" in c.source]
    assert len(imports) == 1, "the second half imports from utils.gru_scratch in one cell"
    names = imports[0].split("from utils.gru_scratch import", 1)[1].split("\n")[0]
    for name in (n.strip() for n in names.split(",")):
        assert name in gru_scratch.__all__, f"{name} is not in utils.gru_scratch.__all__"


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


def test_the_module_has_the_chapters_code(chapter):
    """Not only the same numbers: the same statements, so the module cannot drift."""
    for name in gru_scratch.__all__:
        ours = ast.dump(ast.parse(inspect.getsource(getattr(gru_scratch, name))).body[0])
        theirs = chapter[name]
        # the chapter's definitions live in notebook cells; compare their AST, docstrings aside
        cell_source = [c.source for c in nbformat.read(FIRST_HALF, as_version=4).cells
                       if c.cell_type == "code"
                       and (f"def {name}(" in c.source or f"class {name}:" in c.source)]
        assert cell_source, name
        tree = ast.parse("\n".join(cell_source))
        found = [node for node in ast.walk(tree)
                 if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == name]
        assert len(found) == 1 and theirs is not None
        assert _strip(ours) == _strip(ast.dump(found[0])), f"{name} differs from chapter 7's"


def _strip(dump):
    """An AST dump without the docstrings' text (comments are not in the AST)."""
    return re.sub(r"Expr\(value=Constant\(value='[^']*'\)\)", "DOC", dump)
