"""Chapter 13's translator scored as a machine-translation paper would score it.

The translation chapters score each of the 1,000 test pairs against its one
reference, on the book's tokens. This script measures, for chapter 13's model
(``utils.CHAPTER13``, from the cache of trained models or trained now, about two
minutes), what the other choices give:

- BLEU as the chapters compute it (one reference, ``tok:none``);
- every distinct English test sentence scored once, against all its references;
- BLEU with sacrebleu's 13a tokenizer and chrF, on text against the data file's
  sentences, with their signatures;
- greedy decoding against a beam of 4 (chapter 14's alpha 0.75), with paired
  bootstrap resampling of the difference.

    python scripts/translation_protocol.py [--samples 1000] [--json FILE]

It prints a table and, with --json, writes the numbers (benchmarks/translation-protocol.json
holds a run, made under the Makefile's settings so that the cached model is found).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

import utils  # noqa: E402
from utils.beam_search import beam_search  # noqa: E402
from utils.evaluation import (detokenize, multi_reference_bleu, paired_bootstrap,  # noqa: E402
                              standard_scores)


def beam_translations(model, data, beam_size=4, alpha=0.75) -> list[list[str]]:
    tgt = data.tgt_vocab
    out = []
    for i in range(len(data.test.src)):
        best = beam_search(model, data.test.src[i:i + 1], data.test.src_valid_len[i:i + 1],
                           bos=tgt["<bos>"], eos=tgt["<eos>"], beam_size=beam_size,
                           max_steps=data.num_steps, alpha=alpha)[0]
        out.append(tgt.to_tokens(best.indices))
    return out


def raw_references(data) -> dict[str, list[str]]:
    """English test sentence (tokens joined) -> the data file's French sentences for it."""
    wanted = {" ".join(src) for src, _ in data.test_pairs}
    found: dict[str, list[str]] = {}
    for english, french in utils.read_pairs():
        src, _ = utils.tokenize_pair(english, french)
        key = " ".join(src)
        if key in wanted:
            found.setdefault(key, []).append(french)
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    translator = utils.trained_seq2seq(utils.CHAPTER13, plot=False, verbose=False)
    model, data = translator.model, translator.data
    greedy = utils.translate_pairs(model, data, "test")
    beam = beam_translations(model, data)
    labels = [tgt for _, tgt in data.test_pairs]
    sources = [" ".join(src) for src, _ in data.test_pairs]

    # one row per distinct English sentence: its first prediction, all its references
    refs_by_source: dict[str, list[list[str]]] = {}
    for source, label in zip(sources, labels):
        refs_by_source.setdefault(source, []).append(label)
    first = {}
    for i, source in enumerate(sources):
        first.setdefault(source, i)
    distinct = list(first)
    all_refs = [refs_by_source[s] for s in distinct]
    raw = raw_references(data)

    rows, numbers = [], {"command": "python scripts/translation_protocol.py --samples "
                               f"{args.samples}", "machine": utils.runtime.cpu_facts(),
                         "torch": torch.__version__,
                         "from_cache": translator.from_cache}
    for name, predictions in (("greedy", greedy), ("beam 4", beam)):
        one = utils.corpus_bleu(predictions, labels)
        multi = multi_reference_bleu([predictions[first[s]] for s in distinct], all_refs)
        bleu, chrf, bleu_sig, chrf_sig = standard_scores(
            [detokenize(predictions[first[s]]) for s in distinct], [raw[s] for s in distinct])
        numbers[name] = {"bleu_one_reference": one.score, "bleu_all_references": multi.score,
                         "bleu_13a": bleu.score, "chrf": chrf.score}
        rows.append((name, one.score, multi.score, bleu.score, chrf.score))
    numbers["signatures"] = {"one_reference": utils.bleu_signature(),
                             "13a": bleu_sig, "chrf": chrf_sig}
    numbers["distinct_sentences"] = len(distinct)
    numbers["predictions_with_unk"] = {name: sum("<unk>" in p for p in predictions)
                                       for name, predictions in (("greedy", greedy), ("beam 4", beam))}
    boot = paired_bootstrap([beam[first[s]] for s in distinct],
                            [greedy[first[s]] for s in distinct], all_refs,
                            samples=args.samples, seed=0)
    numbers["beam_minus_greedy"] = vars(boot)

    print(f"chapter 13's model ({'from the cache' if translator.from_cache else 'trained now'}); "
          f"{len(labels)} test pairs, {len(distinct)} distinct English sentences")
    print(f"{'decoder':8s} {'BLEU, 1 ref, pairs':>19s} {'BLEU, all refs':>15s} "
          f"{'BLEU 13a, text':>15s} {'chrF':>6s}")
    for name, one, multi, b13a, chrf in rows:
        print(f"{name:8s} {one:19.1f} {multi:15.1f} {b13a:15.1f} {chrf:6.1f}")
    print("signatures:", numbers["signatures"]["one_reference"], "|", bleu_sig, "|", chrf_sig)
    print(f"beam 4 - greedy (all references, distinct sentences): {boot.difference:+.2f} BLEU, "
          f"95% of {boot.samples} resamples in [{boot.low:+.2f}, {boot.high:+.2f}], "
          f"sign reversed in {boot.share_reversed:.1%}")
    if args.json:
        args.json.write_text(json.dumps(numbers, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
