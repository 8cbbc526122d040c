"""The settings behind chapter 13's configuration: what fits in 150 s of training?

    python scripts/seq2seq_choices.py --json benchmarks/seq2seq-choices.json          # every run
    python scripts/seq2seq_choices.py --json benchmarks/seq2seq-choices.json A E      # some runs

Run it through the Makefile's environment (2 threads, AVX2 code paths), e.g.
``ATEN_CPU_CAPABILITY=avx2 MKL_CBWR=AVX2 ONEDNN_MAX_CPU_ISA=AVX2 OMP_NUM_THREADS=2
.venv/bin/python scripts/seq2seq_choices.py ...``, on a machine that runs nothing
else: the seconds are wall-clock seconds of training.

Each run trains utils' encoder-decoder with ``utils.train_seq2seq`` and, after
every epoch, translates the 1,000 *validation* pairs greedily and scores them
(the test set is not used to choose settings): BLEU on the book's tokens with
one reference per pair, as chapter 13 first scores, and with all the references
of each distinct sentence (``utils.evaluation``). It records, per epoch, the
seconds of training so far, the CPU seconds of the process, the load average,
the validation loss and both BLEUs. With --json the runs are merged into that
file (runs already there and not run again are kept); chapter 13 prints its
tables from benchmarks/seq2seq-choices.json, which ``--update-chapter`` writes
between its markers ``<!-- benchmark-table: seq2seq_choices -->`` and
``<!-- benchmark-table: seq2seq_packing -->`` (tests/test_seq2seq_choices.py
checks that they are what the file holds):

    python scripts/seq2seq_choices.py --json benchmarks/seq2seq-choices.json --update-chapter chapters/13_seq2seq.ipynb --no-runs

BLEU is deterministic on a given machine; times are not.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402

import utils  # noqa: E402
from utils.evaluation import multi_reference_bleu, references  # noqa: E402
from utils.seq2seq import Seq2SeqEncoder  # noqa: E402
from utils.translator import build_seq2seq, translation_data  # noqa: E402
from benchmark_report import update_chapter  # noqa: E402

H = utils.CHAPTER13
A = dataclasses.replace(H, min_freq=2, lr_decay=False, by_length=False)
# name: (description, configuration, encoder): the encoder is utils.Seq2SeqEncoder
# ("default"), which stops at each sentence's end, or one that ignores the lengths and
# reads the padding ("padding")
RUNS = {
    "A": ("1 layer, embedding 128, hidden 256, batch 128, Adam at 0.005, min_freq 2", A, "default"),
    "E": ("A with min_freq 5", dataclasses.replace(A, min_freq=5), "default"),
    "F": ("E with the learning rate falling linearly to 0",
          dataclasses.replace(A, min_freq=5, lr_decay=True), "default"),
    "H": ("F with minibatches grouped by target length (chapter 13's configuration)", H, "default"),
    "G": ("H with hidden 192", dataclasses.replace(H, num_hiddens=192), "default"),
    "D": ("H with batch 256 and Adam at 0.01", dataclasses.replace(H, batch_size=256, lr=0.01),
          "default"),
    "S": ("H with the seed's model: 2 layers, embedding 256, dropout 0.2",
          dataclasses.replace(H, embed_size=256, num_layers=2, dropout=0.2), "default"),
    "H1": ("H, seed 1", dataclasses.replace(H, seed=1), "default"),
    "H2": ("H, seed 2", dataclasses.replace(H, seed=2), "default"),
    "P0": ("H with an encoder that reads the padding, seed 0", H, "padding"),
    "P1": ("P0, seed 1", dataclasses.replace(H, seed=1), "padding"),
    "P2": ("P0, seed 2", dataclasses.replace(H, seed=2), "padding"),
}


def run(name: str, description: str, config, encoder: str) -> dict:
    data = translation_data(config)
    refs = references(data, "valid")
    print(f"{name}: {description}\n   {config}\n   {len(data.train_pairs):,} training pairs, "
          f"vocabularies {len(data.src_vocab):,} / {len(data.tgt_vocab):,}", flush=True)
    utils.set_seed(config.seed)
    model = build_seq2seq(config, data)
    if encoder == "padding":   # the encoder of the book's first edition: it ignores the lengths
        model.encoder.forward = lambda src, src_valid_len=None: Seq2SeqEncoder.forward(
            model.encoder, src)
    cpu_start = time.process_time()
    epochs = []

    def report(history):
        predictions = utils.translate_pairs(model, data, "valid")
        one = utils.corpus_bleu(predictions, [t for _, t in data.valid_pairs]).score
        multi = multi_reference_bleu(refs.once(predictions), refs.tokens).score
        epochs.append({"epoch": round(history.epochs[-1]), "seconds": history.train_seconds,
                       "cpu_seconds": time.process_time() - cpu_start,
                       "load": os.getloadavg()[0], "valid_loss": history.valid_loss[-1],
                       "valid_bleu": one, "valid_bleu_all_references": multi})
        print(f"   epoch {epochs[-1]['epoch']}: {history.train_seconds:5.0f} s, "
              f"load {os.getloadavg()[0]:.1f}; valid loss {history.valid_loss[-1]:.3f}, "
              f"valid BLEU {one:.1f} (all references {multi:.1f})", flush=True)

    utils.train_seq2seq(model, data.train, data.valid, bos=data.tgt_vocab["<bos>"],
                        epochs=config.epochs, batch_size=config.batch_size, lr=config.lr,
                        clip=config.clip, lr_decay=config.lr_decay, by_length=config.by_length,
                        generator=torch.Generator().manual_seed(config.seed), plot=False,
                        verbose=False, on_epoch=report)
    return {"description": description, "config": dataclasses.asdict(config),
            "encoder": encoder, "train_pairs": len(data.train_pairs),
            "src_vocab": len(data.src_vocab), "tgt_vocab": len(data.tgt_vocab),
            "epochs": epochs}


CHOICES = ("A", "E", "F", "H", "G", "D", "S")
SEEDS = (("stops at each end (H)", ("H", "H1", "H2")), ("reads the padding (P)", ("P0", "P1", "P2")))


def _last(run: dict) -> dict:
    return run["epochs"][-1]


def _machine_line(runs: list[dict]) -> str:
    first = runs[0]
    return (f"Measured with `python scripts/seq2seq_choices.py` on {first['machine']['cpu']} "
            f"({first['machine']['logical_cpus']} logical CPUs, 2 threads), PyTorch "
            f"{first['torch']}, {first['date']}.")


def choices_table(record: dict) -> str:
    """Chapter 13's table of candidate settings, from the record of the runs."""
    runs = record["runs"]
    missing = [name for name in CHOICES if name not in runs]
    if missing:
        raise ValueError(f"the record lacks the runs {missing}; run them first.")
    lines = ["| run | settings | French vocabulary | s per epoch | validation BLEU after "
             "epochs 1 / 2 / 3 | all references, epoch 3 | validation loss, epoch 3 |",
             "|---|---|---:|---:|---|---:|---:|"]
    for name in CHOICES:
        run = runs[name]
        seconds = _last(run)["seconds"] / _last(run)["epoch"]
        bleus = " / ".join(f"{e['valid_bleu']:.1f}" for e in run["epochs"])
        lines.append(f"| {name} | {run['description']} | {run['tgt_vocab']:,} | {seconds:.0f} | "
                     f"{bleus} | {_last(run)['valid_bleu_all_references']:.1f} | "
                     f"{_last(run)['valid_loss']:.3f} |")
    return "\n".join(lines) + "\n\n" + _machine_line([runs[n] for n in CHOICES])


