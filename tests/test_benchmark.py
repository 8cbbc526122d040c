"""utils/benchmark.py and scripts/benchmark_report.py: the report files, the chapter's table,
the arguments, a quick run.

The models it times are checked against PyTorch in tests/test_scratch_models.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import nn

import utils
from scripts_loader import load_script
from utils import benchmark as B

R = load_script("benchmark_report")

MACHINE = {"cpu": "Test CPU", "logical_cores": 2, "torch": "2.x", "python": "3.x", "threads": 2,
           "environment": {"OMP_NUM_THREADS": "2", "MKL_CBWR": None}, "device": "cpu",
           "date": "2026-01-01 00:00 UTC", "load_average": [0.5, 0.4, 0.3]}


def fake_results():
    lm = {"key": "rnn", "name": "nn.RNN (embedding)", "chapter": 5, "optimizer": "Adam, lr 0.005",
          "parameters": 1, "time_budget": 60.0, "tokens_per_second": 12345.6,
          "train_seconds": 60.0, "epochs": 7.5, "valid_perplexity": 4.567, "target": 5.0,
          "target_from": "chapter 5", "seconds_to_target": 12.34, "epochs_to_target": 2.0,
          "stop_reason": "time budget",
          "history": {"epochs": [1, 2, 7.5], "seconds": [8.0, 12.34, 60.0],
                      "valid_perplexity": [6.0, 4.321, 4.567]}}
    slow = dict(lm, key="gru-fast", name="FastGRU (embedding)", target=4.3,
                target_from="nn.GRU's, chapter 7", seconds_to_target=None, epochs_to_target=None)
    return {"machine": MACHINE, "command": "python -m utils.benchmark --device cpu --budget 60",
            "settings": {"device": "cpu", "budget": 60.0, "quick": False, "seed": 0, "parts": []},
            "fused_gru": {"settings": dict(hidden=256, embed=32, batch_size=64, num_steps=35,
                                           rounds=5, num_batches=5, optimizer="Adam, lr 0.005"),
                          "tokens_per_second": {"GRU, scratch (chapter 7)": 1000.0,
                                                "FastGRU": 3000.0, "nn.GRU": 4000.0},
                          "ratio_to_nn_gru": {"GRU, scratch (chapter 7)": 0.25, "FastGRU": 0.75,
                                              "nn.GRU": 1.0},
                          "target": 0.6, "met": True},
            "language_models": [lm, slow],
            "seq2seq": {"device": "cpu", "epochs": 3.0, "train_seconds": 103.4,
                        "tokens_per_second": 5432.1, "test_bleu": 20.54,
                        "target": "BLEU >= 20 within 150 s", "met": True}}


def test_markdown_tables_show_every_part_and_the_machine():
    text = R.markdown_tables(fake_results())
    assert text.startswith("Measured on: CPU; Test CPU, 2 logical cores; PyTorch 2.x, 2 threads; "
                           "environment: OMP_NUM_THREADS=2; load average 0.50")
    assert "`python -m utils.benchmark --device cpu --budget 60`" in text
    assert "| FastGRU | 3,000 | 0.75 |" in text
    assert "Target, FastGRU at 0.6 x nn.GRU or more: met." in text
    assert "| nn.RNN (embedding) | 5 | Adam, lr 0.005 | 12,346 | 4.57 (4.32) | 5 | 12.3 (epoch 2) |" in text
    assert "| 4.3 (nn.GRU's, chapter 7) | not reached within 60 s |" in text
    assert "| GRU encoder-decoder (chapter 13) | 3 | 103.4 | 5,432 | 20.5 | " \
           "BLEU >= 20 within 150 s: met |" in text


def test_markdown_tables_leave_out_parts_not_run():
    results = fake_results()
    del results["fused_gru"], results["seq2seq"]
    text = R.markdown_tables(results)
    assert "nn.GRU`**" not in text and "Sequence to sequence" not in text
    assert "Language models" in text


def test_write_results_and_the_report(tmp_path):
    json_path = B.write_results(fake_results(), tmp_path / "out")
    assert json_path.name == "results-cpu.json"
    assert json.loads(json_path.read_text()) == fake_results()
    md_path = R.write_markdown(fake_results(), tmp_path / "out")
    assert md_path.name == "results-cpu.md"
    assert md_path.read_text() == "# Benchmark results (cpu)\n\n" + R.markdown_tables(fake_results())


def test_the_report_needs_the_results_first(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        R.main(["--out", str(tmp_path)])
    assert exit_.value.code == 2
    assert "does not exist; measure first: python -m utils.benchmark" in capsys.readouterr().err


def test_the_package_writes_no_file_of_the_repository():
    assert not hasattr(B, "update_chapter") and not hasattr(B, "markdown_tables")


def _notebook(path, text):
    cells = [{"cell_type": "markdown", "id": "a", "metadata": {}, "source": ["# Title\n"]},
             {"cell_type": "markdown", "id": "b", "metadata": {},
              "source": text.splitlines(keepends=True)},
             {"cell_type": "code", "id": "c", "metadata": {}, "execution_count": 1,
              "outputs": [], "source": ["print(1)"]}]
    nb = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n")
    return nb


def test_update_chapter_replaces_only_between_its_markers(tmp_path):
    path = tmp_path / "16.ipynb"
    before = _notebook(path, "Intro\n<!-- benchmark-table: cpu -->\nold\n<!-- end benchmark-table -->\n"
                             "Between\n<!-- benchmark-table: cuda -->\nfilled by make bench\n"
                             "<!-- end benchmark-table -->\nAfter")
    R.update_chapter(path, "cuda", "| a |\n|---|\n| 1 |\n")
    R.update_chapter(path, "cpu", "| b |")
    after = json.loads(path.read_text())
    assert "".join(after["cells"][1]["source"]) == (
        "Intro\n<!-- benchmark-table: cpu -->\n\n| b |\n\n<!-- end benchmark-table -->\nBetween\n"
        "<!-- benchmark-table: cuda -->\n\n| a |\n|---|\n| 1 |\n\n<!-- end benchmark-table -->\nAfter")
    assert after["cells"][0] == before["cells"][0] and after["cells"][2] == before["cells"][2]
    R.update_chapter(path, "cpu", "| b |")                    # idempotent
    assert json.loads(path.read_text()) == after


def test_update_chapter_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such notebook"):
        R.update_chapter(tmp_path / "missing.ipynb", "cpu", "x")
    path = tmp_path / "nb.ipynb"
    _notebook(path, "no markers here")
    with pytest.raises(ValueError, match="no markdown cell holds the marker <!-- benchmark-table: cpu"):
        R.update_chapter(path, "cpu", "x")
    _notebook(path, "<!-- benchmark-table: cpu -->\nno end")
    with pytest.raises(ValueError, match="has no <!-- end benchmark-table -->"):
        R.update_chapter(path, "cpu", "x")


@pytest.mark.parametrize("argv, message", [
    (["--only", "grux"], "--only grux: no such part; choose from fused, rnn-scratch"),
    (["--budget", "0"], "--budget must be a positive number of seconds, got 0; try --budget 60."),
    (["--budget", "-5"], "got -5"),
    (["--device", "gpu"], "invalid choice: 'gpu'"),
])
def test_bad_arguments_give_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        B.parse_args(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_cuda_without_a_gpu_is_refused(monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(SystemExit):
        B.parse_args(["--device", "cuda"])
    err = capsys.readouterr().err
    assert "--device cuda: PyTorch sees no CUDA GPU here" in err and "--device cpu" in err


def test_parts_and_defaults():
    args = B.parse_args([])
    assert args.parts == list(B.PARTS) and args.budget == 60
    quick = B.parse_args(["--quick"])
    assert "seq2seq" not in quick.parts and "fused" in quick.parts and quick.budget == 2
    assert B.parse_args(["--only", "lm", "gru"]).parts == [r.key for r in B.RECIPES]
    assert B.command_line(B.parse_args(["--only", "gru", "--budget", "5", "--out", "x"])) == \
        "python -m utils.benchmark --device cpu --budget 5 --only gru"


def test_recipes_are_the_chapters():
    by_key = {r.key: r for r in B.RECIPES}
    assert {k: r.target for k, r in by_key.items()} == {
        "rnn-scratch": 5.5, "rnn": 5.0, "gru-scratch": 6.0, "gru-fast": 4.3, "gru": 4.3,
        "lstm-scratch": 6.0, "lstm": 4.4, "deep-gru-scratch": 4.2, "deep-gru": 4.2}
    assert by_key["rnn-scratch"].optimizer == "sgd" and by_key["rnn-scratch"].lr == 2.0
    deep = by_key["deep-gru"].build(28)
    assert isinstance(deep.rnn, nn.GRU) and deep.rnn.num_layers == 2 and deep.rnn.dropout == 0.2
    assert by_key["deep-gru-scratch"].build(28).num_layers == 2
    assert isinstance(by_key["gru-fast"].build(28), utils.FastGRU)


def test_tokens_per_second_trains_the_model(small_split):
    train, _ = small_split
    torch.manual_seed(0)
    model = utils.FastGRU(28, 16, embed_size=4)
    before = model.W_h.detach().clone()
    rate = B.tokens_per_second(model, train, batch_size=4, num_steps=5, num_batches=2, warmup=1)
    assert rate > 0 and not torch.equal(before, model.W_h)


@pytest.mark.parametrize("target, reached", [(1000.0, True), (1.0, False)])
def test_train_to_target_reads_the_history(small_split, target, reached):
    train, valid = small_split
    recipe = B.Recipe("tiny", "tiny GRU", 7, lambda V: utils.scratch_models.BenchmarkGRU(V, 8), "adam", 0.01,
                      target, "a test")
    r = B.train_to_target(recipe, train, valid, 28, time_budget=0.2)
    assert r["tokens_per_second"] > 0 and r["train_seconds"] >= 0.2
    assert r["valid_perplexity"] == r["history"]["valid_perplexity"][-1]
    if reached:      # the first evaluation is at or below 1000
        assert r["seconds_to_target"] == r["history"]["seconds"][0]
        assert r["epochs_to_target"] == r["history"]["epochs"][0]
    else:
        assert r["seconds_to_target"] is None and r["epochs_to_target"] is None


def test_a_quick_run_through_main(tmp_path, capsys):
    out = tmp_path / "bench"
    assert B.main(["--quick", "--only", "rnn", "--budget", "0.3", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("Machine: CPU; ") and "nn.RNN (embedding): " in printed
    results = json.loads((out / "results-cpu.json").read_text())
    assert [r["key"] for r in results["language_models"]] == ["rnn"]
    assert results["language_models"][0]["tokens_per_second"] > 0
    assert "fused_gru" not in results and "seq2seq" not in results
    assert not (out / "results-cpu.md").exists()       # the report is the script's
    assert R.main(["--out", str(out)]) == 0
    assert "| nn.RNN (embedding) | 5 |" in (out / "results-cpu.md").read_text()


def test_tokens_per_second_takes_a_from_scratch_model_and_checks_its_counts(small_split,
                                                                           make_scratch_rnn):
    train, _ = small_split
    model = make_scratch_rnn()                      # params + begin_state, no nn.Module
    assert B.tokens_per_second(model, train, batch_size=4, num_steps=5, num_batches=1,
                               warmup=0) > 0
    with pytest.raises(ValueError, match="num_batches must be a positive integer, got 0"):
        B.tokens_per_second(model, train, num_batches=0)
    with pytest.raises(ValueError, match="warmup must be a non-negative integer, got -1"):
        B.tokens_per_second(model, train, warmup=-1)


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_chapter_16_shows_the_committed_results(device):
    # The tables in chapter 16 are the ones the benchmark wrote; after a new run,
    # `python scripts/benchmark_report.py --device DEVICE --update-chapter
    # chapters/16_performance_settings.ipynb` puts them there.
    root = Path(__file__).resolve().parents[1]
    results = json.loads((root / "benchmarks" / f"results-{device}.json").read_text())
    table = R.markdown_tables(results).strip()
    assert (root / "benchmarks" / f"results-{device}.md").read_text() == \
        f"# Benchmark results ({device})\n\n{R.markdown_tables(results)}"
    nb = json.loads((root / "chapters" / "16_performance_settings.ipynb").read_text())
    cells = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]
    begin = f"<!-- benchmark-table: {device} -->"
    cell = next(c for c in cells if begin in c)
    shown = cell[cell.index(begin) + len(begin):cell.index(R.TABLE_END, cell.index(begin))]
    assert shown.strip() == table, (
        f"chapter 16's {device} table differs from benchmarks/results-{device}.json; run "
        f"python scripts/benchmark_report.py --device {device} --update-chapter "
        f"chapters/16_performance_settings.ipynb")
    if device == "cpu":
        assert results["fused_gru"]["met"], "the benchmark's FastGRU target is not met"
