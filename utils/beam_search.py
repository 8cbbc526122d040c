"""Beam search for the encoder-decoders of chapters 13-15 (chapter 14 builds it).

The model follows the interface of ``utils.seq2seq``: ``model.encoder(src,
src_valid_len)`` and ``model.decoder.init_state(...)`` / ``model.decoder(X,
state)``. Beam search keeps several hypotheses of one sentence in a batch, so
it also needs ``model.decoder.reorder_state(state, index)``: the state of the
hypotheses ``index`` (a 1-D tensor of row numbers), in that order.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.nn import functional as F

from .checks import (evaluating, lengths_tensor, model_device, non_negative_int, positive_int,
                     real_number)


@dataclass
class Hypothesis:
    """One candidate translation: its words (without '<eos>'), log-probability and score."""
    indices: list[int]
    log_prob: float        # sum of the log-probabilities of its words and of '<eos>'
    length: int            # words + 1 if it ended with '<eos>'
    score: float           # log_prob / length ** alpha
    finished: bool         # True if it ended with '<eos>'


def length_normalized(log_prob: float, length: int, alpha: float) -> float:
    """The score of a hypothesis: its log-probability divided by ``length ** alpha``.

    ``length`` counts the words and the '<eos>' (at least 1); ``alpha`` is
    between 0 (no normalization) and 2.
    """
    log_prob = real_number("log_prob (a sum of log-probabilities)", log_prob)
    length = positive_int("length (the words, and '<eos>' if the hypothesis has it)", length)
    alpha = real_number("alpha (0.75 is common)", alpha, 0, 2)
    return log_prob / length ** alpha


@torch.no_grad()
def beam_search(model, src: torch.Tensor, src_valid_len: torch.Tensor, *, bos: int, eos: int,
                beam_size: int, max_steps: int, alpha: float = 0.75) -> list[Hypothesis]:
    """Translate one sentence with beam search; returns hypotheses, best first.

    src (1, T) and src_valid_len (1,) hold one source sentence. At every step
    each of the (at most ``beam_size``) open hypotheses is extended by every
    word; the ``beam_size`` extensions with the highest log-probability are
    kept. An extension by '<eos>' is finished and leaves the beam. Search ends
    when no hypothesis is open or after ``max_steps`` words. Finished and open
    hypotheses are then ranked by ``log_prob / length ** alpha`` (``alpha=0``:
    no length normalization). With ``beam_size=1`` this is greedy decoding.
    """
    beam_size, max_steps = positive_int("beam_size", beam_size), positive_int("max_steps", max_steps)
    bos, eos = non_negative_int("bos", bos), non_negative_int("eos", eos)
    if not isinstance(src, torch.Tensor) or src.dim() != 2 or src.shape[0] != 1:
        shape = tuple(src.shape) if isinstance(src, torch.Tensor) else type(src).__name__
        raise ValueError(f"beam_search translates one sentence: src must be a tensor of shape "
                         f"(1, T), got {shape}; beam_search_batch translates a batch.")
    alpha = real_number("alpha (0.75 is common)", alpha, 0, 2)
    # every tensor on the model's device (the source's for a model without parameters)
    device = model_device(model, default=src.device)
    src_valid_len = lengths_tensor("src_valid_len", src_valid_len, 1, src.shape[1]).to(device)
    src = src.to(device)
    with evaluating(model):
        enc_outputs, enc_state = model.encoder(src, src_valid_len)
        state = model.decoder.init_state(enc_outputs, enc_state, src_valid_len)
        words = [[]]                                  # the open hypotheses, k of them
        log_probs = torch.zeros(1, device=device)     # (k,)
        finished = []
        for step in range(1, max_steps + 1):
            X = torch.tensor([[w[-1] if w else bos] for w in words], device=device)  # (k, 1)
            logits, state = model.decoder(X, state)                        # (k, 1, V)
            candidates = log_probs[:, None] + F.log_softmax(logits[:, -1], dim=-1)  # (k, V)
            top = candidates.flatten().topk(min(beam_size, candidates.numel()))
            rows = torch.div(top.indices, candidates.shape[1], rounding_mode="floor")
            cols = top.indices % candidates.shape[1]
            keep = []
            for value, row, col in zip(top.values.tolist(), rows.tolist(), cols.tolist()):
                if col == eos:
                    finished.append((words[row], value, step, True))
                else:
                    keep.append((row, col, value))
            if not keep:
                break
            index = torch.tensor([row for row, _, _ in keep], device=device)
            words = [words[row] + [col] for row, col, _ in keep]
            log_probs = torch.tensor([value for _, _, value in keep], device=device)
            state = model.decoder.reorder_state(state, index)
        else:
            finished += [(w, lp, max_steps, False) for w, lp in zip(words, log_probs.tolist())]
    hypotheses = [Hypothesis(w, lp, n, length_normalized(lp, n, alpha), done)
                  for w, lp, n, done in finished]
    return sorted(hypotheses, key=lambda h: h.score, reverse=True)


@torch.no_grad()
def beam_search_batch(model, src: torch.Tensor, src_valid_len: torch.Tensor, *, bos: int,
                      eos: int, beam_size: int, max_steps: int,
                      alpha: float = 0.75) -> list[list[Hypothesis]]:
    """``beam_search`` for every sentence of a batch at once: one list of hypotheses per row.

    src (n, T) and src_valid_len (n,). Each sentence keeps its own beam, as
    ``beam_search`` does for one; the open hypotheses of all the beams are the
    rows of one batch, so the decoder runs once per step for all of them
    instead of once per step and sentence. Sentence i gets what ``beam_search``
    gives for src[i:i + 1] (up to the last bits of the arithmetic: a larger
    batch may add in another order, which can swap two nearly tied candidates).
    """
    beam_size, max_steps = positive_int("beam_size", beam_size), positive_int("max_steps", max_steps)
    bos, eos = non_negative_int("bos", bos), non_negative_int("eos", eos)
    if not isinstance(src, torch.Tensor) or src.dim() != 2 or src.shape[0] == 0:
        shape = tuple(src.shape) if isinstance(src, torch.Tensor) else type(src).__name__
        raise ValueError(f"src must be a tensor of shape (n, T) with n >= 1 sentences, got "
                         f"{shape}.")
    alpha = real_number("alpha (0.75 is common)", alpha, 0, 2)
    device = model_device(model, default=src.device)
    n = src.shape[0]
    src_valid_len = lengths_tensor("src_valid_len", src_valid_len, n, src.shape[1]).to(device)
    src = src.to(device)
    with evaluating(model):
        enc_outputs, enc_state = model.encoder(src, src_valid_len)
        state = model.decoder.init_state(enc_outputs, enc_state, src_valid_len)
        # the open hypotheses of each sentence still searching; their rows of the batch
        # are consecutive, sentence after sentence, in the order of `active`
        active = list(range(n))
        words = [[[]] for _ in range(n)]
        log_probs = torch.zeros(n, device=device)     # (rows,)
        finished = [[] for _ in range(n)]
        for step in range(1, max_steps + 1):
            X = torch.tensor([[w[-1] if w else bos] for i in active for w in words[i]],
                             device=device)                                   # (rows, 1)
            logits, state = model.decoder(X, state)                          # (rows, 1, V)
            candidates = log_probs[:, None] + F.log_softmax(logits[:, -1], dim=-1)
            V, widest = candidates.shape[1], max(len(words[i]) for i in active)
            # each sentence's rows side by side, padded with -inf to the widest beam
            padded = candidates.new_full((len(active), widest, V), float("-inf"))
            counts = torch.tensor([len(words[i]) for i in active], device=device)
            owner = torch.repeat_interleave(torch.arange(len(active), device=device), counts)
            first = torch.cumsum(counts, 0) - counts
            slot = torch.arange(len(owner), device=device) - first[owner]
            padded[owner, slot] = candidates
            top = padded.flatten(1).topk(min(beam_size, widest * V), dim=1)
            rows = torch.div(top.indices, V, rounding_mode="floor").tolist()
            cols, values = (top.indices % V).tolist(), top.values.tolist()
            index, new_log_probs, still = [], [], []
            for a, (i, base) in enumerate(zip(active, first.tolist())):
                keep = []
                for value, row, col in zip(values[a], rows[a], cols[a]):
                    if row >= len(words[i]):            # a padding row: fewer candidates
                        continue
                    if col == eos:
                        finished[i].append((words[i][row], value, step, True))
                    else:
                        keep.append((row, col, value))
                if not keep:
                    continue
                index += [base + row for row, _, _ in keep]
                words[i] = [words[i][row] + [col] for row, col, _ in keep]
                new_log_probs += [value for _, _, value in keep]
                still.append(i)
            active = still
            if not active:
                break
            log_probs = torch.tensor(new_log_probs, device=device)
            state = model.decoder.reorder_state(state, torch.tensor(index, device=device))
        else:
            values = iter(log_probs.tolist())          # the rows, sentence after sentence
            for i in active:
                finished[i] += [(w, next(values), max_steps, False) for w in words[i]]
    results = []
    for found in finished:
        hypotheses = [Hypothesis(w, lp, k, length_normalized(lp, k, alpha), done)
                      for w, lp, k, done in found]
        results.append(sorted(hypotheses, key=lambda h: h.score, reverse=True))
    return results


def beam_text(model, data, text: str, beam_size: int = 4, alpha: float = 0.75,
              shown: int = 5) -> str:
    """What chapter 14's widget shows: the best hypotheses for an English sentence.

    ``data`` is a ``TranslationData`` (vocabularies and num_steps). One line
    per hypothesis, best score first: score, log-probability, the French words,
    and '(unfinished)' for one that reached num_steps words without '<eos>'.
    Unknown source words are listed, as in chapter 13's widget.
    """
    from .translation import encode_sentences, normalize
    if not isinstance(text, str) or not text.strip():
        return "Type an English sentence, e.g. i'm home ."
    tokens = normalize(text).split()
    src, src_valid_len = encode_sentences([tokens], data.src_vocab, data.num_steps)
    found = beam_search(model, src, src_valid_len, bos=data.tgt_vocab["<bos>"],
                        eos=data.tgt_vocab["<eos>"], beam_size=beam_size,
                        max_steps=data.num_steps, alpha=alpha)
    unknown = [t for t in tokens if t not in data.src_vocab]
    lines = [f"English: {' '.join(f'<unk>({t})' if t in unknown else t for t in tokens)}",
             f"{'score':>7s} {'log P':>7s}  French"]
    for h in found[:positive_int("shown", shown)]:
        words = " ".join(data.tgt_vocab.to_tokens(h.indices)) or "(nothing)"
        lines.append(f"{h.score:7.3f} {h.log_prob:7.3f}  {words}"
                     + ("" if h.finished else "  (unfinished)"))
    if len(found) > shown:
        lines.append(f"... and {len(found) - shown} more")
    if len(tokens) + 1 > data.num_steps:
        lines.append(f"Only the first {data.num_steps - 1} words were read.")
    return "\n".join(lines)
