"""Chapter 15's three translators, trained from several seeds and scored on the test set.

    python scripts/attention_seeds.py --json benchmarks/attention-seeds.json            # seeds 0 1 2
    python scripts/attention_seeds.py --json benchmarks/attention-seeds.json --seeds 3  # add a seed

Run it through the Makefile's environment (2 threads, AVX2 code paths), e.g.
``ATEN_CPU_CAPABILITY=avx2 MKL_CBWR=AVX2 ONEDNN_MAX_CPU_ISA=AVX2 OMP_NUM_THREADS=2
.venv/bin/python scripts/attention_seeds.py ...``. Each seed trains three
models with chapter 13's configuration (``utils.CHAPTER13`` with that seed):
chapter 13's encoder-decoder, the same with the attention decoder of chapter
15's second part (``utils.attention.AttentionDecoder``), and that decoder over
the bidirectional encoder of chapter 15's third part. The encoder is the
chapter's own code, read from its cell, so the study trains what the chapter
teaches. Models come from ``utils.trained_seq2seq``, so a model the chapters
already trained on this machine is loaded from the cache (about 6.5 minutes of
training per seed otherwise, on two cores).

For each model it records the validation loss after every epoch, the training
time and the test scores of ``utils.evaluation.all_scores`` (greedy
translations; BLEU with one reference, with all references, 13a BLEU on text,
chrF); for each seed, the paired bootstrap (1,000 resamples, seed 0) of the
bidirectional model against each of the other two. With --json the seeds are
merged into that file (seeds already there and not run again are kept).
Chapter 15 shows the table of the file between its markers
``<!-- benchmark-table: attention_seeds -->`` and ``<!-- end benchmark-table -->``
(tests/test_attention_seeds.py checks that it is what the file holds):

    python scripts/attention_seeds.py --json benchmarks/attention-seeds.json --update-chapter chapters/15_attention_two_directions.ipynb --no-runs

The scores are deterministic on a given machine; on another machine the trained
weights, and with them the scores, differ a little (book/reproducibility.md).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402

import utils  # noqa: E402
from utils import evaluation  # noqa: E402
from utils.attention import AttentionDecoder  # noqa: E402
from benchmark_report import update_chapter  # noqa: E402

CHAPTER = ROOT / "chapters" / "15_attention_two_directions.ipynb"
ENCODER_CELL = "b1d0e2a5"        # the cell of CHAPTER that defines BidirectionalEncoder
MODELS = ("chapter 13", "attention", "both directions")
MARKER = "attention_seeds"


def chapter_encoder(path: Path = CHAPTER, cell_id: str = ENCODER_CELL):
    """The class ``BidirectionalEncoder`` as the chapter's cell defines it."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    cell = next((c for c in nb["cells"] if c.get("id") == cell_id), None)
    if cell is None:
        raise ValueError(f"{path} has no cell with id {cell_id!r}: the cell that defines "
                         f"BidirectionalEncoder; update ENCODER_CELL in {Path(__file__).name}.")
    source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
    # the namespace of the notebook's kernel: the class's module is __main__ there too,
    # so the cache key (utils.translator.encoder_fingerprint) is the chapter's
    namespace = {"__name__": "__main__", "torch": torch, "nn": torch.nn, "utils": utils,
                 "packed_rnn": utils.seq2seq.packed_rnn}
    exec(compile(source, f"{path.name}:{cell_id}", "exec"), namespace)
    if "BidirectionalEncoder" not in namespace:
        raise ValueError(f"cell {cell_id} of {path} does not define BidirectionalEncoder.")
    return namespace["BidirectionalEncoder"]


def run_seed(seed: int, encoder) -> dict:
    config = dataclasses.replace(utils.CHAPTER13, seed=seed)
    choices = {"chapter 13": {}, "attention": dict(decoder=AttentionDecoder),
               "both directions": dict(decoder=AttentionDecoder, encoder=encoder)}
    data = utils.translation_data(config)
    refs = evaluation.references(data, "test")
    models, predictions = {}, {}
    for name, classes in choices.items():
        trained = utils.trained_seq2seq(config, plot=False, verbose=False, **classes)
        history = trained.history
        predictions[name] = utils.translate_pairs(trained.model, data, "test")
        scores = evaluation.all_scores(predictions[name], data, "test", refs)
        models[name] = {"from_cache": trained.from_cache,
                        "train_seconds": history.train_seconds,
                        "train_loss": history.train_loss[-1],
                        "valid_loss": list(history.valid_loss),
                        "bleu_one_reference": scores.one_reference,
                        "bleu_all_references": scores.all_references,
                        "bleu_13a": scores.bleu_13a, "chrf": scores.chrf}
        print(f"seed {seed}, {name:>15s}: {'cache' if trained.from_cache else 'trained'}, "
              f"validation loss {history.valid_loss[-1]:.3f}, BLEU all references "
              f"{scores.all_references:.1f}", flush=True)
    gains = {}
    for other in ("chapter 13", "attention"):
        b = evaluation.paired_bootstrap(refs.once(predictions["both directions"]),
                                        refs.once(predictions[other]), refs.tokens,
                                        samples=1000, seed=0)
        gains[other] = {"difference": b.difference, "low": b.low, "high": b.high,
                        "share_reversed": b.share_reversed}
    return {"config": dataclasses.asdict(config), "models": models,
            "both_directions_minus": gains, "date": datetime.date.today().isoformat(),
            "machine": utils.runtime.cpu_facts(), "torch": torch.__version__,
            "python": platform.python_version()}


