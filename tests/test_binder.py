"""The Binder environment (binder/) agrees with the book's pins and takes PyTorch's CPU build.

repo2docker, which builds the image behind the Binder button, reads binder/ instead
of the top-level files. binder/requirements.txt must install what the `utils`
package needs (pyproject.toml), at the versions the book was run with
(requirements.txt), with torch from PyTorch's CPU index; binder/postBuild installs
`utils` itself. tests/colab/test_binder_simulation.py builds that environment.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BINDER = ROOT / "binder"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def requirement_lines(path: Path) -> list[str]:
    return [line.split("#")[0].strip() for line in path.read_text().splitlines()
            if line.split("#")[0].strip()]


def pins(path: Path) -> dict[str, str]:
    """{name: version} of the `name==version` lines of a requirements file."""
    return dict(re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)", line).groups()
                for line in requirement_lines(path) if "==" in line)


def test_binder_installs_what_utils_needs_at_the_book_s_versions():
    binder, book = pins(BINDER / "requirements.txt"), pins(ROOT / "requirements.txt")
    needed = {re.match(r"[A-Za-z0-9_.-]+", dep).group().lower() for dep in
              tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]}
    assert set(binder) == needed, f"binder/requirements.txt: {sorted(binder)}, utils needs {sorted(needed)}"
    for name, version in binder.items():
        expected = book[name] + ("+cpu" if name == "torch" else "")
        assert version == expected, f"binder pins {name}=={version}, requirements.txt {book[name]}"


def test_binder_takes_torch_from_pytorch_s_cpu_index():
    lines = requirement_lines(BINDER / "requirements.txt")
    assert f"--extra-index-url {CPU_INDEX}" in lines
    assert pins(BINDER / "requirements.txt")["torch"].endswith("+cpu")   # only that index has it


def test_post_build_installs_utils_from_the_checkout_without_resolving_again():
    script = BINDER / "postBuild"
    assert os.access(script, os.X_OK), "binder/postBuild must be executable (git update-index --chmod=+x)"
    text = script.read_text()
    assert text.startswith("#!/bin/bash") and "set -euo pipefail" in text
    assert re.search(r"pip install .*--no-deps -e \.$", text, flags=re.MULTILINE)


def test_binder_python_is_one_the_book_supports():
    version = (BINDER / "runtime.txt").read_text().strip()
    match = re.fullmatch(r"python-3\.(\d+)", version)
    required = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert match and int(match.group(1)) >= int(re.search(r"3\.(\d+)", required).group(1)), \
        f"binder/runtime.txt says {version!r}; pyproject.toml requires {required}"
