"""scripts/attention_seeds.py: chapter 15 shows the table of the committed seeds."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path

import pytest
import torch

import utils
from scripts_loader import load_script

ROOT = Path(__file__).resolve().parents[1]
RECORD = ROOT / "benchmarks" / "attention-seeds.json"
CHAPTER = ROOT / "chapters" / "15_attention_two_directions.ipynb"
S = load_script("attention_seeds")


def _record() -> dict:
    return json.loads(RECORD.read_text(encoding="utf-8"))


def _shown() -> str:
    nb = json.loads(CHAPTER.read_text(encoding="utf-8"))
    cells = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]
    begin = f"<!-- benchmark-table: {S.MARKER} -->"
    cell = next(c for c in cells if begin in c)
    start = cell.index(begin) + len(begin)
    return cell[start:cell.index("<!-- end benchmark-table -->", start)].strip()


def test_chapter_15_shows_the_committed_seeds():
    assert _shown() == S.seeds_table(_record()).strip(), (
        "chapter 15's table differs from benchmarks/attention-seeds.json; run python "
        "scripts/attention_seeds.py --json benchmarks/attention-seeds.json --update-chapter "
        "chapters/15_attention_two_directions.ipynb --no-runs")


def test_every_seed_ran_the_chapters_configuration_and_three_models():
    record = _record()
    assert len(record["seeds"]) >= 3
    for seed, run in record["seeds"].items():
        assert run["config"] == dataclasses.asdict(
            dataclasses.replace(utils.CHAPTER13, seed=int(seed)))
        assert tuple(run["models"]) == S.MODELS
        for model in run["models"].values():
            assert len(model["valid_loss"]) == utils.CHAPTER13.epochs
        assert set(run["both_directions_minus"]) == {"chapter 13", "attention"}


def test_the_table_needs_three_seeds():
    record = _record()
    few = copy.deepcopy(record)
    few["seeds"] = dict(list(record["seeds"].items())[:2])
    with pytest.raises(ValueError, match="at least 3"):
        S.seeds_table(few)
    with pytest.raises(ValueError, match="none"):
        S.seeds_table({"seeds": {}})


def test_the_encoder_is_the_chapters_own():
    encoder_class = S.chapter_encoder()
    utils.set_seed(0)
    encoder = encoder_class(vocab_size=10, embed_size=4, num_hiddens=6, num_layers=2)
    src = torch.tensor([[3, 4, 5, 1, 0], [6, 7, 1, 0, 0]])
    outputs, state = encoder(src, torch.tensor([4, 3]))
    assert tuple(outputs.shape) == (5, 2, 6) and tuple(state.shape) == (2, 2, 6)
    with pytest.raises(ValueError, match="num_hiddens must be even"):
        encoder_class(vocab_size=10, embed_size=4, num_hiddens=5, num_layers=1)


def test_a_missing_cell_is_named(tmp_path):
    nb = tmp_path / "chapter.ipynb"
    nb.write_text(json.dumps({"cells": [{"id": "x", "cell_type": "code", "source": "a = 1"}]}))
    with pytest.raises(ValueError, match="no cell with id 'b1d0e2a5'"):
        S.chapter_encoder(nb)
    with pytest.raises(ValueError, match="does not define BidirectionalEncoder"):
        S.chapter_encoder(nb, "x")


def test_bad_arguments_get_a_sentence(capsys):
    for argv in (["--no-runs"], ["--update-chapter", str(CHAPTER)],
                 ["--seeds", "-1"]):
        with pytest.raises(SystemExit):
            S.main(argv)
        assert "error" in capsys.readouterr().err
