"""English-French sentence pairs for the translation chapters (12-15).

The pipeline, one function per step (chapter 12 walks through it):

1. ``read_pairs``: the raw (English, French) lines of the shipped ``fra-eng.zip``;
2. ``normalize`` and ``tokenize_pair``: lowercase, plain spaces, punctuation as
   separate words, split on spaces;
3. ``filter_by_length``: keep the pairs whose two sides have at most ``max_tokens`` tokens;
4. ``split_pairs``: a fixed split into train / validation / test by English sentence,
   near-duplicates kept together (``near_duplicate_key``);
5. ``build_vocabs``: source and target ``Vocab`` from the training pairs;
6. ``encode``: indices with ``<eos>``, truncated or padded to ``num_steps``, and valid lengths;
7. ``translation_batches``: shuffled minibatches for training.

``load_translation_data`` runs all of it with the book's settings and returns
a ``TranslationData``; chapters 13-15 start from there, so they share one test set.
"""

from __future__ import annotations

import functools
import hashlib
import re
import zipfile
from dataclasses import dataclass
from typing import Iterator, NamedTuple

import torch

from .checks import positive_int
from .corpora import data_path
from .text import Vocab

Pair = tuple[list[str], list[str]]           # (English tokens, French tokens)
RESERVED_TOKENS = ("<pad>", "<bos>", "<eos>")  # '<unk>' is index 0 of every Vocab
MAX_TOKENS = 6        # the book's length filter: at most 6 tokens per side
NUM_TEST = 1000       # test pairs: never trained on, never used to choose settings
NUM_VALID = 1000      # validation pairs: for choosing settings
SPLIT_SEED = 0

_SPACES = re.compile(r"[\u00a0\u202f\u2009]")     # no-break, narrow no-break, thin spaces
_PUNCTUATION = re.compile(r"(?<=\S)([,.!?])")      # , . ! ? glued to the word before


def read_pairs() -> list[tuple[str, str]]:
    """The 167,130 raw (English, French) sentence pairs of ``fra-eng.zip``, in file order."""
    with zipfile.ZipFile(data_path("fra_eng")) as archive:
        text = archive.read("fra-eng/fra.txt").decode("utf-8")
    pairs = []
    for number, line in enumerate(text.split("\n"), 1):
        if line:
            parts = line.split("\t")
            if len(parts) != 2 or not all(parts):
                raise ValueError(f"fra-eng/fra.txt, line {number}: expected 'English<TAB>French', "
                                 f"got {line[:60]!r}.")
            pairs.append((parts[0], parts[1]))
    return pairs


def normalize(text: str) -> str:
    """Lowercase, no-break spaces to plain spaces, a space before , . ! ? and single spaces.

    >>> normalize("Cours\\u202f! Vite, vite.")
    'cours ! vite , vite .'
    """
    if not isinstance(text, str):
        raise TypeError(f"normalize expects a str, got {type(text).__name__}.")
    text = _SPACES.sub(" ", text).lower()
    return " ".join(_PUNCTUATION.sub(r" \1", text).split())


def tokenize_pair(english: str, french: str) -> Pair:
    """Normalize both sentences and split them into words: ``(english_tokens, french_tokens)``."""
    return normalize(english).split(), normalize(french).split()


def filter_by_length(pairs: list[Pair], max_tokens: int) -> list[Pair]:
    """The pairs whose English and French sides both have at most ``max_tokens`` tokens."""
    max_tokens = positive_int("max_tokens", max_tokens)
    return [(src, tgt) for src, tgt in pairs if len(src) <= max_tokens and len(tgt) <= max_tokens]


# Contractions that the split treats as their long forms (near_duplicate_key).
_WHOLE_WORDS = {"won't": "will not", "can't": "can not", "cannot": "can not", "shan't": "shall not",
                "ain't": "is not", "let's": "let us"}
_SUFFIXES = {"n't": "not", "'re": "are", "'ve": "have", "'ll": "will", "'d": "would", "'s": "is",
             "'m": "am"}
_SUFFIX = re.compile(r"(.+?)(n't|'re|'ve|'ll|'d|'s|'m)")
_SPLIT_PUNCTUATION = frozenset({".", "!", "?", ",", '"'})


