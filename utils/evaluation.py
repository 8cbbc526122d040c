"""How translations are scored as the field scores them: all references, text, uncertainty.

``utils.bleu`` scores the book's tokens against one reference per sentence. This
module adds what a machine-translation evaluation also needs:

- ``multi_reference_bleu``: corpus BLEU-4 with every reference of each sentence
  (the test set has several translations for many English sentences);
- ``detokenize`` and ``standard_scores``: BLEU with sacrebleu's default 13a tokenizer
  and chrF, on text rather than on our tokens, with their signatures;
- ``paired_bootstrap``: how sure a BLEU difference between two systems on the same
  sentences is (Koehn, 2004);
- ``references`` and ``all_scores``: every distinct sentence of a part of the book's
  data once, with all its references (as tokens and as the data file's text), and
  a system's greedy or beam translations scored in all four ways at once.

Not imported by ``import utils``: ``from utils.evaluation import ...``.
"""

from __future__ import annotations

import collections
import dataclasses
import re

import numpy as np

from .bleu import _check_tokens, _metric, _ngrams
from .checks import positive_int, seed_value
from .bleu import corpus_bleu
from .translation import _SPACES, _tokenized_pairs, read_pairs
def _check_references(predictions, references) -> None:
    """Predictions: token lists; references: a non-empty list of token lists for each."""
    for name, value in (("predictions", predictions), ("references", references)):
        if not isinstance(value, (list, tuple)):
            raise TypeError(f"{name} must be a list, got a {type(value).__name__}.")
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions but {len(references)} reference "
                         f"lists; give one list of references per prediction.")
    if not predictions:
        raise ValueError("no sentences to score.")
    for i, (tokens, refs) in enumerate(zip(predictions, references)):
        _check_tokens(f"predictions[{i}]", tokens)
        if isinstance(refs, str) or not isinstance(refs, (list, tuple)) or not refs:
            raise TypeError(f"references[{i}] must be a non-empty list of token lists (one per "
                            f"reference translation), got {refs!r}.")
        for j, ref in enumerate(refs):
            _check_tokens(f"references[{i}][{j}]", ref)


def multi_reference_bleu(predictions: list[list[str]], references: list[list[list[str]]]):
    """Corpus BLEU-4 with every reference of each prediction (sacrebleu, ``tokenize='none'``).

    ``references[i]`` lists the token lists of all the reference translations of
    sentence ``i``; their number may vary from sentence to sentence (the signature
    then says ``nrefs:var``). An n-gram of a prediction is clipped to the largest
    count it has in any one reference, and the brevity penalty uses, for each
    sentence, the reference length closest to the prediction's, as Papineni et al.
    define it. With one reference per sentence this is ``corpus_bleu``.
    """
    return _multi_reference_bleu(predictions, references)[0]


def _multi_reference_bleu(predictions, references):
    """(BLEUScore, signature) of ``multi_reference_bleu``."""
    _check_references(predictions, references)
    width = max(len(refs) for refs in references)
    streams = [[" ".join(refs[k]) if k < len(refs) else None for refs in references]
               for k in range(width)]
    metric = _metric()
    return metric.corpus_score([" ".join(p) for p in predictions], streams), str(metric.get_signature())


def detokenize(tokens: list[str]) -> str:
    """The text of a token list of ``utils.translation.normalize``: '.' and ',' rejoin the word before.

    '!' and '?' keep their space, as French typography writes them. The text stays
    lowercased; compare it with ``lowercase=True`` (``standard_scores`` does).
    """
    _check_tokens("tokens", tokens)
    return re.sub(r" ([.,])", r"\1", " ".join(tokens))


