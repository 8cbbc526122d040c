"""The Binder path, simulated here: binder/requirements.txt into a fresh Python,
binder/postBuild run in a clone of the committed tree (as repo2docker runs it, with
REPO_DIR set), and a chapter executed from chapters/, where Binder opens it.

What this cannot check: mybinder.org itself and PyTorch's CPU index, neither of which
this machine reaches. The index line is left out here; pip then finds the same
torch CPU build (2.13.0+cpu) on the local package mirror. tests/test_binder.py checks
the index line and the pins.

Run with ``make colab`` (part of ``make test``); about a minute, mostly to install
PyTorch into the fresh environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
CHAPTER = "03_language_models.ipynb"           # uses widgets and utils, runs in seconds


def run(*command, cwd=None, env=None):
    result = subprocess.run([str(c) for c in command], cwd=cwd, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(map(str, command))} failed:\n{result.stderr[-3000:]}"
    return result.stdout


def test_a_chapter_runs_in_the_binder_environment(tmp_path):
    repo = tmp_path / "repo"                       # what repo2docker checks out: HEAD
    run("git", "clone", "--quiet", ROOT, repo)
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv)
    python = venv / "bin" / "python"
    requirements = [line for line in (repo / "binder" / "requirements.txt").read_text().splitlines()
                    if not line.startswith("--extra-index-url")]
    (tmp_path / "offline.txt").write_text("\n".join(requirements) + "\n")
    run(python, "-m", "pip", "install", "--quiet", "-r", tmp_path / "offline.txt")
    # repo2docker's image brings Jupyter; here only what runs a notebook.
    run(python, "-m", "pip", "install", "--quiet", "ipykernel", "nbclient", "nbformat")
    env = dict(os.environ, REPO_DIR=str(repo), PATH=f"{venv / 'bin'}:{os.environ['PATH']}")
    run(repo / "binder" / "postBuild", cwd=tmp_path, env=env)

    script = textwrap.dedent(f"""
        import nbformat
        from nbclient import NotebookClient
        nb = nbformat.read("{CHAPTER}", as_version=4)
        nb.cells.append(nbformat.v4.new_code_cell("import utils, torch; print(utils.__file__); "
                                                  "print(torch.__version__)"))
        NotebookClient(nb, timeout=600, kernel_name="python3",
                       resources={{"metadata": {{"path": "."}}}}).execute()
        nbformat.write(nb, "{tmp_path / 'executed.ipynb'}")
    """)
    run(python, "-c", script, cwd=repo / "chapters", env=env)
    executed = nbformat.read(tmp_path / "executed.ipynb", as_version=4)
    errors = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors, f"the chapter failed on the Binder path: {errors[0]['ename']}: {errors[0]['evalue']}"
    location, version = "".join(o.get("text", "") for o in executed.cells[-1].outputs).split()
    assert location.startswith(str(repo / "utils")), f"utils came from {location}, not the checkout"
    assert version.endswith("+cpu"), f"torch {version} is not the CPU build"
