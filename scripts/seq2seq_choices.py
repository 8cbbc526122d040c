"""The settings behind chapter 13's configuration: what fits in 150 s of training?

    python scripts/seq2seq_choices.py              # every run below, one after the other
    python scripts/seq2seq_choices.py A E F        # some of them

Run it through the Makefile's environment (2 threads, AVX2 code paths), e.g.
``ATEN_CPU_CAPABILITY=avx2 MKL_CBWR=AVX2 ONEDNN_MAX_CPU_ISA=AVX2 OMP_NUM_THREADS=2
.venv/bin/python scripts/seq2seq_choices.py``; on a machine shared with other work
add ``OMP_WAIT_POLICY=PASSIVE`` (same numbers, less slowdown under load).

Each run trains utils' encoder-decoder with ``utils.train_seq2seq`` for a number
of epochs and, after every epoch, translates the 1,000 *validation* pairs
greedily and scores them with sacrebleu (the test set is not used to choose
settings). It prints, per epoch: the wall-clock seconds of training so far, the
CPU seconds of the process so far (both threads; unlike wall-clock time this
hardly depends on what else the machine is doing), the load average, the
validation loss and BLEU. BLEU is deterministic on a given machine; times are not.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time

import torch

import utils
from utils.translator import Seq2SeqConfig, build_seq2seq, translation_data

ONE_LAYER = Seq2SeqConfig(min_freq=2, train_max_tokens=6, embed_size=128, num_hiddens=256,
                          num_layers=1, dropout=0.0, batch_size=128, lr=0.005, epochs=3)
RUNS = {
    "S": ("the seed's settings: 2 layers, 256/256, dropout 0.2",
          dataclasses.replace(ONE_LAYER, embed_size=256, num_layers=2, dropout=0.2)),
    "A": ("1 layer, embedding 128, hidden 256, min_freq 2", ONE_LAYER),
    "B": ("A with hidden 128", dataclasses.replace(ONE_LAYER, num_hiddens=128)),
    "C": ("A with min_freq 3, batch 256, lr 0.01",
          dataclasses.replace(ONE_LAYER, min_freq=3, batch_size=256, lr=0.01)),
    "D": ("C with min_freq 5", dataclasses.replace(ONE_LAYER, min_freq=5, batch_size=256,
                                                  lr=0.01)),
    "E": ("A with min_freq 5", dataclasses.replace(ONE_LAYER, min_freq=5)),
    "F": ("E with the learning rate decayed to 0",
          dataclasses.replace(ONE_LAYER, min_freq=5, lr_decay=True)),
    "G": ("F with hidden 192", dataclasses.replace(ONE_LAYER, min_freq=5, lr_decay=True,
                                                   num_hiddens=192)),
    "H": ("F with batches by target length",
          dataclasses.replace(ONE_LAYER, min_freq=5, lr_decay=True, by_length=True)),
}


def run(name: str, description: str, config: Seq2SeqConfig) -> None:
    data = translation_data(config)
    print(f"{name}: {description}\n   {config}\n   {len(data.train_pairs):,} training pairs, "
          f"vocabularies {len(data.src_vocab):,} / {len(data.tgt_vocab):,}", flush=True)
    utils.set_seed(config.seed)
    model = build_seq2seq(config, data)
    cpu_start = time.process_time()

    def report(history):
        score = utils.evaluate_bleu(model, data, "valid")[0].score
        print(f"   epoch {history.epochs[-1]:.0f}: {history.train_seconds:5.0f} s, "
              f"{time.process_time() - cpu_start:5.0f} CPU s, load {os.getloadavg()[0]:.1f}; "
              f"valid loss {history.valid_loss[-1]:.3f}, valid BLEU {score:.1f}", flush=True)

    utils.train_seq2seq(model, data.train, data.valid, bos=data.tgt_vocab["<bos>"],
                        epochs=config.epochs, batch_size=config.batch_size, lr=config.lr,
                        clip=config.clip, lr_decay=config.lr_decay, by_length=config.by_length,
                        generator=torch.Generator().manual_seed(config.seed), plot=False,
                        verbose=False, on_epoch=report)


def main(names: list[str]) -> int:
    unknown = [n for n in names if n not in RUNS]
    if unknown:
        print(f"Unknown runs {unknown}; choose from {', '.join(RUNS)}.", file=sys.stderr)
        return 1
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    for name in names or RUNS:
        run(name, *RUNS[name])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
