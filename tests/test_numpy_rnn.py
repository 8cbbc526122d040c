"""utils.numpy_rnn computes exactly what chapter 9's first half writes, cell by cell.

The second half of chapter 9 (09_numpy_training) imports the framework from
utils.numpy_rnn instead of repeating the first half's cells. These tests run the
first half's code cells and hold the two against each other: the same names, and
bit for bit the same outputs, gradients, optimizer steps and checks.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import matplotlib
import nbformat
import numpy as np
import pytest

from utils import numpy_rnn

matplotlib.use("Agg")
CHAPTER = Path(__file__).resolve().parent.parent / "chapters" / "09_numpy_framework.ipynb"
SECOND_HALF = CHAPTER.with_name("09_numpy_training.ipynb")


@pytest.fixture(scope="module")
def chapter():
    """The namespace of chapter 9's first half after running all its code cells."""
    namespace = {"__name__": "chapter09"}
    cells = [c for c in nbformat.read(CHAPTER, as_version=4).cells if c.cell_type == "code"]
    with contextlib.redirect_stdout(io.StringIO()):
        for i, cell in enumerate(cells):
            exec(compile(cell.source, f"{CHAPTER.name}, code cell {i}", "exec"), namespace)
    return namespace


def test_every_name_of_the_module_is_defined_by_the_chapter(chapter):
    missing = [name for name in numpy_rnn.__all__ if name not in chapter]
    assert not missing, f"utils.numpy_rnn has names that chapter 9 does not define: {missing}"


def test_the_second_half_imports_only_what_the_module_has():
    imports = [c.source for c in nbformat.read(SECOND_HALF, as_version=4).cells
               if c.cell_type == "code" and "from utils.numpy_rnn import" in c.source]
    assert len(imports) == 1, "the second half imports the framework in one cell"
    names = imports[0].split("from utils.numpy_rnn import", 1)[1]
    names = names.split(")")[0].replace("(", "").replace("\n", " ")
    for name in (n.strip() for n in names.split(",")):
        assert name in numpy_rnn.__all__, f"{name} is not in utils.numpy_rnn.__all__"


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
