"""The book's from-scratch language models as ``nn.Module``s, and ``FastGRU``.

The chapters define these models in their notebooks; the copies here exist so
that ``utils.benchmark`` can time and train all of them side by side. They are
named ``Benchmark...`` so that they are not taken for the chapters' classes
(chapter 7's ``GRUScratch`` is a plain class with a state of shape (n, h); these
are ``nn.Module``s with PyTorch's state layout), and only ``FastGRU``, which
chapter 16 uses, is exported as ``utils.FastGRU``. Each one
mirrors its chapter: the same equations, the same initialization (weights from
N(0, 0.01^2), biases at zero, drawn in the chapter's order) and the same
structure, so the same cost per character:

- ``BenchmarkRNN``: chapter 4, one-hot input, H_t = tanh(X_t W_xh + H_{t-1} W_hh + b_h);
- ``BenchmarkGRU``: chapter 7, one-hot input and a separate product for every gate
  (``reset_after=False`` is Cho et al.'s form, which chapter 7 trains;
  ``reset_after=True`` is PyTorch's); with ``num_layers > 1`` the layers are
  stacked as chapter 10 stacks RNN layers, with ``dropout`` between them;
- ``BenchmarkLSTM``: chapter 8, one-hot input, a separate product for every gate;
- ``FastGRU``: the GRU of chapter 16, rewritten for speed: one product for the
  three gates of the input and one for those of the state, an embedding lookup
  instead of the one-hot product, and the input products of all time steps done
  before the loop. It computes what ``nn.GRU`` computes (same gate order, the
  reset gate applied after the product), so it can take an ``nn.GRU``'s weights.

All of them follow ``utils.RNNModel``'s interface: ``logits, state = model(X, state)``
with X (n, T) token indices, logits (T * n, V) time-major, and states laid out as
PyTorch's layers lay them out, (num_layers, n, h) (a pair of those for the LSTM);
``state=None`` means zeros. So ``utils.train_language_model`` trains them unchanged.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .checks import positive_int


def _normal(sigma: float, *shape: int) -> nn.Parameter:
    return nn.Parameter(torch.randn(*shape) * sigma)


def _zeros(*shape: int) -> nn.Parameter:
    return nn.Parameter(torch.zeros(*shape))


def _zero_state(num_layers, batch_size, num_hiddens, device):
    return torch.zeros(num_layers, batch_size, num_hiddens, device=device)


class BenchmarkRNN(nn.Module):
    """Chapter 4's RNN language model: one-hot input, tanh recurrence, output layer."""

    def __init__(self, vocab_size: int, num_hiddens: int, sigma: float = 0.01):
        super().__init__()
        self.vocab_size, self.num_hiddens = positive_int("vocab_size", vocab_size), \
            positive_int("num_hiddens", num_hiddens)
        self.W_xh = _normal(sigma, vocab_size, num_hiddens)     # (d, h)
        self.W_hh = _normal(sigma, num_hiddens, num_hiddens)    # (h, h)
        self.b_h = _zeros(num_hiddens)                          # (h,)
        self.W_hq = _normal(sigma, num_hiddens, vocab_size)     # (h, q)
        self.b_q = _zeros(vocab_size)                           # (q,)

    def begin_state(self, batch_size: int, device=None) -> torch.Tensor:
        return _zero_state(1, batch_size, self.num_hiddens, device)

    def forward(self, X: torch.Tensor, state=None):
        """X: (n, T) token indices; state: (1, n, h). Returns (T*n, q) logits and (1, n, h)."""
        H = self.begin_state(X.shape[0], X.device)[0] if state is None else state[0]
        states = []
        for X_t in F.one_hot(X.T, self.vocab_size).to(self.W_hq.dtype):     # X_t: (n, d)
            H = torch.tanh(X_t @ self.W_xh + H @ self.W_hh + self.b_h)
            states.append(H)
        logits = torch.stack(states).reshape(-1, self.num_hiddens) @ self.W_hq + self.b_q
        return logits, H[None]


class BenchmarkGRULayer(nn.Module):
    """One layer of chapter 7's GRU: every gate has its own products with X_t and H."""

    def __init__(self, num_inputs: int, num_hiddens: int, sigma: float = 0.01,
                 reset_after: bool = False):
        super().__init__()
        for g in "zrh":      # update gate, reset gate, candidate: chapter 7's order
            self.register_parameter(f"W_x{g}", _normal(sigma, num_inputs, num_hiddens))
            self.register_parameter(f"W_h{g}", _normal(sigma, num_hiddens, num_hiddens))
            self.register_parameter(f"b_{g}", _zeros(num_hiddens))
        self.register_parameter("b_hh", _zeros(num_hiddens) if reset_after else None)

    def step(self, X_t: torch.Tensor, H: torch.Tensor) -> torch.Tensor:
        """X_t: (n, d); H: (n, h). The new state (n, h), as in chapter 7's gru_step."""
        Z_t = torch.sigmoid(X_t @ self.W_xz + H @ self.W_hz + self.b_z)
        R_t = torch.sigmoid(X_t @ self.W_xr + H @ self.W_hr + self.b_r)
        if self.b_hh is None:      # Cho et al.: reset the state, then multiply
            H_tilde = torch.tanh(X_t @ self.W_xh + (R_t * H) @ self.W_hh + self.b_h)
        else:                      # PyTorch: multiply, then reset the product
            H_tilde = torch.tanh(X_t @ self.W_xh + self.b_h + R_t * (H @ self.W_hh + self.b_hh))
        return Z_t * H + (1 - Z_t) * H_tilde

    def forward(self, inputs: torch.Tensor, H: torch.Tensor):
        """inputs: (T, n, d); H: (n, h). Returns all states (T, n, h) and the last (n, h)."""
        states = []
        for X_t in inputs:
            H = self.step(X_t, H)
            states.append(H)
        return torch.stack(states), H