def _seeds(record: dict) -> list[str]:
    seeds = sorted(record.get("seeds", {}), key=int)
    if len(seeds) < 3:
        raise ValueError(f"the record holds {len(seeds)} seed(s) ({', '.join(seeds) or 'none'}); "
                         "the table needs at least 3: run python scripts/attention_seeds.py "
                         "--json FILE --seeds 0 1 2.")
    return seeds


def seeds_table(record: dict) -> str:
    """Chapter 15's tables, one row per seed: losses and times, BLEU with the bootstrap, the rest."""
    seeds = _seeds(record)
    runs = record["seeds"]

    def each(seed: str, key, fmt: str) -> list[str]:
        return [format(key(runs[seed]["models"][name]), fmt) for name in MODELS]

    def mean(key) -> list[float]:
        return [statistics.mean(key(runs[s]["models"][name]) for s in seeds) for name in MODELS]

    models = " | ".join(MODELS)
    lines = [f"Validation loss of each model after epochs 1 / 2 / 3, and the seconds of "
             f"training ({' / '.join(MODELS)}):", "",
             f"| seed | {models} | training s |", "|---|---|---|---|---:|"]
    for seed in seeds:
        losses = each(seed, lambda m: " / ".join(f"{v:.3f}" for v in m["valid_loss"]), "")
        seconds = " / ".join(each(seed, lambda m: m["train_seconds"], ".0f"))
        lines.append(f"| {seed} | {' | '.join(losses)} | {seconds} |")
    lines.append("| mean, epoch 3 | " + " | ".join(
        f"{v:.3f}" for v in mean(lambda m: m["valid_loss"][-1])) + " | |")

    def interval(gain: dict) -> str:
        return f"{gain['difference']:+.1f} [{gain['low']:+.1f}, {gain['high']:+.1f}]"

    lines += ["", "Test BLEU with all references, and the gain of both directions over each of "
                  "the other two, with the middle 95% of 1,000 paired bootstrap resamples of the "
                  "test sentences:", "",
              f"| seed | {models} | both directions minus chapter 13 | both directions minus "
              f"attention |", "|---|---:|---:|---:|---|---|"]
    for seed in seeds:
        gains = runs[seed]["both_directions_minus"]
        lines.append(f"| {seed} | {' | '.join(each(seed, lambda m: m['bleu_all_references'], '.1f'))}"
                     f" | {interval(gains['chapter 13'])} | {interval(gains['attention'])} |")
    differences = [statistics.mean(runs[s]["both_directions_minus"][other]["difference"]
                                   for s in seeds) for other in ("chapter 13", "attention")]
    lines.append("| mean | " + " | ".join(f"{v:.1f}" for v in mean(
        lambda m: m["bleu_all_references"])) + f" | {differences[0]:+.1f} | {differences[1]:+.1f} |")

    lines += ["", f"The other scores of section 13.9 ({' / '.join(MODELS)}):", "",
              "| seed | BLEU, one reference | 13a BLEU on text | chrF |", "|---|---|---|---|"]
    keys = ("bleu_one_reference", "bleu_13a", "chrf")
    for seed in seeds:
        lines.append(f"| {seed} | " + " | ".join(
            " / ".join(each(seed, lambda m, k=k: m[k], ".1f")) for k in keys) + " |")
    lines.append("| mean | " + " | ".join(
        " / ".join(f"{v:.1f}" for v in mean(lambda m, k=k: m[k])) for k in keys) + " |")
    first = runs[seeds[0]]
    lines += ["", f"Training seconds as measured at the time (models that the chapters had "
                  f"trained came from the cache, with the seconds of their training). Measured "
                  f"with `python scripts/attention_seeds.py` on {first['machine']['cpu']} "
                  f"({first['machine']['logical_cpus']} logical CPUs, 2 threads), PyTorch "
                  f"{first['torch']}, {first['date']}."]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2],
                        help="the seeds to run (default 0 1 2)")
    parser.add_argument("--json", type=Path, help="merge the seeds into this file")
    parser.add_argument("--update-chapter", type=Path, metavar="NOTEBOOK",
                        help="write the table of the --json file into this chapter")
    parser.add_argument("--no-runs", action="store_true", help="train nothing (with --update-chapter)")
    args = parser.parse_args(argv)
    if args.no_runs and not args.update_chapter:
        parser.error("--no-runs only makes sense with --update-chapter")
    if args.update_chapter and (not args.json or (args.no_runs and not args.json.exists())):
        parser.error("--update-chapter needs --json with the file of the seeds")
    if any(s < 0 for s in args.seeds):
        parser.error(f"seeds are non-negative integers, got {args.seeds}")
    record = {"seeds": {}}
    if args.json and args.json.exists():
        record = json.loads(args.json.read_text(encoding="utf-8"))
    if not args.no_runs:
        torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
        encoder = chapter_encoder()
        for seed in args.seeds:
            record["seeds"][str(seed)] = run_seed(seed, encoder)
            if args.json:
                record["about"] = ("Written by scripts/attention_seeds.py: chapter 15's three "
                                   "translators per seed, scored on the test set.")
                record["seeds"] = dict(sorted(record["seeds"].items(), key=lambda kv: int(kv[0])))
                args.json.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    if args.update_chapter:
        update_chapter(args.update_chapter, MARKER, seeds_table(record))
    return 0


if __name__ == "__main__":
    sys.exit(main())
