"""Text from a trained language model: warm up on a prefix, then predict token by token."""

from __future__ import annotations

import functools

import torch

from .checks import evaluating, non_negative_int, positive_int, real_number
from .text import TOKEN_TYPES, Vocab, load_corpus
from .training import begin_state, forward, model_parameters


@torch.no_grad()
def generate(model, vocab: Vocab, prefix: str, num_tokens: int, temperature: float = 0.0,
             token: str = "char", generator: torch.Generator | None = None) -> str:
    """Continue ``prefix`` by ``num_tokens`` tokens.

    Warm-up: the prefix is fed through the model one token at a time, so the
    state summarises it; no prediction is made there. Then each step feeds the
    last token and picks the next one from the model's scores: the most likely
    token if ``temperature`` is 0 (greedy), otherwise a sample from
    softmax(logits / temperature). Low temperatures sharpen the distribution,
    high ones flatten it.

    ``token`` ('char' or 'word') says how to split the prefix and join the
    result. Returns the prefix followed by the generated text.
    """
    if token not in TOKEN_TYPES:
        raise ValueError(f"token must be 'char' or 'word', got {token!r}.")
    if not isinstance(prefix, str) or not prefix.strip():
        raise ValueError(f"prefix must be a non-empty string, got {prefix!r}.")
    num_tokens = positive_int("num_tokens", num_tokens)
    try:   # numpy numbers too (a reader's sweep may produce them), as a plain float
        temperature = real_number("temperature", temperature, low=0)
    except ValueError:
        raise ValueError(f"temperature must be 0 (greedy) or a positive number, "
                         f"got {temperature!r}.") from None
    if not isinstance(vocab, Vocab):
        raise TypeError(f"vocab must be a Vocab, got a {type(vocab).__name__}.")
    tokens = list(prefix) if token == "char" else prefix.split()
    unknown = sorted({t for t in tokens if t not in vocab})
    if unknown:
        hint = " The character vocabulary holds lowercase letters and space; try prefix.lower()." \
            if token == "char" else ""
        raise ValueError(f"The prefix has tokens that are not in the vocabulary: {unknown}.{hint}")
    device = model_parameters(model)[0].device
    with evaluating(model):
        state = begin_state(model, 1, device)
        outputs = [vocab[tokens[0]]]
        for t in tokens[1:]:                                   # warm-up
            _, state = forward(model, torch.tensor([[outputs[-1]]], device=device), state)
            outputs.append(vocab[t])
        for _ in range(num_tokens):                            # prediction
            logits, state = forward(model, torch.tensor([[outputs[-1]]], device=device), state)
            logits = logits.reshape(-1)                        # (vocab_size,)
            if logits.numel() != len(vocab):
                raise ValueError(f"The model scores {logits.numel()} tokens but the vocabulary "
                                 f"has {len(vocab)}: generate with the vocabulary the model "
                                 f"was trained with.")
            if temperature == 0:
                next_index = int(logits.argmax())
            else:
                probs = torch.softmax(logits.float() / temperature, dim=0).cpu()
                next_index = int(torch.multinomial(probs, 1, generator=generator))
            outputs.append(next_index)
    sep = "" if token == "char" else " "
    return sep.join(vocab.to_tokens(outputs))


@functools.lru_cache(maxsize=None)
def book_words(book: str = "time_machine") -> frozenset:
    """The words of ``book`` (its word vocabulary, read once per session)."""
    return frozenset(load_corpus(book, token="word")[1].idx_to_token)


def words_of_the_book(text: str, prefix_words: int = 3,
                      book: str = "time_machine") -> tuple[float, str]:
    """How much of a character model's sample is made of real words.

    The words of ``text`` after its first ``prefix_words`` (the prompt) and
    before its last (the sample may stop inside a word) are looked up in the
    word vocabulary of ``book``. Returns the share found there and a line that
    counts them and lists the others, e.g. "30 of 31 words are in the book; the
    others: shill". Chapters 5, 7, 8 and 10 print it under their samples.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str (a sample from utils.generate), got "
                        f"{type(text).__name__}.")
    prefix_words = non_negative_int("prefix_words", prefix_words)
    written = text.split()[prefix_words:-1]
    if not written:
        raise ValueError(f"text has {len(text.split())} words, too few to judge after "
                         f"prefix_words={prefix_words} and the last word; generate more "
                         f"tokens.")
    vocabulary = book_words(book)
    real = [word for word in written if word in vocabulary]
    others = sorted(set(written) - vocabulary)
    line = (f"{len(real)} of {len(written)} words are in the book; the others: "
            f"{', '.join(others) or 'none'}")
    return len(real) / len(written), line