class BenchmarkGRU(nn.Module):
    """Chapter 7's GRU language model (one-hot input); several layers stack as in chapter 10.

    ``dropout`` acts between layers only, where ``nn.GRU``'s ``dropout`` acts.
    """

    def __init__(self, vocab_size: int, num_hiddens: int, num_layers: int = 1,
                 dropout: float = 0.0, sigma: float = 0.01, reset_after: bool = False):
        super().__init__()
        self.vocab_size, self.num_hiddens = positive_int("vocab_size", vocab_size), \
            positive_int("num_hiddens", num_hiddens)
        self.num_layers, self.dropout = positive_int("num_layers", num_layers), dropout
        self.layers = nn.ModuleList(
            BenchmarkGRULayer(vocab_size if l == 0 else num_hiddens, num_hiddens, sigma, reset_after)
            for l in range(num_layers))
        self.W_hq = _normal(sigma, num_hiddens, vocab_size)     # (h, q)
        self.b_q = _zeros(vocab_size)                           # (q,)

    def begin_state(self, batch_size: int, device=None) -> torch.Tensor:
        return _zero_state(self.num_layers, batch_size, self.num_hiddens, device)

    def forward(self, X: torch.Tensor, state=None):
        """X: (n, T) token indices; state: (L, n, h). Returns (T*n, q) logits and (L, n, h)."""
        if state is None:
            state = self.begin_state(X.shape[0], X.device)
        outputs, last = F.one_hot(X.T, self.vocab_size).to(self.W_hq.dtype), []   # (T, n, d)
        for l, (layer, H) in enumerate(zip(self.layers, state)):
            if l > 0:
                outputs = F.dropout(outputs, self.dropout, self.training)
            outputs, H = layer(outputs, H)                               # (T, n, h)
            last.append(H)
        logits = outputs.reshape(-1, self.num_hiddens) @ self.W_hq + self.b_q
        return logits, torch.stack(last)


class BenchmarkLSTM(nn.Module):
    """Chapter 8's LSTM language model: one-hot input, a separate product for every gate."""

    def __init__(self, vocab_size: int, num_hiddens: int, sigma: float = 0.01):
        super().__init__()
        self.vocab_size, self.num_hiddens = positive_int("vocab_size", vocab_size), \
            positive_int("num_hiddens", num_hiddens)
        for g in "ifoc":     # input, forget, output gate; candidate cell: chapter 8's order
            self.register_parameter(f"W_x{g}", _normal(sigma, vocab_size, num_hiddens))
            self.register_parameter(f"W_h{g}", _normal(sigma, num_hiddens, num_hiddens))
            self.register_parameter(f"b_{g}", _zeros(num_hiddens))
        self.W_hq = _normal(sigma, num_hiddens, vocab_size)     # (h, q)
        self.b_q = _zeros(vocab_size)                           # (q,)

    def begin_state(self, batch_size: int, device=None):
        return (_zero_state(1, batch_size, self.num_hiddens, device),
                _zero_state(1, batch_size, self.num_hiddens, device))

    def forward(self, X: torch.Tensor, state=None):
        """X: (n, T); state: (H, C), each (1, n, h). Returns (T*n, q) logits and (H, C)."""
        H, C = self.begin_state(X.shape[0], X.device) if state is None else state
        H, C, outputs = H[0], C[0], []
        for X_t in F.one_hot(X.T, self.vocab_size).to(self.W_hq.dtype):     # X_t: (n, d)
            I_t = torch.sigmoid(X_t @ self.W_xi + H @ self.W_hi + self.b_i)
            F_t = torch.sigmoid(X_t @ self.W_xf + H @ self.W_hf + self.b_f)
            O_t = torch.sigmoid(X_t @ self.W_xo + H @ self.W_ho + self.b_o)
            C_tilde = torch.tanh(X_t @ self.W_xc + H @ self.W_hc + self.b_c)
            C = F_t * C + I_t * C_tilde
            H = O_t * torch.tanh(C)
            outputs.append(H)
        logits = torch.stack(outputs).reshape(-1, self.num_hiddens) @ self.W_hq + self.b_q
        return logits, (H[None], C[None])


