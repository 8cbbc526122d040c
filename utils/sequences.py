"""A long token sequence into minibatches: the shared split and two ways to iterate.

Every language-model chapter uses ``train_valid_split`` (the last 10% of the
text is for validation) and one of the two iterators below. Both yield pairs
``(X, Y)`` of int64 tensors of shape (batch_size, num_steps), where ``Y`` is
``X`` shifted one token to the right: ``Y[b, t]`` is the token after ``X[b, t]``.
"""

from __future__ import annotations

from typing import Iterator

import torch

from .checks import non_negative_int, positive_int, real_number, token_tensor

Batch = tuple[torch.Tensor, torch.Tensor]


def train_valid_split(corpus, valid_fraction: float = 0.1) -> tuple[torch.Tensor, torch.Tensor]:
    """Split a 1-D corpus into (train, valid): validation is the last ``valid_fraction``.

    The split is by position, not at random, so the validation text is a
    stretch of the book that the model never reads while training.
    """
    corpus = token_tensor("corpus", corpus)
    try:   # numpy numbers too, as a plain float
        fraction = real_number("valid_fraction", valid_fraction, 0, 1)
    except ValueError:
        fraction = None
    if fraction is None or not 0 < fraction < 1:      # the ends are excluded: both parts non-empty
        raise ValueError(f"valid_fraction must be between 0 and 1, got {valid_fraction!r}.")
    num_valid = int(len(corpus) * fraction)
    if num_valid < 1 or num_valid >= len(corpus):
        raise ValueError(f"A corpus of {len(corpus)} tokens is too short to split with "
                         f"valid_fraction={valid_fraction}: both parts must be non-empty.")
    # copies, not views: changing one part in place must not change the corpus
    return corpus[:-num_valid].clone(), corpus[-num_valid:].clone()


def num_batches(num_tokens: int, batch_size: int, num_steps: int) -> int:
    """How many (X, Y) batches one epoch over ``num_tokens`` tokens yields.

    The same for both iterators and every epoch: each batch needs
    batch_size * num_steps tokens, plus one for the last target.
    """
    num_tokens = non_negative_int("num_tokens", num_tokens)
    batch_size = positive_int("batch_size", batch_size)
    num_steps = positive_int("num_steps", num_steps)
    return max(0, (num_tokens - 1) // (batch_size * num_steps))


def _prepare(corpus, batch_size, num_steps, generator):
    """Check the arguments; draw this epoch's random offset."""
    corpus = token_tensor("corpus", corpus)
    batch_size = positive_int("batch_size", batch_size)
    num_steps = positive_int("num_steps", num_steps)
    n = num_batches(len(corpus), batch_size, num_steps)
    if n < 1:
        need = batch_size * num_steps + 1
        raise ValueError(f"The corpus has {len(corpus)} tokens, too few for one batch of "
                         f"batch_size={batch_size} x num_steps={num_steps} (that needs at least "
                         f"{need} tokens). Use a smaller batch_size or num_steps, or a longer text.")
    # A random start makes every epoch cut the text at different places. Keep
    # the offset small enough that all n batches still fit.
    max_offset = min(num_steps - 1, len(corpus) - 1 - n * batch_size * num_steps)
    offset = int(torch.randint(0, max_offset + 1, (), generator=generator, device="cpu"))
    return corpus, batch_size, num_steps, n, offset


def random_batches(corpus, batch_size: int, num_steps: int,
                   generator: torch.Generator | None = None) -> Iterator[Batch]:
    """One epoch of random sampling.

    From a random offset, the text is cut into consecutive, non-overlapping
    subsequences of ``num_steps`` tokens; they are shuffled and grouped into
    batches. Two neighbouring rows of a batch, or the same row in two
    consecutive batches, are in general far apart in the text, so a model
    must start each batch from a fresh state.
    """
    corpus, batch_size, num_steps, n, offset = _prepare(corpus, batch_size, num_steps, generator)
    num_subseqs = (len(corpus) - 1 - offset) // num_steps
    # drawn on the CPU (the generator's device), then moved to the corpus's device
    order = torch.randperm(num_subseqs, generator=generator, device="cpu")[:n * batch_size]
    starts = offset + num_steps * order                      # (n * batch_size,)
    rows = (starts.reshape(n, batch_size, 1)
            + torch.arange(num_steps, device="cpu")).to(corpus.device)  # (n, batch, steps)
    return ((corpus[r], corpus[r + 1]) for r in rows)


def sequential_batches(corpus, batch_size: int, num_steps: int,
                       generator: torch.Generator | None = None) -> Iterator[Batch]:
    """One epoch of sequential partitioning.

    From a random offset, the text is cut into ``batch_size`` long rows of equal
    length, one below the other; batch i holds columns i*num_steps to
    (i+1)*num_steps of every row. So row b of batch i+1 continues row b of
    batch i in the text, and a model can carry its state from one batch to
    the next.
    """
    corpus, batch_size, num_steps, n, offset = _prepare(corpus, batch_size, num_steps, generator)
    length = n * num_steps                                   # tokens per row
    Xs = corpus[offset:offset + batch_size * length].reshape(batch_size, length)
    Ys = corpus[offset + 1:offset + 1 + batch_size * length].reshape(batch_size, length)
    # clones: a caller's in-place change to a batch must not alter the corpus
    return ((Xs[:, i:i + num_steps].clone(), Ys[:, i:i + num_steps].clone())
            for i in range(0, length, num_steps))


ITERATORS = {"random": random_batches, "sequential": sequential_batches}


def batches(corpus, batch_size: int, num_steps: int, sampling: str,
            generator: torch.Generator | None = None) -> Iterator[Batch]:
    """``random_batches`` or ``sequential_batches``, chosen by name.

    Like both of them, it checks its arguments and draws the epoch's random
    offset when called, so a bad value fails here, not at the first batch.
    """
    if sampling not in ITERATORS:
        raise ValueError(f"sampling must be 'random' or 'sequential', got {sampling!r}.")
    return ITERATORS[sampling](corpus, batch_size, num_steps, generator)