def near_duplicate_key(tokens: list[str]) -> str:
    """The form of an English sentence under which ``split_pairs`` groups near-duplicates.

    Contractions become their long forms ("what's" -> "what is", "don't" -> "do
    not", "won't" -> "will not"; every 's becomes "is", so a possessive "tom's
    car" also becomes "tom is car": for grouping, merging too much is harmless)
    and punctuation tokens (. ! ? , and double quotes) are dropped.

    >>> near_duplicate_key("what's your name ?".split()) == near_duplicate_key("what is your name .".split())
    True
    """
    if isinstance(tokens, str) or not all(isinstance(token, str) for token in tokens):
        raise TypeError(f"near_duplicate_key expects a list of str tokens, got {tokens!r:.60}; "
                        f"split a sentence first, e.g. normalize(text).split().")
    out: list[str] = []
    for token in tokens:
        if token in _SPLIT_PUNCTUATION:
            continue
        if token in _WHOLE_WORDS:
            out += _WHOLE_WORDS[token].split()
        elif (match := _SUFFIX.fullmatch(token)):
            out += [match.group(1), _SUFFIXES[match.group(2)]]
        else:
            out.append(token)
    return " ".join(out)


def _rank(sentence: str, seed: int) -> str:
    """A pseudo-random but fixed sort key: the same on every machine and library version."""
    return hashlib.sha1(f"{seed}:{sentence}".encode("utf-8")).hexdigest()


def split_pairs(pairs: list[Pair], num_test: int = NUM_TEST, num_valid: int = NUM_VALID,
                seed: int = SPLIT_SEED, key=near_duplicate_key,
                ) -> tuple[list[Pair], list[Pair], list[Pair]]:
    """Split into (train, valid, test) by English sentence, with exactly ``num_test`` test pairs.

    All pairs whose English sides have the same ``near_duplicate_key`` (one
    sentence with several translations, and its variants with contractions or
    other punctuation: "what is your name ?", "what's your name ?") go to the
    same part, so no test or validation sentence, nor a near-duplicate of it, is
    seen in training. The groups are visited in the order of a hash of ``seed``
    and the key; each one's pairs fill the test set while they fit, then the
    validation set, and the rest is training data. ``key`` (English tokens ->
    str) says which pairs belong together; chapter 12 also splits with
    ``key=" ".join``, one group per exact sentence, to count what that lets through.
    """
    if not callable(key):
        raise TypeError(f"key must be a function of the English tokens, got {key!r:.60}.")
    groups: dict[str, list[Pair]] = {}
    for src, tgt in pairs:
        groups.setdefault(key(src), []).append((src, tgt))
    if len(pairs) < num_test + num_valid + 1:
        raise ValueError(f"{len(pairs)} pairs are too few for {num_test} test and {num_valid} "
                         f"validation pairs plus training data.")
    train, valid, test = [], [], []
    for sentence in sorted(groups, key=lambda s: _rank(s, seed)):
        group = groups[sentence]
        if len(test) + len(group) <= num_test:
            test += group
        elif len(valid) + len(group) <= num_valid:
            valid += group
        else:
            train += group
    if len(test) != num_test or len(valid) != num_valid:
        raise ValueError(f"Could not fill {num_test} test and {num_valid} validation pairs from "
                         f"{len(groups)} groups of English sentences; use fewer.")
    return train, valid, test


def _pairs(name: str, pairs) -> list:
    """``pairs`` if it is a list of (English tokens, French tokens), else a clear error."""
    if not isinstance(pairs, (list, tuple)):
        raise TypeError(f"{name} must be a list of (English tokens, French tokens) pairs, got a "
                        f"{type(pairs).__name__}.")
    for i, pair in enumerate(pairs):
        if (not isinstance(pair, (list, tuple)) or len(pair) != 2
                or not all(isinstance(side, (list, tuple)) for side in pair)):
            raise TypeError(f"{name}[{i}] must be a pair of token lists, such as "
                            f"(['go', '.'], ['va', '!']); got {pair!r:.80}.")
    return pairs


def group_references(pairs: list[Pair]) -> tuple[list[list[str]], list[list[list[str]]]]:
    """(sources, references): each distinct English sentence once, with all its translations.

    The order is that of each sentence's first pair; ``references[i]`` lists the
    French sides of every pair whose English side is ``sources[i]``, in the order
    of the pairs. A translation of ``sources[i]`` is then scored once, against all
    of ``references[i]`` (``utils.evaluation.multi_reference_bleu``).
    """
    grouped: dict[tuple[str, ...], list[list[str]]] = {}
    for src, tgt in _pairs("pairs", pairs):
        grouped.setdefault(tuple(src), []).append(list(tgt))
    return [list(src) for src in grouped], list(grouped.values())


