"""BLEU: the score of a translation against a reference, from scratch and with sacrebleu."""

from __future__ import annotations

import collections
import math

from .checks import positive_int


def _ngrams(tokens: list[str], n: int) -> collections.Counter:
    return collections.Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def _check_tokens(name: str, tokens) -> None:
    """A list (or tuple) of str tokens, or an error that names ``name`` and the fix."""
    if isinstance(tokens, str):
        raise TypeError(f"{name} must be a list of tokens, got the str {tokens!r}; "
                        f"split it first: {tokens!r}.split().")
    if not isinstance(tokens, (list, tuple)):
        raise TypeError(f"{name} must be a list of str tokens, got a {type(tokens).__name__}.")
    for token in tokens:
        if not isinstance(token, str):
            raise TypeError(f"{name} must hold str tokens, got {token!r} "
                            f"({type(token).__name__}); map indices to words first "
                            f"(vocab.to_tokens).")


def bleu(pred_tokens: list[str], label_tokens: list[str], k: int = 4) -> float:
    """BLEU of one predicted token list against one label (reference) token list.

    exp(min(0, 1 - len_label / len_pred)) * prod over n = 1..k of p_n ** (1 / 2**n),
    where p_n is the clipped n-gram precision: the share of the prediction's
    n-grams that also occur in the label, each label n-gram matching at most as
    many times as it occurs there. n-grams longer than the prediction are
    skipped; an empty prediction scores 0.
    """
    k = positive_int("k", k)
    _check_tokens("pred_tokens", pred_tokens)
    _check_tokens("label_tokens", label_tokens)
    len_pred, len_label = len(pred_tokens), len(label_tokens)
    if len_pred == 0:
        return 0.0
    score = math.exp(min(0.0, 1 - len_label / len_pred))
    for n in range(1, min(k, len_pred) + 1):
        pred, label = _ngrams(pred_tokens, n), _ngrams(label_tokens, n)
        matches = sum(min(count, label[gram]) for gram, count in pred.items())
        score *= (matches / (len_pred - n + 1)) ** (0.5 ** n)
    return score


def _metric():
    try:
        from sacrebleu.metrics import BLEU
    except ImportError:
        raise ImportError("corpus_bleu needs sacrebleu: pip install sacrebleu "
                          "(it is in requirements.txt and in the package's dependencies).") from None
    # force=True: our text is tokenized on purpose, so sacrebleu's warning about it does not apply.
    return BLEU(tokenize="none", force=True)


def corpus_bleu(predictions: list[list[str]], labels: list[list[str]]):
    """Corpus BLEU with sacrebleu, one label per prediction: a ``sacrebleu`` ``BLEUScore``.

    ``.score`` is BLEU on a 0-100 scale; ``.precisions``, ``.bp``, ``.sys_len``
    and ``.ref_len`` give its parts. This is standard BLEU-4: the clipped n-gram
    matches of all sentences are added up before the precisions are taken,
    their geometric mean has equal weights 1/4, and the brevity penalty
    exp(min(0, 1 - ref_len / sys_len)) compares the total lengths.

    Tokenization: ``tokenize='none'``, so sacrebleu scores exactly our tokens:
    the sentences are already lowercased and split, punctuation included, by
    ``utils.translation.normalize``. ``bleu_signature()`` states the settings.
    """
    for name, value in (("predictions", predictions), ("labels", labels)):
        if not isinstance(value, (list, tuple)):
            raise TypeError(f"{name} must be a list of token lists, got a "
                            f"{type(value).__name__}.")
    if len(predictions) != len(labels):
        raise ValueError(f"{len(predictions)} predictions but {len(labels)} labels; "
                         f"give one prediction per label.")
    if not predictions:
        raise ValueError("corpus_bleu got no sentences.")
    # every sentence, not only the first: a str further down would be scored
    # character by character, silently
    for name, sentences in (("predictions", predictions), ("labels", labels)):
        for i, tokens in enumerate(sentences):
            _check_tokens(f"{name}[{i}]", tokens)
    return _metric().corpus_score([" ".join(p) for p in predictions],
                                  [[" ".join(label) for label in labels]])


def bleu_signature() -> str:
    """sacrebleu's signature of ``corpus_bleu``'s settings, e.g. 'nrefs:1|case:mixed|eff:no|tok:none|...'."""
    metric = _metric()
    metric.corpus_score(["a"], [["a"]])   # the signature needs one evaluation first
    return str(metric.get_signature())
