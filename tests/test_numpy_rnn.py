"""utils.numpy_rnn computes exactly what the first halves of chapters 6 and 9 write.

The second halves of chapter 6 (06_truncation_clipping) and chapter 9
(09_numpy_training) import their NumPy code from utils.numpy_rnn instead of
repeating the first halves' cells. These tests run the first halves' code cells
and hold the two against each other: the same names, and bit for bit the same
outputs, gradients, optimizer steps and checks.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import matplotlib
import nbformat
import numpy as np
import pytest

from chapter_cells import run_code_cells
from utils import numpy_rnn

matplotlib.use("Agg")
CHAPTERS = Path(__file__).resolve().parent.parent / "chapters"
FIRST_HALVES = {6: CHAPTERS / "06_bptt.ipynb", 9: CHAPTERS / "09_numpy_framework.ipynb"}
SECOND_HALVES = {6: CHAPTERS / "06_truncation_clipping.ipynb",
                 9: CHAPTERS / "09_numpy_training.ipynb"}
# The names of utils.numpy_rnn that each first half defines.
CHAPTER6 = ["text_batch", "init_params", "rnn_forward", "cross_entropy", "rnn_backward",
            "last_step_gradient_norms", "numerical_gradient", "relative_error"]
CHAPTER9 = [name for name in numpy_rnn.__all__ if name not in CHAPTER6[:6]]


@pytest.fixture(scope="module")
def chapter():
    """The namespace of chapter 9's first half after running all its code cells."""
    return run_code_cells(FIRST_HALVES[9])


@pytest.fixture(scope="module")
def chapter6():
    """The namespace of chapter 6's first half after running all its code cells."""
    return run_code_cells(FIRST_HALVES[6])


def test_every_name_of_the_module_is_defined_by_a_chapter(chapter, chapter6):
    assert sorted(set(CHAPTER6) | set(CHAPTER9)) == sorted(numpy_rnn.__all__)
    for number, namespace, names in [(9, chapter, CHAPTER9), (6, chapter6, CHAPTER6)]:
        missing = [name for name in names if name not in namespace]
        assert not missing, f"utils.numpy_rnn has names that chapter {number} does not define: {missing}"


@pytest.mark.parametrize("number", sorted(SECOND_HALVES))
def test_the_second_half_imports_only_what_the_module_has(number):
    imports = [c.source for c in nbformat.read(SECOND_HALVES[number], as_version=4).cells
               if c.cell_type == "code" and "from utils.numpy_rnn import" in c.source]
    assert len(imports) == 1, "the second half imports from utils.numpy_rnn in one cell"
    names = imports[0].split("from utils.numpy_rnn import", 1)[1]
    names = names.split(")")[0].replace("(", "").replace("\n", " ")
    for name in (n.strip() for n in names.split(",")):
        assert name in numpy_rnn.__all__, f"{name} is not in utils.numpy_rnn.__all__"


def test_chapter6_functions_are_bit_identical(chapter6):
    ours, theirs = vars(numpy_rnn), chapter6
    train, V = chapter6["train"], chapter6["V"]
    for name in ("text_batch",):
        a, b = ours[name](train, V, 3, 7), theirs[name](train, V, 3, 7)
        assert all(np.array_equal(x, y) for x, y in zip(a, b))
    for rho in (0.5, 2.5):
        p_ours, p_theirs = ours["init_params"](V, 16, rho, seed=2), theirs["init_params"](V, 16, rho, seed=2)
        assert all(np.array_equal(p_ours[k], p_theirs[k]) for k in p_theirs)
        X, Y = theirs["text_batch"](train, V, 3, 7)
        H0 = np.random.default_rng(1).normal(size=(3, 16))
        results = []
        for module in (ours, theirs):
            O, Hs = module["rnn_forward"](p_theirs, X, H0)
            loss, dO = module["cross_entropy"](O, Y)
            grads, dHs = module["rnn_backward"](p_theirs, X, Hs, dO)
            results.append([O, Hs, loss, dO, dHs] + [grads[k] for k in sorted(grads)])
        assert all(np.array_equal(a, b) for a, b in zip(*results))
        norms = [module["last_step_gradient_norms"](train, V, rho, 20) for module in (ours, theirs)]
        assert np.array_equal(norms[0][0], norms[1][0]) and norms[0][1] == norms[1][1]
    f = lambda: float((w ** 2).sum())
    w = np.random.default_rng(0).normal(size=(3, 4))
    assert np.array_equal(numpy_rnn.numerical_gradient(f, w), theirs["numerical_gradient"](f, w))


def _model(module, layer, seed):
    rng = np.random.default_rng(seed)
    return module["Sequential"](module[layer](1, 8, rng), module["LastStep"](),
                                module["Dense"](8, 1, rng))


@pytest.mark.parametrize("layer", ["GRU", "LSTM"])
def test_training_steps_are_bit_identical(chapter, layer):
    ours = vars(numpy_rnn)
    models = {"chapter": _model(chapter, layer, 3), "utils": _model(ours, layer, 3)}
    optimizers = {"chapter": chapter["Adam"](models["chapter"].params(), lr=0.01),
                  "utils": numpy_rnn.Adam(models["utils"].params(), lr=0.01)}
    losses = {"chapter": chapter["mse_loss"], "utils": numpy_rnn.mse_loss}
    rng = np.random.default_rng(0)
    for _ in range(3):
        X, Y = rng.normal(size=(6, 5, 1)), rng.normal(size=(5, 1))
        results = {}
        for name, model in models.items():
            optimizers[name].zero_grad()
            loss, dY = losses[name](model.forward(X), Y)
            dX = model.backward(dY)
            results[name] = [loss, dX] + [p.grad.copy() for p in model.params()]
            optimizers[name].step()
        for a, b in zip(results["chapter"], results["utils"]):
            assert np.array_equal(a, b)
    for a, b in zip(models["chapter"].params(), models["utils"].params()):
        assert np.array_equal(a.value, b.value)


def test_the_check_prints_and_computes_the_same(chapter):
    outputs = {}
    for name, module in [("chapter", chapter), ("utils", vars(numpy_rnn))]:
        rng = np.random.default_rng(0)
        unit = module["Gate"](3, 4, module["Sigmoid"](), rng)
        steps = [(rng.normal(size=(2, 3)), rng.normal(size=(2, 4))) for _ in range(5)]
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            module["check"]("Gate", unit, steps)
        outputs[name] = buffer.getvalue(), module["gradient_check"](unit, steps)
    assert outputs["chapter"] == outputs["utils"]


def test_a_wrong_backward_fails_the_check_with_its_name():
    class Doubled(numpy_rnn.Tanh):
        def backward(self, dY):
            return 2 * super().backward(dY)

    rng = np.random.default_rng(0)
    with contextlib.redirect_stdout(io.StringIO()), \
            pytest.raises(AssertionError, match=r"Doubled: backward disagrees .* 1e-6"):
        numpy_rnn.check("Doubled", Doubled(), [(rng.normal(size=(2, 3)),)])