def build_vocabs(pairs: list[Pair], min_freq: int = 2) -> tuple[Vocab, Vocab]:
    """Source (English) and target (French) vocabularies of ``pairs``.

    Index 0 is '<unk>', then '<pad>', '<bos>', '<eos>', then every word seen at
    least ``min_freq`` times, most frequent first. Build them from the training
    pairs only: words that occur only in the test set must stay unknown.
    """
    if not pairs:
        raise ValueError("build_vocabs got no pairs.")
    return (Vocab([src for src, _ in pairs], min_freq, RESERVED_TOKENS),
            Vocab([tgt for _, tgt in pairs], min_freq, RESERVED_TOKENS))


def truncate_pad(indices: list[int], num_steps: int, pad: int) -> list[int]:
    """Cut ``indices`` to ``num_steps`` or pad them with ``pad`` up to that length."""
    num_steps = positive_int("num_steps", num_steps)
    return list(indices[:num_steps]) + [pad] * max(0, num_steps - len(indices))


class Encoded(NamedTuple):
    """Sentence pairs as tensors; N pairs, T = num_steps."""
    src: torch.Tensor            # (N, T) int64: English words, <eos>, then <pad>
    src_valid_len: torch.Tensor  # (N,) int64: tokens before the padding (<eos> included)
    tgt: torch.Tensor            # (N, T) int64: French words, <eos>, then <pad>
    tgt_valid_len: torch.Tensor  # (N,) int64


def encode_sentences(sentences: list[list[str]], vocab: Vocab, num_steps: int):
    """Token lists to (indices (N, T), valid lengths (N,)): words, '<eos>', padding.

    A sentence longer than ``num_steps - 1`` words is cut, and then has no '<eos>'.
    """
    num_steps = positive_int("num_steps", num_steps)
    if not isinstance(vocab, Vocab):
        raise TypeError(f"vocab must be a Vocab, got a {type(vocab).__name__}.")
    missing = [t for t in ("<pad>", "<eos>") if t not in vocab]
    if missing:
        # without them, padding and '<eos>' would silently be encoded as '<unk>'
        raise ValueError(f"The vocabulary lacks {', '.join(missing)}: build it with "
                         f"build_vocabs, or Vocab(..., reserved_tokens=RESERVED_TOKENS).")
    if isinstance(sentences, str) or not isinstance(sentences, (list, tuple)):
        raise TypeError(f"sentences must be a list of token lists, got a "
                        f"{type(sentences).__name__}.")
    pad, eos = vocab["<pad>"], vocab["<eos>"]
    rows, lengths = [], []
    for i, tokens in enumerate(sentences):
        if isinstance(tokens, str):
            raise TypeError(f"encode expects lists of tokens, got the str {tokens!r}; "
                            f"split it first, e.g. normalize(text).split().")
        if not isinstance(tokens, (list, tuple)) or not all(isinstance(t, str) for t in tokens):
            raise TypeError(f"sentence {i} must be a list of str tokens, got {tokens!r}.")
        indices = [vocab.token_to_idx.get(t, vocab.unk) for t in tokens] + [eos]
        rows.append(truncate_pad(indices, num_steps, pad))
        lengths.append(min(len(indices), num_steps))
    return (torch.tensor(rows, dtype=torch.long).reshape(len(rows), num_steps),
            torch.tensor(lengths, dtype=torch.long))


def encode(pairs: list[Pair], src_vocab: Vocab, tgt_vocab: Vocab, num_steps: int) -> Encoded:
    """Both sides of ``pairs`` as index tensors of width ``num_steps`` (see ``Encoded``)."""
    pairs = _pairs("pairs", pairs)
    src, src_len = encode_sentences([s for s, _ in pairs], src_vocab, num_steps)
    tgt, tgt_len = encode_sentences([t for _, t in pairs], tgt_vocab, num_steps)
    return Encoded(src, src_len, tgt, tgt_len)


def _encoded(name: str, data) -> Encoded:
    """``data`` if it is a non-empty ``Encoded`` of consistent tensors, else a clear error."""
    if not isinstance(data, Encoded):
        raise TypeError(f"{name} must be an Encoded (from utils.translation.encode), got a "
                        f"{type(data).__name__}.")
    n = len(data.src)
    if n == 0:
        raise ValueError(f"{name} holds no sentence pairs.")
    if any(len(part) != n for part in data):
        raise ValueError(f"{name}'s four tensors must have the same number of rows, got "
                         f"{[len(part) for part in data]}.")
    return data


