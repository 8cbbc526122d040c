"""Text into tokens, tokens into indices: ``clean_text``, ``tokenize``, ``Vocab``, ``load_corpus``."""

from __future__ import annotations

import collections
import operator
import re
from typing import Iterable

import torch

from .checks import positive_int
from .corpora import read_book

TOKEN_TYPES = ("char", "word")


def clean_text(text: str) -> str:
    """Lowercase ``text`` and replace every run of non-letters by one space.

    The result has 27 distinct characters at most: 'a' to 'z' and ' '. Line
    breaks become spaces, so words at the end and start of two lines stay apart.
    """
    if not isinstance(text, str):
        raise TypeError(f"clean_text expects a str, got {type(text).__name__}.")
    return re.sub("[^a-z]+", " ", text.lower()).strip()


def tokenize(text: str | list[str], token: str = "char") -> list:
    """Split ``text`` into characters or words.

    A str gives a list of tokens; a list of lines gives a list of token lists,
    one per line. ``token`` is 'char' or 'word' (words are split on white space).
    """
    if token not in TOKEN_TYPES:
        raise ValueError(f"token must be 'char' or 'word', got {token!r}.")
    split = list if token == "char" else str.split
    if isinstance(text, str):
        tokens = split(text)
        if not tokens:
            raise ValueError(f"The text is empty or blank ({text[:20]!r}): it has no {token} "
                             f"tokens.")
        return tokens
    if isinstance(text, (list, tuple)):
        if not all(isinstance(line, str) for line in text):
            bad = next(line for line in text if not isinstance(line, str))
            raise TypeError(f"tokenize expects a str or a list of str; the list holds a "
                            f"{type(bad).__name__}: {bad!r}.")
        if not any(text):
            raise ValueError("The text is empty: every line is blank.")
        return [split(line) for line in text]
    raise TypeError(f"tokenize expects a str or a list of str, got {type(text).__name__}.")


def _flatten(tokens: Iterable) -> Iterable[str]:
    for item in tokens:
        if isinstance(item, str):
            yield item
        elif isinstance(item, (list, tuple)):
            yield from _flatten(item)
        else:
            raise TypeError(f"Tokens must be strings (or lists of strings); found a "
                            f"{type(item).__name__}: {item!r}.")


class Vocab:
    """A two-way map between tokens and integer indices.

    Index 0 is '<unk>', which every unknown token maps to; then come the
    ``reserved_tokens`` in the order given; then every token seen at least
    ``min_freq`` times, most frequent first (ties in alphabetical order).

    ``vocab[token]`` gives an index, ``vocab[list_of_tokens]`` a list of indices
    (nested lists work too); ``vocab.to_tokens(...)`` goes back.
    """

    unk = 0

    def __init__(self, tokens: list, min_freq: int = 1, reserved_tokens: Iterable[str] = ()):
        if isinstance(tokens, str):
            raise TypeError("Vocab expects a list of tokens, not a str: pass "
                            "tokenize(text, 'char') or tokenize(text, 'word').")
        min_freq = positive_int("min_freq", min_freq)
        if isinstance(reserved_tokens, str):
            # list("<pad>") would reserve '<', 'p', 'a', 'd', '>'
            raise TypeError(f"reserved_tokens must be a list of tokens, got the str "
                            f"{reserved_tokens!r}; write [{reserved_tokens!r}].")
        reserved = list(reserved_tokens)
        if any(not isinstance(t, str) for t in reserved):
            raise TypeError(f"reserved_tokens must be strings, got {reserved!r}.")
        if "<unk>" in reserved or len(set(reserved)) != len(reserved):
            raise ValueError(f"reserved_tokens must be distinct and must not contain '<unk>' "
                             f"(it is always index 0), got {reserved!r}.")
        counter = collections.Counter(_flatten(tokens))
        if not counter:
            raise ValueError("Vocab got no tokens: the text is empty.")
        # (token, count) pairs, most frequent first, ties alphabetical.
        self.token_freqs = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
        special = ["<unk>", *reserved]
        self.idx_to_token = special + [t for t, n in self.token_freqs
                                       if n >= min_freq and t not in special]
        self.token_to_idx = {t: i for i, t in enumerate(self.idx_to_token)}

    def __len__(self) -> int:
        return len(self.idx_to_token)

    def __contains__(self, token: str) -> bool:
        return token in self.token_to_idx

    def __getitem__(self, tokens):
        """Token -> index ('<unk>' -> 0 for unknown tokens); lists map element-wise."""
        if isinstance(tokens, str):
            return self.token_to_idx.get(tokens, self.unk)
        if isinstance(tokens, (list, tuple)):
            return [self[t] for t in tokens]
        raise TypeError(f"vocab[...] looks up tokens (str), got {type(tokens).__name__} "
                        f"{tokens!r}. To turn indices into tokens use vocab.to_tokens(...).")

    def to_tokens(self, indices):
        """Index -> token; lists, tuples, NumPy arrays and tensors map element-wise."""
        if hasattr(indices, "tolist") and not isinstance(indices, (list, tuple)):
            indices = indices.tolist()  # tensors and NumPy arrays, also 0-d ones
        if isinstance(indices, (list, tuple)):
            return [self.to_tokens(i) for i in indices]
        if isinstance(indices, (str, bool)) or not hasattr(indices, "__index__"):
            raise TypeError(f"to_tokens expects integer indices, got {type(indices).__name__} "
                            f"{indices!r}. To turn tokens into indices use vocab[...].")
        index = operator.index(indices)
        if not 0 <= index < len(self):
            raise IndexError(f"Index {index} is outside this vocabulary: valid indices are "
                             f"0 to {len(self) - 1}.")
        return self.idx_to_token[index]

    def __repr__(self) -> str:
        shown = ", ".join(repr(t) for t in self.idx_to_token[:8])
        more = ", ..." if len(self) > 8 else ""
        return f"Vocab(size={len(self)}: {shown}{more})"


def load_corpus(book: str = "time_machine", token: str = "char", min_freq: int = 1,
                max_tokens: int | None = None) -> tuple[torch.Tensor, Vocab]:
    """Token indices and vocabulary of a shipped book.

    The text is ``clean_text(read_book(book))`` split by ``token`` ('char' or
    'word'). Returns ``(corpus, vocab)``: ``corpus`` is a 1-D int64 tensor of
    shape (num_tokens,), the whole book in reading order (cut to ``max_tokens``
    if given); ``vocab`` is built from the whole book with ``min_freq``.
    """
    if max_tokens is not None:
        try:
            max_tokens = positive_int("max_tokens", max_tokens)
        except ValueError:
            raise ValueError(f"max_tokens must be a positive integer or None, "
                             f"got {max_tokens!r}.") from None
    tokens = tokenize(clean_text(read_book(book)), token)
    vocab = Vocab(tokens, min_freq=min_freq)
    if max_tokens is not None:
        tokens = tokens[:max_tokens]
    return torch.tensor(vocab[tokens], dtype=torch.long), vocab
