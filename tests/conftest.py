"""Shared fixtures: the Time Machine corpus, a short train/valid split, two tiny models."""

from __future__ import annotations

import os

import pytest
import torch
from torch import nn

import utils


@pytest.fixture(autouse=True)
def _restore_global_torch_settings():
    """``set_seed`` switches on deterministic algorithms for the whole process; undo it."""
    enabled = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    cublas = os.environ.get("CUBLAS_WORKSPACE_CONFIG")
    yield
    torch.use_deterministic_algorithms(enabled, warn_only=warn_only)
    if cublas is None:
        os.environ.pop("CUBLAS_WORKSPACE_CONFIG", None)
    else:
        os.environ["CUBLAS_WORKSPACE_CONFIG"] = cublas


@pytest.fixture(scope="session")
def time_machine():
    """(corpus, vocab) of The Time Machine, characters; never modify them in a test."""
    return utils.load_corpus("time_machine", "char")


@pytest.fixture(scope="session")
def small_split(time_machine):
    """(train, valid): the first 12,000 characters split 90/10 (10,800 + 1,200 tokens)."""
    corpus, _ = time_machine
    return utils.train_valid_split(corpus[:12_000])


class RNNScratch:
    """A from-scratch tanh RNN in the shape ``train_language_model`` expects.

    X: (batch, steps) -> logits (steps * batch, vocab_size), time-major; state (batch, hidden).
    """

    def __init__(self, vocab_size: int, hidden: int = 32, generator: torch.Generator | None = None):
        def init(*shape):
            return (torch.randn(*shape, generator=generator) * 0.1).requires_grad_()

        self.hidden = hidden
        self.W_xh, self.W_hh, self.W_hq = init(vocab_size, hidden), init(hidden, hidden), \
            init(hidden, vocab_size)
        self.b_h = torch.zeros(hidden, requires_grad=True)
        self.b_q = torch.zeros(vocab_size, requires_grad=True)
        self.params = [self.W_xh, self.W_hh, self.b_h, self.W_hq, self.b_q]
        self.calls = 0

    def begin_state(self, batch_size, device):
        return torch.zeros(batch_size, self.hidden, device=device)

    def __call__(self, X, state):
        self.calls += 1
        H, outputs = state, []
        for x in X.T:                                   # x: (batch,)
            H = torch.tanh(self.W_xh[x] + H @ self.W_hh + self.b_h)
            outputs.append(H @ self.W_hq + self.b_q)    # (batch, vocab_size)
        return torch.cat(outputs, 0), H


class TorchRNN(nn.Module):
    """The same model as an nn.Module around nn.RNN, without begin_state."""

    def __init__(self, vocab_size: int, hidden: int = 32):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, hidden)
        self.rnn = nn.RNN(hidden, hidden)
        self.output = nn.Linear(hidden, vocab_size)

    def forward(self, X, state):
        Y, state = self.rnn(self.embedding(X.T), state)    # (steps, batch, hidden)
        return self.output(Y).reshape(-1, self.output.out_features), state


@pytest.fixture(scope="session")
def make_scratch_rnn():
    """make_scratch_rnn(vocab_size=28, hidden=32, seed=0) -> a fresh RNNScratch."""
    def make(vocab_size: int = 28, hidden: int = 32, seed: int | None = 0):
        generator = None if seed is None else torch.Generator().manual_seed(seed)
        return RNNScratch(vocab_size, hidden, generator)
    return make


@pytest.fixture(scope="session")
def make_torch_rnn():
    """make_torch_rnn(vocab_size=28, hidden=32, seed=0) -> a fresh TorchRNN."""
    def make(vocab_size: int = 28, hidden: int = 32, seed: int = 0):
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            return TorchRNN(vocab_size, hidden)
    return make