class FastGRU(nn.Module):
    """A from-scratch GRU language model written for speed; it computes what ``nn.GRU`` does.

    Three changes to chapter 7's loop, each of which leaves the function unchanged:

    1. the three gates share one product: X_t [W_xr W_xz W_xh] is one (d, 3h) matrix
       product instead of three, and likewise H [W_hr W_hz W_hh];
    2. the input is looked up, not multiplied: one_hot(x) W is row x of W, so
       without ``embed_size`` the rows of W_x are read directly; with it, an
       ``nn.Embedding`` of that size comes first, as in ``utils.RNNModel``;
    3. the input products of all T steps are one (T*n, d) x (d, 3h) product before
       the loop, which is left with one (n, h) x (h, 3h) product per step.

    Gate order (r, z, n), the two biases and the reset gate applied after the product,
    r * (H W_hh + b_hh), are ``nn.GRU``'s, so ``FastGRU.from_rnn_model`` can copy an
    ``RNNModel(nn.GRU(...))`` and give the same outputs. Weights are stored for
    ``X @ W`` (transposed with respect to PyTorch's) and start as ``nn.GRU``'s do:
    uniform in (-1/sqrt(h), 1/sqrt(h)); the embedding and output layer as
    ``nn.Embedding``'s and ``nn.Linear``'s.
    """

    def __init__(self, vocab_size: int, num_hiddens: int, embed_size: int | None = None):
        super().__init__()
        self.vocab_size, self.num_hiddens = positive_int("vocab_size", vocab_size), \
            positive_int("num_hiddens", num_hiddens)
        self.embedding = (nn.Embedding(vocab_size, positive_int("embed_size", embed_size))
                          if embed_size is not None else None)
        d, h = embed_size or vocab_size, num_hiddens
        bound = h ** -0.5
        self.W_x = nn.Parameter(torch.empty(d, 3 * h).uniform_(-bound, bound))   # [W_xr W_xz W_xh]
        self.W_h = nn.Parameter(torch.empty(h, 3 * h).uniform_(-bound, bound))   # [W_hr W_hz W_hh]
        self.b_x = nn.Parameter(torch.empty(3 * h).uniform_(-bound, bound))      # (3h,)
        self.b_h = nn.Parameter(torch.empty(3 * h).uniform_(-bound, bound))      # (3h,)
        self.output = nn.Linear(h, vocab_size)

    def begin_state(self, batch_size: int, device=None) -> torch.Tensor:
        return _zero_state(1, batch_size, self.num_hiddens, device)

    def forward(self, X: torch.Tensor, state=None):
        """X: (n, T) token indices; state: (1, n, h). Returns (T*n, q) logits and (1, n, h)."""
        n, T, h = X.shape[0], X.shape[1], self.num_hiddens
        H = self.begin_state(n, X.device)[0] if state is None else state[0]   # (n, h)
        if self.embedding is None:     # rows of W_x: what one_hot(X) @ W_x would give
            gates_x = F.embedding(X.T, self.W_x) + self.b_x                  # (T, n, 3h)
        else:                          # all T steps in one product
            inputs = self.embedding(X.T).reshape(T * n, -1)                  # (T*n, e)
            gates_x = torch.addmm(self.b_x, inputs, self.W_x).reshape(T, n, 3 * h)
        x_rz, x_n = gates_x.split([2 * h, h], dim=2)      # (T, n, 2h), (T, n, h)
        states = []
        for x_rz_t, x_n_t in zip(x_rz, x_n):
            h_rz, h_n = torch.addmm(self.b_h, H, self.W_h).split([2 * h, h], dim=1)
            R, Z = torch.sigmoid(x_rz_t + h_rz).chunk(2, dim=1)            # (n, h) each
            H_tilde = torch.tanh(torch.addcmul(x_n_t, R, h_n))             # x_n + R * h_n
            H = torch.lerp(H_tilde, H.to(H_tilde.dtype), Z)                 # Z*H + (1-Z)*H_tilde
            states.append(H)
        logits = self.output(torch.stack(states).reshape(T * n, h))        # (T*n, q)
        return logits, H[None]

    @classmethod
    def from_rnn_model(cls, model) -> "FastGRU":
        """A FastGRU with copies of the weights of ``utils.RNNModel(nn.GRU(...), ...)`` (one layer)."""
        rnn = getattr(model, "rnn", None)
        if not isinstance(rnn, nn.GRU) or rnn.num_layers != 1 or rnn.bidirectional \
                or not rnn.bias:
            raise ValueError("from_rnn_model copies a utils.RNNModel around a one-layer, "
                             "one-directional nn.GRU with biases; got "
                             f"{type(rnn).__name__ if rnn is not None else type(model).__name__}.")
        embed_size = model.embedding.embedding_dim if model.embedding is not None else None
        fast = cls(model.vocab_size, rnn.hidden_size, embed_size).to(rnn.weight_ih_l0.device)
        with torch.no_grad():
            fast.W_x.copy_(rnn.weight_ih_l0.T)
            fast.W_h.copy_(rnn.weight_hh_l0.T)
            fast.b_x.copy_(rnn.bias_ih_l0)
            fast.b_h.copy_(rnn.bias_hh_l0)
            fast.output.load_state_dict(model.output.state_dict())
            if embed_size is not None:
                fast.embedding.load_state_dict(model.embedding.state_dict())
        return fast