def standard_scores(hypotheses: list[str], references: list[list[str]]):
    """BLEU and chrF as papers report them: sacrebleu's defaults on text, not on our tokens.

    ``hypotheses`` are plain strings (``detokenize`` a token list first) and
    ``references[i]`` the reference texts of sentence ``i``, as the data file has
    them. BLEU uses sacrebleu's default tokenizer (13a); chrF (Popovic, 2015)
    compares character n-grams of up to 6 characters (sacrebleu's defaults: no
    word n-grams, so chrF and not chrF++) and needs no tokenizer. Both ignore
    case, since the model writes lowercase. Special spaces (no-break, narrow
    no-break, thin) count as ordinary ones, as ``utils.translation.normalize``
    makes them. Returns (BLEUScore, CHRFScore, BLEU signature, chrF signature).
    """
    from sacrebleu.metrics import BLEU, CHRF
    if not isinstance(hypotheses, (list, tuple)) or not isinstance(references, (list, tuple)):
        raise TypeError("hypotheses and references must be lists of str and of lists of str.")
    if len(hypotheses) != len(references) or not hypotheses:
        raise ValueError(f"{len(hypotheses)} hypotheses and {len(references)} reference lists; "
                         "give one non-empty list of references per hypothesis.")
    for i, (hyp, refs) in enumerate(zip(hypotheses, references)):
        if not isinstance(hyp, str):
            raise TypeError(f"hypotheses[{i}] must be a str, got {hyp!r}; detokenize a token "
                            "list first (utils.evaluation.detokenize).")
        if isinstance(refs, str) or not refs or not all(isinstance(r, str) for r in refs):
            raise TypeError(f"references[{i}] must be a non-empty list of str, got {refs!r}.")
    width = max(len(refs) for refs in references)
    streams = [[_SPACES.sub(" ", refs[k]) if k < len(refs) else None for refs in references]
               for k in range(width)]
    bleu_metric, chrf_metric = BLEU(lowercase=True), CHRF(lowercase=True)
    hyps = [_SPACES.sub(" ", h) for h in hypotheses]
    bleu_score = bleu_metric.corpus_score(hyps, streams)
    chrf_score = chrf_metric.corpus_score(hyps, streams)
    return (bleu_score, chrf_score, str(bleu_metric.get_signature()),
            str(chrf_metric.get_signature()))


def _sentence_statistics(predictions, references) -> np.ndarray:
    """Per sentence: clipped matches and counts of n-grams for n = 1..4, and the two lengths."""
    rows = []
    for tokens, refs in zip(predictions, references):
        row = []
        for n in range(1, 5):
            counts = _ngrams(tokens, n)
            most = collections.Counter()
            for ref in refs:
                most |= _ngrams(ref, n)          # the largest count in any one reference
            row.append(sum(min(c, most[g]) for g, c in counts.items()))
        row += [max(len(tokens) - n + 1, 0) for n in range(1, 5)]
        closest = min((abs(len(ref) - len(tokens)), len(ref)) for ref in refs)[1]
        rows.append(row + [len(tokens), closest])
    return np.array(rows, dtype=np.float64)


def _bleu_from_sums(sums: np.ndarray) -> np.ndarray:
    """sacrebleu's BLEU-4 (smoothing 'exp') from summed statistics, for each row of ``sums``."""
    correct, total, sys_len, ref_len = sums[:, :4], sums[:, 4:8], sums[:, 8], sums[:, 9]
    log_p = np.zeros_like(correct)
    smooth = np.ones(len(sums))
    for n in range(4):
        zero = correct[:, n] == 0
        smooth = np.where(zero, smooth * 2, smooth)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_p[:, n] = np.where(zero, np.log(1.0 / (smooth * np.maximum(total[:, n], 1))),
                                   np.log(correct[:, n] / np.maximum(total[:, n], 1)))
    with np.errstate(divide="ignore"):
        bp = np.where(sys_len < ref_len, np.exp(1 - ref_len / np.maximum(sys_len, 1)), 1.0)
    score = 100 * bp * np.exp(log_p.mean(axis=1))
    return np.where(sys_len == 0, 0.0, score)


@dataclasses.dataclass
class Bootstrap:
    """Paired bootstrap resampling of two systems' BLEU on the same sentences (see ``paired_bootstrap``)."""
    bleu_a: float
    bleu_b: float
    difference: float           # bleu_a - bleu_b on the whole test set
    low: float                  # the 2.5th percentile of the resampled differences
    high: float                 # the 97.5th percentile
    share_reversed: float       # share of resamples whose difference has the other sign
    samples: int


