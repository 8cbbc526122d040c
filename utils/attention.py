"""Chapter 15's attention, for the second half of the chapter.

Chapter 15 (``chapters/15_attention.ipynb``) writes a softmax that gives padding
a weight of exactly zero (``masked_softmax``), additive attention
(``AdditiveAttention``) and chapter 13's decoder with attention over the
encoder's outputs (``AttentionDecoder``); its second part
(``chapters/15_attention_training.ipynb``) trains that decoder, evaluates it and
looks at its weights, and its third (``chapters/15_attention_two_directions.ipynb``)
gives it a bidirectional encoder. Both import from here so that they run on
their own. Nothing here is new: the functions and classes are the chapter's code
(``tests/test_attention.py`` runs the chapter's cells and compares the two, bit
for bit). Read the chapter, not this file, to learn them.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

import utils

__all__ = ["masked_softmax", "AdditiveAttention", "AttentionDecoder"]


def masked_softmax(scores, valid_len):
    """Softmax over the last axis; the positions >= valid_len get weight 0.

    scores: (n, m, T), m rows of T scores for each of n sentences; valid_len:
    (n,), the number of real positions in each sentence, or None (all real).
    """
    if valid_len is None:
        return F.softmax(scores, dim=-1)
    n, T = scores.shape[0], scores.shape[-1]
    if (valid_len.shape != (n,) or bool((valid_len < 1).any())
            or bool((valid_len > T).any())):
        raise ValueError(f"valid_len must hold one length from 1 to {T} for "
                         f"each of the {n} sentences; got {valid_len.tolist()}.")
    mask = torch.arange(T, device=scores.device) < valid_len[:, None]  # (n, T)
    scores = scores.masked_fill(~mask[:, None, :], float("-inf"))   # (n, m, T)
    return F.softmax(scores, dim=-1)


class AdditiveAttention(nn.Module):
    """Scores a(q, k) = tanh(q W_q + k W_k) w_v (Bahdanau et al.), contexts."""

    def __init__(self, query_size, key_size, num_hiddens):
        super().__init__()
        self.W_q = nn.Linear(query_size, num_hiddens, bias=False)
        self.W_k = nn.Linear(key_size, num_hiddens, bias=False)
        self.w_v = nn.Linear(num_hiddens, 1, bias=False)
        self.attention_weights = None       # (n, m, T) after every call

    def forward(self, queries, keys, values, valid_len=None):
        """queries (n, m, d_q), keys (n, T, d_k), values (n, T, d_v) and
        valid_len (n,) -> the m contexts of each sentence, (n, m, d_v)."""
        features = torch.tanh(self.W_q(queries)[:, :, None, :]    # (n, m, 1, d_a)
                              + self.W_k(keys)[:, None, :, :])    # (n, 1, T, d_a)
        scores = self.w_v(features).squeeze(-1)                   # (n, m, T)
        self.attention_weights = masked_softmax(scores, valid_len)  # (n, m, T)
        return self.attention_weights @ values                    # (n, m, d_v)


class AttentionDecoder(nn.Module):
    """Chapter 13's decoder with additive attention over the encoder outputs."""

    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers,
                 dropout=0.0):
        super().__init__()
        h = num_hiddens
        self.attention = AdditiveAttention(query_size=h, key_size=h,
                                           num_hiddens=h)
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = nn.GRU(embed_size + num_hiddens, num_hiddens, num_layers,
                          dropout=dropout)
        self.dense = nn.Linear(num_hiddens, vocab_size)
        self.apply(utils.init_seq2seq)
        self.attention_weights = None            # (n, T', T) after every call

    def init_state(self, enc_outputs, enc_state, src_valid_len=None):
        # enc_outputs (T, n, h) -> (n, T, h): the keys and values of every step
        return enc_outputs.transpose(0, 1), enc_state, src_valid_len

    def reorder_state(self, state, index):
        """The state of the rows `index` of the batch, in that order."""
        enc_outputs, hidden, src_valid_len = state
        return (enc_outputs[index], hidden[:, index],
                None if src_valid_len is None else src_valid_len[index])

    def forward(self, X, state):
        """X (n, T') target tokens -> logits (n, T', V) and the next state."""
        enc_outputs, hidden, src_valid_len = state  # (n,T,h), (L,n,h), (n,)
        embs = self.embedding(X.T)                    # (T', n, e)
        outputs, weights = [], []
        for emb in embs:                              # emb: (n, e)
            query = hidden[-1][:, None, :]            # (n, 1, h)
            context = self.attention(query, enc_outputs, enc_outputs,
                                     src_valid_len)   # (n, 1, h)
            step_input = torch.cat((emb[None], context.transpose(0, 1)),
                                   dim=-1)            # (1, n, e + h)
            output, hidden = self.rnn(step_input, hidden)   # (1, n, h)
            outputs.append(output[0])
            weights.append(self.attention.attention_weights[:, 0])  # (n, T)
        self.attention_weights = torch.stack(weights, 1)           # (n, T', T)
        logits = self.dense(torch.stack(outputs, 1))               # (n, T', V)
        return logits, (enc_outputs, hidden, src_valid_len)
