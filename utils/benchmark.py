"""Benchmarks of the book's models on the machine they run on: ``python -m utils.benchmark``.

Three measurements, each a function below, and the machine they ran on:

- ``compare_gru_speed``: training throughput (tokens per second: forward, backward,
  clipping and an Adam step on minibatches of The Time Machine's characters) of
  chapter 7's scratch GRU, chapter 16's ``FastGRU`` and ``nn.GRU`` in
  ``utils.RNNModel``, at 256 hidden units, batch 64 and 35 steps. The three are
  measured in interleaved rounds (A B C A B C ...) and each gets the median of its
  rounds, so a change in the machine's speed during the run affects all three alike.
  Target: ``FastGRU`` at 0.6 times ``nn.GRU``'s tokens/s or more.
- ``train_to_target``: every character language model of the book trained with
  its chapter's recipe (optimizer, learning rate, batch 32, 35 steps, random
  sampling, clipping at 1, seeded) for the same time budget of B seconds (training
  time, without validation). From its history: tokens/s, the validation perplexity
  after B seconds, and the seconds of training until the first evaluation (after
  an epoch, or at the end of the budget) at or below the chapter's target.
- ``seq2seq_benchmark``: chapter 13's English-French model (``utils.CHAPTER13``)
  trained from scratch, never from the cache, with ``utils.translator``'s own
  training function; its training seconds, target tokens per second and test BLEU
  (sacrebleu, tokenize='none'), against the chapter's target: BLEU >= 20 within 150 s.

The results go to ``DIR/results-<device>.json`` (everything, machine included);
``scripts/benchmark_report.py`` (outside the package: it writes the repository's
files) turns them into ``DIR/results-<device>.md`` and chapter 16's table, and
``make bench`` runs both. This module only measures and prints, so it works
anywhere ``utils`` is importable (a Colab GPU runtime included). Timings depend on the machine and on what
else it runs: compare numbers from the same run only, on a quiet machine.

    python -m utils.benchmark                      # everything on the CPU (about 12 minutes on 2 cores)
    python -m utils.benchmark --quick              # a smoke run, seconds per model
    python -m utils.benchmark --device cuda        # on a GPU (Colab: a GPU runtime)
    python -m utils.benchmark --only fused gru     # some parts; see --help
"""

from __future__ import annotations

import argparse
import datetime
import functools
import itertools
import json
import os
import platform
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from .models import RNNModel
from .runtime import cpu_facts, set_seed
from .scratch_models import FastGRU, BenchmarkGRU, BenchmarkLSTM, BenchmarkRNN
from .sequences import random_batches, train_valid_split
from .speed import timed_training_steps
from .text import load_corpus
from .checks import non_negative_int, positive_int
from .training import model_parameters, train_language_model

HIDDEN, EMBED = 256, 32                  # the chapters' sizes
ENVIRONMENT = ("OMP_NUM_THREADS", "ATEN_CPU_CAPABILITY", "MKL_CBWR", "ONEDNN_MAX_CPU_ISA",
               "OMP_WAIT_POLICY")
SPEED_TARGET = 0.6                       # FastGRU's tokens/s over nn.GRU's


@dataclass(frozen=True)
class Recipe:
    """A language model of the book and how its chapter trains it (batch 32, 35 steps, random)."""
    key: str                             # its name for --only
    name: str
    chapter: int
    build: Callable[[int], nn.Module]    # vocab_size -> a fresh model
    optimizer: str                       # 'sgd' or 'adam'
    lr: float
    target: float                        # validation perplexity
    target_from: str                     # where the target is asserted
    decay: float | None = None           # learning rate x decay after every epoch