def paired_bootstrap(predictions_a: list[list[str]], predictions_b: list[list[str]],
                     references: list[list[list[str]]], *, samples: int = 1000,
                     seed: int = 0) -> Bootstrap:
    """How sure is the BLEU difference of two systems? Paired bootstrap resampling (Koehn, 2004).

    ``samples`` times, draw as many sentences as the test set has, with
    replacement (the same draw for both systems), and compute both corpus BLEUs
    (tokenize 'none', all references, as ``multi_reference_bleu``) on the draw.
    Returns the difference on the whole set, the middle 95% of the resampled
    differences, and the share of resamples in which the sign of the difference
    turns around (1.0 when the two scores are equal): where that share is above a
    few percent, the test set does not say which system is better. A difference between two training runs also
    needs seeds: resampling sentences says nothing about resampling training.
    """
    _check_references(predictions_a, references)
    _check_references(predictions_b, references)
    samples = positive_int("samples", samples)
    seed = seed_value(seed)
    stats_a = _sentence_statistics(predictions_a, references)
    stats_b = _sentence_statistics(predictions_b, references)
    bleu_a = float(_bleu_from_sums(stats_a.sum(axis=0, keepdims=True))[0])
    bleu_b = float(_bleu_from_sums(stats_b.sum(axis=0, keepdims=True))[0])
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(stats_a), size=(samples, len(stats_a)))
    diffs = (_bleu_from_sums(stats_a[draws].sum(axis=1))
             - _bleu_from_sums(stats_b[draws].sum(axis=1)))
    difference = bleu_a - bleu_b
    reversed_share = float(np.mean(np.sign(diffs) != np.sign(difference))) if difference else 1.0
    low, high = np.percentile(diffs, [2.5, 97.5])
    return Bootstrap(bleu_a, bleu_b, difference, float(low), float(high), reversed_share, samples)


@dataclasses.dataclass(frozen=True)
class References:
    """The distinct English sentences of a part of the data, each with all its references."""
    sources: list[list[str]]            # each distinct English sentence, in order of first pair
    tokens: list[list[list[str]]]       # its references as the book's token lists
    texts: list[list[str]]              # the same references as the data file writes them
    first: list[int]                    # the index of each sentence's first pair in the part

    def once(self, predictions: list) -> list:
        """One prediction per distinct sentence (the one made for its first pair)."""
        if len(predictions) <= max(self.first, default=-1):
            raise ValueError(f"{len(predictions)} predictions, but this part has "
                             f"{max(self.first) + 1} or more pairs: give one per pair.")
        return [predictions[i] for i in self.first]


def references(data, part: str = "test") -> References:
    """Every distinct English sentence of ``data``'s 'test' (or 'valid') pairs with all its references.

    ``data`` is the ``TranslationData`` of ``utils.load_translation_data``; the
    texts come from the data file, matched through the same tokenization.
    """
    if part not in ("train", "valid", "test"):
        raise ValueError(f"part must be 'train', 'valid' or 'test', got {part!r}.")
    pairs = getattr(data, f"{part}_pairs")
    first: dict[tuple, int] = {}
    tokens: dict[tuple, list[list[str]]] = {}
    for i, (src, tgt) in enumerate(pairs):
        first.setdefault(tuple(src), i)
        tokens.setdefault(tuple(src), []).append(list(tgt))
    wanted = collections.Counter((tuple(src), tuple(tgt)) for src, tgt in pairs)
    texts: dict[tuple, list[str]] = {}
    for (_, french), (src, tgt) in zip(read_pairs(), _tokenized_pairs()):
        if wanted[(src, tgt)] > 0:
            wanted[(src, tgt)] -= 1
            texts.setdefault(src, []).append(french)
    if +wanted:
        raise ValueError(f"{sum(wanted.values())} pairs of data.{part}_pairs are not in the "
                         "data file: build data with utils.load_translation_data.")
    order = list(first)
    return References([list(s) for s in order], [tokens[s] for s in order],
                      [texts[s] for s in order], [first[s] for s in order])


@dataclasses.dataclass(frozen=True)
class Scores:
    """A system's translations of a part, scored four ways (see ``all_scores``)."""
    one_reference: float        # BLEU on the book's tokens, every pair with its one reference
    all_references: float       # BLEU on the book's tokens, each sentence once, all references
    bleu_13a: float             # BLEU on text, sacrebleu's 13a tokenizer, all references
    chrf: float                 # chrF on text, all references
    signatures: dict


def all_scores(predictions: list[list[str]], data, part: str = "test",
               refs: References | None = None) -> Scores:
    """Score one translation per pair of ``data``'s part (token lists) in the four ways above."""
    refs = refs or references(data, part)
    labels = [tgt for _, tgt in getattr(data, f"{part}_pairs")]
    if len(predictions) != len(labels):
        raise ValueError(f"{len(predictions)} predictions for {len(labels)} {part} pairs; "
                         "give one per pair, in order.")
    one = corpus_bleu(predictions, labels)
    once = refs.once(predictions)
    multi, multi_sig = _multi_reference_bleu(once, refs.tokens)
    bleu, chrf, bleu_sig, chrf_sig = standard_scores([detokenize(p) for p in once], refs.texts)
    return Scores(one.score, multi.score, bleu.score, chrf.score,
                  {"tokens": multi_sig, "13a": bleu_sig, "chrf": chrf_sig})
