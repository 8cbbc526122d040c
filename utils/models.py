"""``RNNModel``: a language model around any of PyTorch's recurrent layers.

Chapter 5 builds this class step by step; the later chapters (GRU, LSTM, deep
and bidirectional networks) and the playground reuse it from here.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class RNNModel(nn.Module):
    """Input layer, a recurrent layer (``nn.RNN``, ``nn.GRU``, ``nn.LSTM``), output layer.

    ``rnn`` is a time-major recurrent layer (``batch_first=False``). Without
    ``embed_size`` the input is one-hot and ``rnn.input_size`` must equal
    ``vocab_size``; with it, an ``nn.Embedding`` of that size comes first and
    ``rnn.input_size`` must equal ``embed_size``. ``dropout`` is applied to the
    inputs and to the outputs of the recurrent layer. Called as
    ``logits, state = model(X, state)`` with ``X`` of shape (batch, steps);
    ``logits`` has shape (steps * batch, vocab_size), time-major, as
    ``utils.train_language_model`` expects. A ``None`` state means zeros.
    """

    def __init__(self, rnn: nn.RNNBase, vocab_size: int, embed_size: int | None = None,
                 dropout: float = 0.0):
        super().__init__()
        if not isinstance(rnn, nn.RNNBase):
            raise TypeError(f"rnn must be a recurrent layer such as nn.RNN, nn.GRU or nn.LSTM, "
                            f"got {type(rnn).__name__}.")
        if rnn.batch_first:
            raise ValueError("RNNModel feeds the recurrent layer time-major inputs; build it "
                             "with batch_first=False (the default).")
        expected = embed_size or vocab_size
        if rnn.input_size != expected:
            what = f"embed_size={embed_size}" if embed_size else f"vocab_size={vocab_size} (one-hot)"
            raise ValueError(f"The recurrent layer takes inputs of size {rnn.input_size}, but "
                             f"the input layer gives {expected} ({what}); make them equal.")
        self.rnn, self.vocab_size = rnn, vocab_size
        self.embedding = nn.Embedding(vocab_size, embed_size) if embed_size else None
        self.dropout = nn.Dropout(dropout)
        directions = 2 if rnn.bidirectional else 1
        self.output = nn.Linear(directions * rnn.hidden_size, vocab_size)

    def forward(self, X: torch.Tensor, state=None):
        """X: (n, T) token indices; returns logits (T * n, q) and the new state."""
        if self.embedding is None:
            inputs = F.one_hot(X.T, self.vocab_size).float()   # (T, n, d)
        else:
            inputs = self.dropout(self.embedding(X.T))         # (T, n, e)
        outputs, state = self.rnn(inputs, state)               # (T, n, h)
        outputs = self.dropout(outputs)
        logits = self.output(outputs.reshape(-1, outputs.shape[-1]))
        return logits, state
