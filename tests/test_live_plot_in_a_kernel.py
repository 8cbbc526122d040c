"""The live training plot in a real Jupyter kernel.

What it promises (utils/progress.py): while training, the plot redraws in place;
the saved notebook holds exactly one image, the final one; and nbval in strict
mode passes on the executed notebook, although nbval does not understand display
updates. These tests execute a small notebook with nbclient (as `make execute`
does) and then run nbval on it.
"""

from __future__ import annotations

import base64
import subprocess
import sys

import nbformat
import pytest
from nbclient import NotebookClient

CELLS = [
    """import torch
from torch import nn
from torch.nn import functional as F
import utils
utils.set_seed(0)
corpus, vocab = utils.load_corpus("time_machine", max_tokens=6000)
train, valid = corpus[:5000], corpus[5000:]""",
    """class Tiny(nn.Module):
    def __init__(self, V, H=16):
        super().__init__()
        self.V, self.rnn, self.out = V, nn.RNN(V, H), nn.Linear(H, V)
    def forward(self, X, state):
        Y, state = self.rnn(F.one_hot(X.T, self.V).float(), state)
        return self.out(Y.reshape(-1, Y.shape[-1])), state
model = Tiny(len(vocab))""",
    """history = utils.train_language_model(model, train, valid, batch_size=4, num_steps=10,
                                     valid_batch_size=4, valid_num_steps=10, lr=1.0, epochs=4)""",
    """plot = utils.LivePlot("step", "value", ["a"], min_interval=0)
for step in range(1, 6):
    plot.add(step, [step ** 2])
    plot.show(f"step {step}")
plot.show("done", final=True)
print(len(plot.xs), "points")""",
]


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    path = tmp_path_factory.mktemp("live") / "live.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in CELLS]
    nb.cells[2].metadata["tags"] = ["nbval-ignore-output"]  # prints tokens/s
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(nb, timeout=300, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    nbformat.write(nb, path)
    return path, nb


def images(cell) -> list[bytes]:
    return [base64.b64decode(o["data"]["image/png"]) for o in cell.outputs
            if o.get("data", {}).get("image/png")]


def test_training_leaves_exactly_one_final_figure(executed):
    _, nb = executed
    cell = nb.cells[2]
    figures = images(cell)
    assert len(figures) == 1, f"expected one image output, got {len(figures)}"
    assert figures[0].startswith(b"\x89PNG")
    text = "".join(o.get("text", "") for o in cell.outputs if o["output_type"] == "stream")
    assert "after 4 epochs" in text and "validation perplexity" in text


def test_updates_replace_the_image_instead_of_adding_new_ones(executed):
    _, nb = executed
    cell = nb.cells[3]
    assert len(images(cell)) == 1
    # The stored image is the final one: its text form says what it plots.
    display = [o for o in cell.outputs if o["output_type"] == "display_data"][0]
    assert display["data"]["text/plain"] == "<plot: value by step>"


def test_nbval_strict_passes_on_the_executed_notebook(executed):
    path, _ = executed
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             "--nbval", "--nbval-current-env", str(path)],
                            capture_output=True, text=True, cwd=path.parent)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
