"""The modules that collect a chapter's first half for its second half hold exactly
the chapter's code: utils.gru_scratch (chapter 7) and utils.attention (chapter 15).

Each module's own test file (tests/test_gru_scratch.py, tests/test_attention.py)
checks that the two compute the same numbers, bit for bit; here: the same names,
the same statements, and a second half that imports only what the module has.
(utils.numpy_rnn, which serves two chapters, has its own tests in
tests/test_numpy_rnn.py.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chapter_cells import definitions_differ, imports_from, run_code_cells
from utils import attention, gru_scratch

CHAPTERS = Path(__file__).resolve().parent.parent / "chapters"
MODULES = {  # module: (first half, the parts after it)
    gru_scratch: (CHAPTERS / "07_gru.ipynb", CHAPTERS / "07_gru_training.ipynb",
                  CHAPTERS / "16_performance.ipynb"),
    attention: (CHAPTERS / "15_attention.ipynb", CHAPTERS / "15_attention_training.ipynb",
                CHAPTERS / "15_attention_two_directions.ipynb"),
}
IDS = [module.__name__ for module in MODULES]


@pytest.mark.parametrize("module", MODULES, ids=IDS)
def test_every_name_of_the_module_is_defined_by_the_first_half(module):
    chapter = run_code_cells(MODULES[module][0])
    missing = [name for name in module.__all__ if name not in chapter]
    assert not missing, f"{module.__name__} has names that the chapter does not define: {missing}"


@pytest.mark.parametrize("module", MODULES, ids=IDS)
def test_the_later_parts_import_only_what_the_module_has(module):
    for part in MODULES[module][1:]:
        imports = imports_from(part, module.__name__)
        assert len(imports) == 1, f"{part.name} imports from {module.__name__} in one statement"
        assert set(imports[0]) <= set(module.__all__), (part.name, imports[0])


@pytest.mark.parametrize("module", MODULES, ids=IDS)
def test_the_module_has_the_chapters_code(module):
    """Not only the same numbers: the same statements, so the module cannot drift."""
    differ = definitions_differ(module, module.__all__, MODULES[module][0])
    assert not differ, f"{module.__name__}: not the chapter's code: {differ}"
