"""The Colab path, simulated here: a fresh Python without ``utils``, ipywidgets 7.7
(the version Colab ships), and a chapter's own setup cell installing ``utils``
with pip from a git URL.

The setup cell installs from the repository URL in ``_config.yml``; this test
swaps that URL for this clone (``git+file://...@<commit>``), so it checks the
committed tree that CI sees. A first cell registers a stand-in ``google.colab``
module, so the setup cell takes its Colab branch. The notebook runs in a
temporary folder, away from the repository, so ``utils`` can only come from pip.

Run with ``make colab`` (part of ``make test``); it needs a minute or two,
mostly to install PyTorch into the fresh environment.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
from nbval_approx import compare_text, parse_tolerance  # noqa: E402
CHAPTER = ROOT / "chapters" / "03_language_models.ipynb"   # uses widgets, runs in seconds
COLAB_IPYWIDGETS = "7.7.1"


def pinned(package: str) -> str:
    """The exact requirement for ``package`` from requirements.txt (torch: never unpinned)."""
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if re.match(rf"{re.escape(package)}==", line.strip()):
            return line.strip()
    raise AssertionError(f"{package} is not pinned in requirements.txt")


def run(*command, cwd=None):
    result = subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(map(str, command))} failed:\n{result.stderr[-3000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def colab_python(tmp_path_factory) -> Path:
    """A fresh virtual environment with what Colab has before the setup cell runs."""
    venv = tmp_path_factory.mktemp("colab") / "venv"
    run(sys.executable, "-m", "venv", venv)
    python = venv / "bin" / "python"
    run(python, "-m", "pip", "install", "--quiet", "--upgrade", "pip")  # Colab's pip is recent
    run(python, "-m", "pip", "install", "--quiet", pinned("torch"),
        f"ipywidgets=={COLAB_IPYWIDGETS}", "ipykernel", "nbclient", "nbformat")
    run(python, "-c", "import importlib.util, sys; "
                      "sys.exit(importlib.util.find_spec('utils') is not None)", cwd=venv.parent)
    return python


def colab_copy(notebook: Path, url: str) -> nbformat.NotebookNode:
    """The notebook with a stand-in google.colab module and its setup cell pointed at ``url``."""
    nb = nbformat.read(notebook, as_version=4)
    config = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    book_url = f"git+{config['url']}@{config['branch']}"
    setup = next(cell for cell in nb.cells if cell.cell_type == "code")
    assert f'"{book_url}"' in setup.source, "the setup cell must install from _config.yml's URL"
    setup.source = setup.source.replace(book_url, url)
    fake = nbformat.v4.new_code_cell(
        "import sys, types\nsys.modules['google.colab'] = types.ModuleType('google.colab')")
    where = nbformat.v4.new_code_cell(
        "import ipywidgets, utils\nprint(utils.__file__)\nprint(ipywidgets.__version__)")
    nb.cells = [fake] + nb.cells + [where]
    return nb


def stdout_of(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("name") == "stdout")


def test_a_chapter_runs_with_utils_installed_by_its_setup_cell(colab_python, tmp_path):
    commit = run("git", "-C", ROOT, "rev-parse", "HEAD").strip()
    url = f"git+file://{ROOT}@{commit}"
    nb = colab_copy(CHAPTER, url)
    work = tmp_path / "content"                      # Colab's working folder, not the repo
    work.mkdir()
    nbformat.write(nb, work / "chapter.ipynb")
    script = textwrap.dedent("""
        import nbformat, sys
        from nbclient import NotebookClient
        nb = nbformat.read("chapter.ipynb", as_version=4)
        NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": "."}}).execute()
        nbformat.write(nb, "executed.ipynb")
    """)
    run(colab_python, "-c", script, cwd=work)
    executed = nbformat.read(work / "executed.ipynb", as_version=4)

    errors = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors, f"the notebook failed on the Colab path: {errors[0]['ename']}: {errors[0]['evalue']}"
    location, version = stdout_of(executed.cells[-1]).split()
    assert "site-packages" in location and str(ROOT) not in location, \
        f"utils was imported from {location}, not from the pip-installed package"
    assert version == COLAB_IPYWIDGETS

    # What the chapter prints must be what the committed notebook shows, compared as
    # nbval compares it (numbers within a cell's NBVAL_APPROX tolerance, if it has one).
    saved = nbformat.read(CHAPTER, as_version=4)
    ran = executed.cells[1:-1]
    for index, (old, new) in enumerate(zip(saved.cells, ran)):
        if old.cell_type == "code" and "NBVAL_IGNORE_OUTPUT" not in old.source:
            tolerance = parse_tolerance(old.source)
            if tolerance is None:
                assert stdout_of(new) == stdout_of(old), f"cell {index} prints something else on Colab"
            else:
                same, outside = compare_text(stdout_of(old), stdout_of(new), tolerance)
                assert same, f"cell {index} prints something else on Colab: {outside}"
        widget = [o for o in new.get("outputs", []) if "application/vnd.jupyter.widget-view+json"
                  in o.get("data", {})]
        if any("application/vnd.jupyter.widget-view+json" in o.get("data", {})
               for o in old.get("outputs", [])):
            assert widget, f"cell {index} shows no widget on Colab"


def test_the_playground_builds_with_colab_ipywidgets(colab_python, tmp_path):
    commit = run("git", "-C", ROOT, "rev-parse", "HEAD").strip()
    run(colab_python, "-m", "pip", "install", "--quiet", f"rnn-book-utils @ git+file://{ROOT}@{commit}")
    script = textwrap.dedent("""
        import json, torch, utils
        from torch import nn
        # a model that cannot work: it reads 4 token kinds, the text has 28
        view = utils.playground({"GRU": lambda V, h: utils.RNNModel(nn.GRU(4, h), 4)},
                                defaults=dict(hidden_size=8, epochs=1))
        view.train()                      # a message, no error
        print(json.dumps({"status": view.status.value, "no_model": view.model is None}))
    """)
    out = json.loads(run(colab_python, "-c", script, cwd=tmp_path).strip().splitlines()[-1])
    assert out["no_model"] and "cannot read token index" in out["status"]