RECIPES = (
    Recipe("rnn-scratch", "RNN, scratch (one-hot)", 4, lambda V: BenchmarkRNN(V, HIDDEN),
           "sgd", 2.0, 5.5, "chapter 4"),
    Recipe("rnn", "nn.RNN (embedding)", 5, lambda V: RNNModel(nn.RNN(EMBED, HIDDEN), V, EMBED),
           "adam", 0.005, 5.0, "chapter 5"),
    Recipe("gru-scratch", "GRU, scratch (one-hot)", 7, lambda V: BenchmarkGRU(V, HIDDEN),
           "adam", 0.005, 6.0, "chapter 7"),
    Recipe("gru-fast", "FastGRU (embedding)", 16, lambda V: FastGRU(V, HIDDEN, EMBED),
           "adam", 0.005, 4.3, "nn.GRU's, chapter 7"),
    Recipe("gru", "nn.GRU (embedding)", 7, lambda V: RNNModel(nn.GRU(EMBED, HIDDEN), V, EMBED),
           "adam", 0.005, 4.3, "chapter 7"),
    Recipe("lstm-scratch", "LSTM, scratch (one-hot)", 8, lambda V: BenchmarkLSTM(V, HIDDEN),
           "adam", 0.005, 6.0, "chapter 8"),
    Recipe("lstm", "nn.LSTM (embedding)", 8, lambda V: RNNModel(nn.LSTM(EMBED, HIDDEN), V, EMBED),
           "adam", 0.005, 4.4, "chapter 8"),
    Recipe("deep-gru-scratch", "2-layer GRU, scratch (one-hot)", 10,
           lambda V: BenchmarkGRU(V, HIDDEN, num_layers=2, dropout=0.2),
           "adam", 0.005, 4.2, "2-layer nn.GRU's, chapter 10", decay=0.7),
    Recipe("deep-gru", "2-layer nn.GRU (embedding)", 10,
           lambda V: RNNModel(nn.GRU(EMBED, HIDDEN, num_layers=2, dropout=0.2), V, EMBED),
           "adam", 0.005, 4.2, "chapter 10", decay=0.7),
)
PARTS = ("fused", *(r.key for r in RECIPES), "seq2seq")
GROUPS = {"lm": tuple(r.key for r in RECIPES), "all": PARTS}


# --- the measurements -------------------------------------------------------------

def tokens_per_second(model, corpus: torch.Tensor, *, batch_size: int = 64,
                      num_steps: int = 35, num_batches: int = 10, warmup: int = 2,
                      optimizer: torch.optim.Optimizer | None = None, clip: float = 1.0,
                      seed: int = 0) -> float:
    """Training throughput of ``model``: tokens per second over ``num_batches`` batches.

    ``model`` is an ``nn.Module`` or a from-scratch model, as ``utils.train_language_model``
    takes them.
    The batches, (batch_size, num_steps) each, are drawn by random sampling from
    ``corpus`` with a generator seeded by ``seed`` (so every model gets the same
    ones) and moved to the model's device beforehand. Each batch is a whole
    training step: forward from a zero state, cross-entropy, backward, clipping
    at ``clip``, and an optimizer step (Adam at 0.005 unless ``optimizer`` is
    given). The first ``warmup`` batches are not timed (the first calls allocate
    memory and pick kernels); on a GPU the clock is read after synchronizing.
    """
    num_batches = positive_int("num_batches", num_batches)
    warmup = non_negative_int("warmup", warmup)
    params = model_parameters(model)
    device = params[0].device
    optimizer = optimizer or torch.optim.Adam(params, lr=0.005)
    generator = torch.Generator().manual_seed(seed)
    batches = []
    while len(batches) < warmup + num_batches:          # as many epochs as it takes
        epoch = random_batches(corpus, batch_size, num_steps, generator)
        batches += itertools.islice(epoch, warmup + num_batches - len(batches))
    batches = [(X.to(device), Y.to(device)) for X, Y in batches]
    if isinstance(model, nn.Module):
        model.train()
    steps, seconds = timed_training_steps(model, batches, optimizer, clip=clip, warmup=warmup,
                                          min_steps=num_batches)
    return steps * batch_size * num_steps / seconds


