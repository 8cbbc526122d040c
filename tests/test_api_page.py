"""book/api.md documents what utils has: every member it lists exists.

Sphinx's autodoc skips a listed member that the module lacks without a warning, so a
function moved elsewhere (as the benchmark's report moved to scripts/) would vanish
from the page silently.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

API = Path(__file__).resolve().parent.parent / "book" / "api.md"
BLOCK = re.compile(r"\.\. automodule:: (\S+)\n(?:\s+:[\w-]+:.*\n)*?\s+:members: (.+)")


def listed() -> list[tuple[str, str]]:
    return [(module, name.strip()) for module, members in BLOCK.findall(API.read_text())
            for name in members.split(",")]


def test_the_page_lists_members():
    assert len(listed()) > 20


@pytest.mark.parametrize("module, name", listed(), ids=lambda x: x)
def test_every_listed_member_exists(module, name):
    assert hasattr(importlib.import_module(module), name), (
        f"book/api.md lists {module}.{name}, which {module} does not have")