def packing_table(record: dict) -> str:
    """Validation BLEU of H, its encoder stopping at each end or reading the padding, three seeds."""
    runs = record["runs"]
    missing = [name for _, names in SEEDS for name in names if name not in runs]
    if missing:
        raise ValueError(f"the record lacks the runs {missing}; run them first.")
    lines = ["| encoder | s per epoch, seeds 0 / 1 / 2 | validation BLEU, seeds 0 / 1 / 2 | mean | "
             "all references, seeds 0 / 1 / 2 | mean |", "|---|---|---|---:|---|---:|"]
    for label, names in SEEDS:
        one = [_last(runs[n])["valid_bleu"] for n in names]
        every = [_last(runs[n])["valid_bleu_all_references"] for n in names]
        seconds = " / ".join(f"{_last(runs[n])['seconds'] / _last(runs[n])['epoch']:.0f}"
                             for n in names)
        lines.append(f"| {label} | {seconds} | {' / '.join(f'{v:.1f}' for v in one)} | "
                     f"{sum(one) / len(one):.1f} | {' / '.join(f'{v:.1f}' for v in every)} | "
                     f"{sum(every) / len(every):.1f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"runs to make (default all: {', '.join(RUNS)})")
    parser.add_argument("--json", type=Path, help="merge the runs into this file")
    parser.add_argument("--update-chapter", type=Path, metavar="NOTEBOOK",
                        help="write the tables of the --json file into this chapter")
    parser.add_argument("--no-runs", action="store_true", help="train nothing (with --update-chapter)")
    args = parser.parse_args(argv)
    if args.update_chapter:
        if not args.json or not args.json.exists():
            parser.error("--update-chapter needs --json with the file of the runs")
        if args.no_runs:
            record = json.loads(args.json.read_text(encoding="utf-8"))
            update_chapter(args.update_chapter, "seq2seq_choices", choices_table(record))
            update_chapter(args.update_chapter, "seq2seq_packing", packing_table(record))
            return 0
    unknown = [n for n in args.names if n not in RUNS]
    if unknown:
        parser.error(f"unknown runs {unknown}; choose from {', '.join(RUNS)}")
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    record = {"runs": {}}
    if args.json and args.json.exists():
        record = json.loads(args.json.read_text(encoding="utf-8"))
    for name in args.names or RUNS:
        record["runs"][name] = run(name, *RUNS[name])
        record["runs"][name].update(date=datetime.date.today().isoformat(),
                                    machine=utils.runtime.cpu_facts(), torch=torch.__version__,
                                    python=platform.python_version())
        if args.json:
            record["about"] = ("Written by scripts/seq2seq_choices.py; validation scores of "
                               "chapter 13's candidate settings.")
            record["runs"] = {n: record["runs"][n] for n in RUNS if n in record["runs"]}
            args.json.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    if args.update_chapter:
        update_chapter(args.update_chapter, "seq2seq_choices", choices_table(record))
        update_chapter(args.update_chapter, "seq2seq_packing", packing_table(record))
    return 0


if __name__ == "__main__":
    sys.exit(main())