def translation_batches(data: Encoded, batch_size: int, shuffle: bool = True,
                        generator: torch.Generator | None = None,
                        by_length: bool = False) -> Iterator[Encoded]:
    """One epoch of minibatches of ``data``, each an ``Encoded`` of ``batch_size`` pairs.

    With ``shuffle`` the order is a fresh permutation drawn from ``generator``
    (the global seed if None); the last batch may be smaller.

    ``by_length=True`` saves the work spent on target padding: the shuffled
    pairs are taken in chunks of 32 batches, each chunk is sorted by target
    length and cut into batches, the batches are shuffled, and each batch's
    ``tgt`` keeps only the columns up to its longest target. The source side
    keeps its full width, so the encoder reads the same padding as at test time.
    """
    batch_size = positive_int("batch_size", batch_size)
    data = _encoded("data", data)
    n = len(data.src)
    # The order is drawn and sorted on the CPU (a CPU generator; the same order
    # whatever device the data is on), then moved to the data's device.
    order = (torch.randperm(n, generator=generator, device="cpu") if shuffle
             else torch.arange(n, device="cpu"))
    device = data.src.device
    if not by_length:
        for start in range(0, n, batch_size):
            rows = order[start:start + batch_size].to(device)
            yield Encoded(*(part[rows] for part in data))
        return
    chunk = 32 * batch_size
    lengths = data.tgt_valid_len.cpu()
    batches = []
    for start in range(0, n, chunk):
        rows = order[start:start + chunk]
        rows = rows[torch.sort(lengths[rows], stable=True).indices]
        batches += list(rows.split(batch_size))
    for i in (torch.randperm(len(batches), generator=generator, device="cpu").tolist() if shuffle
              else range(len(batches))):
        rows = batches[i].to(device)
        width = int(data.tgt_valid_len[rows].max())
        yield Encoded(data.src[rows], data.src_valid_len[rows], data.tgt[rows, :width],
                      data.tgt_valid_len[rows])


@dataclass(frozen=True)
class TranslationData:
    """The pairs, split and encoded, with their vocabularies; see ``load_translation_data``."""
    train_pairs: list[Pair]
    valid_pairs: list[Pair]
    test_pairs: list[Pair]
    src_vocab: Vocab
    tgt_vocab: Vocab
    num_steps: int
    train: Encoded
    valid: Encoded
    test: Encoded


@functools.lru_cache(maxsize=None)
def _tokenized_pairs() -> tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]:
    """Every pair, tokenized once per process (tuples, so the cached copy cannot change)."""
    return tuple((tuple(src), tuple(tgt)) for src, tgt in
                 (tokenize_pair(e, f) for e, f in read_pairs()))


def load_translation_data(max_tokens: int = MAX_TOKENS, min_freq: int = 2,
                          num_steps: int | None = None,
                          train_max_tokens: int | None = None) -> TranslationData:
    """The book's English-French data: filtered, split, with vocabularies and tensors.

    Pairs with more than ``max_tokens`` tokens on a side are dropped (``MAX_TOKENS``,
    6, in the book); the split is ``split_pairs`` with the book's fixed sizes and
    seed, so every chapter and configuration scores the same 1,000 test pairs.
    ``train_max_tokens`` (at most ``max_tokens``) keeps only the shorter training
    pairs; the vocabularies come from the training pairs kept, with ``min_freq``.
    ``num_steps`` defaults to ``max_tokens + 1``: every sentence plus '<eos>' fits.
    """
    max_tokens = positive_int("max_tokens", max_tokens)
    num_steps = max_tokens + 1 if num_steps is None else positive_int("num_steps", num_steps)
    pairs = [(list(src), list(tgt)) for src, tgt in _tokenized_pairs()
             if len(src) <= max_tokens and len(tgt) <= max_tokens]
    train, valid, test = split_pairs(pairs)
    if train_max_tokens is not None:
        if positive_int("train_max_tokens", train_max_tokens) > max_tokens:
            raise ValueError(f"train_max_tokens={train_max_tokens} is larger than "
                             f"max_tokens={max_tokens}; the longer pairs were filtered out.")
        train = filter_by_length(train, train_max_tokens)
    src_vocab, tgt_vocab = build_vocabs(train, min_freq)
    return TranslationData(train, valid, test, src_vocab, tgt_vocab, num_steps,
                           *(encode(part, src_vocab, tgt_vocab, num_steps)
                             for part in (train, valid, test)))