def compare_gru_speed(corpus: torch.Tensor, vocab_size: int, *, device="cpu", batch_size=64,
                      num_steps=35, rounds=5, num_batches=5, seed=0) -> dict:
    """Tokens/s of the scratch GRU, ``FastGRU`` and ``nn.GRU`` at 256 hidden units, side by side.

    The models: chapter 7's GRU (``scratch_models.BenchmarkGRU``) (one-hot input, six products per step),
    ``FastGRU`` with a 32-number embedding and ``utils.RNNModel(nn.GRU(32, 256))``,
    the last two the same function. Each round measures each model once with
    ``tokens_per_second`` (Adam, ``num_batches`` batches after one warm-up batch,
    the same batches for all); a model's result is the median of its ``rounds``.
    Returns the tokens/s, each model's ratio to ``nn.GRU`` and whether ``FastGRU``
    reaches ``SPEED_TARGET`` times ``nn.GRU``.
    """
    makers = {"GRU, scratch (chapter 7)": lambda: BenchmarkGRU(vocab_size, HIDDEN),
              "FastGRU": lambda: FastGRU(vocab_size, HIDDEN, EMBED),
              "nn.GRU": lambda: RNNModel(nn.GRU(EMBED, HIDDEN), vocab_size, EMBED)}
    models, optimizers, rates = {}, {}, {name: [] for name in makers}
    for name, make in makers.items():
        set_seed(seed)
        models[name] = make().to(device)
        optimizers[name] = torch.optim.Adam(models[name].parameters(), lr=0.005)
    for _ in range(rounds):
        for name, model in models.items():
            rates[name].append(tokens_per_second(
                model, corpus, batch_size=batch_size, num_steps=num_steps,
                num_batches=num_batches, warmup=1, optimizer=optimizers[name], seed=seed))
    median = {name: statistics.median(r) for name, r in rates.items()}
    ratio = {name: m / median["nn.GRU"] for name, m in median.items()}
    return {"settings": dict(hidden=HIDDEN, embed=EMBED, batch_size=batch_size,
                             num_steps=num_steps, rounds=rounds, num_batches=num_batches,
                             optimizer="Adam, lr 0.005", clip=1.0),
            "tokens_per_second": median, "rounds": rates, "ratio_to_nn_gru": ratio,
            "target": SPEED_TARGET, "met": ratio["FastGRU"] >= SPEED_TARGET}


def train_to_target(recipe: Recipe, train: torch.Tensor, valid: torch.Tensor, vocab_size: int,
                    *, time_budget: float = 60.0, device="cpu", seed: int = 0) -> dict:
    """Train ``recipe``'s model as its chapter does, for ``time_budget`` seconds of training.

    Seeded with ``seed``; batch 32, 35 steps, random sampling, clipping at 1, the
    chapter's optimizer and learning rate (and decay); ``utils.train_language_model``
    evaluates the validation perplexity after every epoch and once more when the
    budget runs out. Returns tokens/s, that last perplexity, and the training
    seconds (and epochs) at the first evaluation at or below the target, or None.
    """
    set_seed(seed)
    model = recipe.build(vocab_size).to(device)
    params = model_parameters(model)
    optimizer = (torch.optim.SGD(params, lr=recipe.lr) if recipe.optimizer == "sgd"
                 else torch.optim.Adam(params, lr=recipe.lr))
    scheduler = (torch.optim.lr_scheduler.ExponentialLR(optimizer, recipe.decay)
                 if recipe.decay else None)
    history = train_language_model(model, train, valid, batch_size=32, num_steps=35,
                                   optimizer=optimizer, scheduler=scheduler,
                                   time_budget=time_budget, sampling="random", clip=1.0,
                                   plot=False, verbose=False)
    reached = next(((s, e) for s, e, p in zip(history.seconds, history.epochs,
                                              history.valid_perplexity)
                    if p <= recipe.target), None)
    decay = f", x{recipe.decay} per epoch" if recipe.decay else ""
    return {"key": recipe.key, "name": recipe.name, "chapter": recipe.chapter,
            "optimizer": f"{'SGD' if recipe.optimizer == 'sgd' else 'Adam'}, lr {recipe.lr:g}{decay}",
            "parameters": sum(p.numel() for p in params),
            "time_budget": time_budget, "tokens_per_second": history.tokens_per_second,
            "train_seconds": history.train_seconds, "epochs": history.epochs[-1] if history.epochs else 0,
            "valid_perplexity": history.valid_perplexity[-1] if history.valid_perplexity else None,
            "target": recipe.target, "target_from": recipe.target_from,
            "seconds_to_target": reached[0] if reached else None,
            "epochs_to_target": reached[1] if reached else None,
            "stop_reason": history.stop_reason,
            "history": {"epochs": history.epochs, "seconds": history.seconds,
                        "valid_perplexity": history.valid_perplexity}}


