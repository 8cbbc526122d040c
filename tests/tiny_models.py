"""Tiny models and data shared by the tests of bad inputs, devices and the training contract."""

from __future__ import annotations

import torch
from torch import nn

from utils import seq2seq as S
from utils import translation as T


class TinyLM(nn.Module):
    """An embedding, a GRU and a dense layer over ``vocab_size`` tokens (``out_size`` scores)."""

    def __init__(self, vocab_size: int = 6, out_size: int | None = None):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, 4)
        self.rnn = nn.GRU(4, 8)
        self.dense = nn.Linear(8, out_size or vocab_size)

    def forward(self, X, state):
        out, state = self.rnn(self.embedding(X.T), state)
        return self.dense(out).reshape(-1, self.dense.out_features), state


PAIRS = [(["a", "b"], ["x", "y"]), (["b"], ["y"]), (["a"], ["x"]), (["b", "a"], ["y", "x"])]


def tiny_translation(copies: int = 3, seed: int = 0):
    """(data, source vocabulary, target vocabulary, model): a seq2seq small enough for a unit test."""
    pairs = PAIRS * copies
    src_vocab, tgt_vocab = T.build_vocabs(pairs, min_freq=1)
    data = T.encode(pairs, src_vocab, tgt_vocab, 4)
    torch.manual_seed(seed)
    model = S.EncoderDecoder(S.Seq2SeqEncoder(len(src_vocab), 4, 8, 1),
                             S.Seq2SeqDecoder(len(tgt_vocab), 4, 8, 1))
    return data, src_vocab, tgt_vocab, model
