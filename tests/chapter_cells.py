"""Run a chapter's code cells, and compare a module's definitions with a chapter's.

Used by the tests of the modules that collect what a chapter's first half writes
for its second half (utils.numpy_rnn, utils.gru_scratch, utils.attention).
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

matplotlib.use("Agg")


def run_code_cells(path: Path) -> dict:
    """The namespace after running every code cell of the notebook at ``path``, quietly."""
    namespace = {"__name__": f"chapter_{path.stem}"}
    cells = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    with contextlib.redirect_stdout(io.StringIO()):
        for i, cell in enumerate(cells):
            exec(compile(cell.source, f"{path.name}, code cell {i}", "exec"), namespace)
    return namespace


def imports_from(path: Path, module: str) -> list[list[str]]:
    """The names of each ``from MODULE import ...`` statement of the notebook's code."""
    return [[alias.name for alias in node.names]
            for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"
            for node in ast.walk(ast.parse(c.source))
            if isinstance(node, ast.ImportFrom) and node.module == module]


def definitions_differ(module, names, path: Path) -> list[str]:
    """The names among ``names`` whose definition in ``module`` is not the one in the
    notebook at ``path`` (the same statements, docstrings aside), or that the
    notebook defines other than once."""
    tree = ast.parse("\n".join(c.source for c in nbformat.read(path, as_version=4).cells
                               if c.cell_type == "code"))
    differ = []
    for name in names:
        ours = ast.parse(inspect.getsource(getattr(module, name))).body[0]
        found = [node for node in ast.walk(tree)
                 if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == name]
        if len(found) != 1 or _strip(ast.dump(ours)) != _strip(ast.dump(found[0])):
            differ.append(name)
    return differ


def _strip(dump: str) -> str:
    """An AST dump without the docstrings' text (comments are not in the AST)."""
    return re.sub(r"Expr\(value=Constant\(value='[^']*'\)\)", "DOC", dump)