def seq2seq_benchmark(time_budget: float | None = None) -> dict:
    """Chapter 13's translator trained from scratch (``utils.CHAPTER13``, no cache), and its BLEU.

    Training is ``utils.translator.train_config``, as the chapter's cache would
    run it, on the CPU (``--device`` applies to the language models; the
    translator's target is a CPU target). ``time_budget`` (seconds) cuts training short, for ``--quick``. Test BLEU
    is ``utils.evaluate_bleu``: greedy translations of the test pairs scored by
    sacrebleu with tokenize='none'.
    """
    from .translate import evaluate_bleu
    from .translator import CHAPTER13, train_config, translation_data
    data = translation_data(CHAPTER13)
    model, history = train_config(CHAPTER13, data, plot=False, verbose=False,
                                  time_budget=time_budget)
    tic = time.perf_counter()
    score, _ = evaluate_bleu(model.eval(), data)
    seconds = history.train_seconds
    return {"config": asdict(CHAPTER13), "device": "cpu", "train_seconds": seconds,
            "epochs": history.epochs[-1], "tokens_per_second": history.tokens / seconds,
            "test_bleu": score.score, "decode_seconds": time.perf_counter() - tic,
            "target": "BLEU >= 20 within 150 s",
            "met": score.score >= 20 and seconds <= 150}


def machine(device: str = "cpu") -> dict:
    """What the numbers were measured on: CPU, cores, versions, threads, environment, load."""
    return {"cpu": cpu_facts()["cpu"], "logical_cores": os.cpu_count(), "torch": torch.__version__,
            "python": platform.python_version(), "threads": torch.get_num_threads(),
            "environment": {name: os.environ.get(name) for name in ENVIRONMENT},
            "device": torch.cuda.get_device_name() if device == "cuda" else "cpu",
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None}


# --- the report ---------------------------------------------------------------------

def _rate(value: float) -> str:
    return f"{value:,.0f}"


def machine_line(m: dict) -> str:
    env = ", ".join(f"{k}={v}" for k, v in m["environment"].items() if v is not None) or "none"
    load = f"{m['load_average'][0]:.2f}" if m.get("load_average") else "unknown"
    return (f"{m['device'] if m['device'] != 'cpu' else 'CPU'}; {m['cpu']}, "
            f"{m['logical_cores']} logical cores; PyTorch {m['torch']}, {m['threads']} threads; "
            f"environment: {env}; load average {load} at the start; {m['date']}")


def write_results(results: dict, out_dir) -> Path:
    """Write ``results-<device>.json`` into ``out_dir``; the tables are written from it
    by ``scripts/benchmark_report.py`` (``make bench`` runs both)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / f"results-{results['settings']['device']}.json"
    json_path.write_text(json.dumps(results, indent=1) + "\n")
    return json_path


# --- the command --------------------------------------------------------------------

class _Parser(argparse.ArgumentParser):
    def error(self, message):          # one line, not the usage block
        self.exit(2, f"{self.prog}: error: {message}\n")


def parse_args(argv=None) -> argparse.Namespace:
    parser = _Parser(prog="python -m utils.benchmark",
                     description="Time and train every model of the book on this machine; "
                                 "what is measured is explained in utils/benchmark.py.")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"),
                        help="where the language models run (default cpu; seq2seq runs on the CPU)")
    parser.add_argument("--budget", type=float, default=None,
                        help="seconds of training per language model (default 60; 2 with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: a tiny budget, few batches, no seq2seq unless named")
    parser.add_argument("--only", nargs="+", metavar="NAME",
                        help=f"parts to run: {', '.join(PARTS)}, or lm (every language model)")
    parser.add_argument("--out", default="benchmarks", help="output folder (default benchmarks/)")
    parser.add_argument("--seed", type=int, default=0, help="for every model and batch order")
    args = parser.parse_args(argv)
    if args.budget is None:
        args.budget = 2.0 if args.quick else 60.0
    elif not args.budget > 0 or args.budget == float("inf"):
        parser.error(f"--budget must be a positive number of seconds, got {args.budget:g}; "
                     f"try --budget 60.")
    parts = []
    for name in args.only or (["fused", "lm"] if args.quick else ["all"]):
        if name not in PARTS and name not in GROUPS:
            parser.error(f"--only {name}: no such part; choose from {', '.join(PARTS)}, lm, all.")
        parts += [p for p in GROUPS.get(name, (name,)) if p not in parts]
    args.parts = parts
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: PyTorch sees no CUDA GPU here (torch.cuda.is_available() is "
                     "False); use --device cpu, or a GPU machine (Colab: Runtime > Change runtime "
                     "type > GPU).")
    return args


def command_line(args: argparse.Namespace) -> str:
    """The command that reproduces the measurements (without where the results go)."""
    words = ["python -m utils.benchmark", f"--device {args.device}", f"--budget {args.budget:g}"]
    if args.quick:
        words.append("--quick")
    if args.only:
        words.append("--only " + " ".join(args.only))
    if args.seed:
        words.append(f"--seed {args.seed}")
    return " ".join(words)


def run(args: argparse.Namespace, echo=functools.partial(print, flush=True)) -> dict:
    """Measure the parts that ``args`` selects, printing a line per measurement."""
    device = torch.device(args.device)
    set_seed(args.seed)
    results = {"machine": machine(args.device), "command": command_line(args),
               "settings": {"device": args.device, "budget": args.budget, "quick": args.quick,
                            "seed": args.seed, "parts": args.parts}}
    echo(f"Machine: {machine_line(results['machine'])}")
    corpus, vocab = load_corpus("time_machine", token="char")
    train, valid = train_valid_split(corpus)
    if "fused" in args.parts:
        rounds, batches = (2, 2) if args.quick else (5, 10)
        fused = compare_gru_speed(train, len(vocab), device=device, rounds=rounds,
                                  num_batches=batches, seed=args.seed)
        results["fused_gru"] = fused
        echo("Scratch GRU against nn.GRU (hidden 256, batch 64), tokens/s: " + ", ".join(
            f"{name} {_rate(rate)} ({fused['ratio_to_nn_gru'][name]:.2f}x)"
            for name, rate in fused["tokens_per_second"].items())
            + f"; target {SPEED_TARGET}x: {'met' if fused['met'] else 'missed'}")
    for recipe in RECIPES:
        if recipe.key in args.parts:
            r = train_to_target(recipe, train, valid, len(vocab), time_budget=args.budget,
                                device=device, seed=args.seed)
            results.setdefault("language_models", []).append(r)
            reached = (f"reached {r['target']:g} after {r['seconds_to_target']:.1f} s"
                       if r["seconds_to_target"] is not None
                       else f"target {r['target']:g} not reached")
            echo(f"{recipe.name}: {_rate(r['tokens_per_second'])} tokens/s; validation "
                 f"perplexity {r['valid_perplexity']:.2f} after {r['train_seconds']:.1f} s; "
                 f"{reached}")
    if "seq2seq" in args.parts:
        s2s = seq2seq_benchmark(time_budget=args.budget if args.quick else None)
        results["seq2seq"] = s2s
        echo(f"Seq2seq (chapter 13): {s2s['train_seconds']:.1f} s of training, "
             f"{_rate(s2s['tokens_per_second'])} target tokens/s, test BLEU "
             f"{s2s['test_bleu']:.1f}; {s2s['target']}: {'met' if s2s['met'] else 'missed'}")
    return results


def main(argv=None) -> int:
    args = parse_args(argv)
    tic = time.perf_counter()
    results = run(args)
    results["wall_seconds"] = time.perf_counter() - tic
    json_path = write_results(results, args.out)
    print(f"Wrote {json_path}; its tables: python scripts/benchmark_report.py "
          f"--device {args.device} --out {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
