"""Chapter 7's GRU from scratch, for the second half of the chapter.

Chapter 7 (``chapters/07_gru.ipynb``) writes a GRU language model from plain
tensors (``init_gru_params``, ``gru_step``, ``gru_forward``, ``GRUScratch``) and
gives its names to the weights of an ``nn.GRU`` (``params_from_nn_gru``); its
second half (``chapters/07_gru_training.ipynb``) trains the model and looks
inside a trained ``nn.GRU`` with ``gru_step``. The second half imports from here
so that it runs on its own. Nothing here is new: the functions and the class
compute exactly what the chapter's cells compute (``tests/test_gru_scratch.py``
runs the chapter's cells and compares the two, bit for bit). Read the chapter,
not this file, to learn them.

``reset_after=False`` is Cho et al.'s GRU, which resets the state before the
matrix product; ``reset_after=True`` is the form ``nn.GRU`` computes, which
resets after it and needs the extra bias ``b_hh``. Inputs are time-major,
``(T, n, d)``; states are ``(n, h)``.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

__all__ = ["init_gru_params", "gru_step", "gru_forward", "GRUScratch", "params_from_nn_gru"]


def init_gru_params(vocab_size, num_hiddens, sigma=0.01, reset_after=False):
    """The parameters of a one-layer GRU language model, by name."""
    d = q = vocab_size
    h = num_hiddens
    p = {}
    for g in "zrh":      # update gate, reset gate, candidate state
        p[f"W_x{g}"] = torch.randn(d, h) * sigma             # (d, h)
        p[f"W_h{g}"] = torch.randn(h, h) * sigma             # (h, h)
        p[f"b_{g}"] = torch.zeros(h)                         # (h,)
    if reset_after:      # PyTorch's variant
        p["b_hh"] = torch.zeros(h)                           # (h,)
    p["W_hq"] = torch.randn(h, q) * sigma                    # (h, q)
    p["b_q"] = torch.zeros(q)                                # (q,)
    for param in p.values():
        param.requires_grad_(True)
    return p


def gru_step(X_t, H, p, reset_after=False):
    """X_t: (n, d); H: (n, h). Returns the new state and the gates Z_t, R_t."""
    Z_t = torch.sigmoid(X_t @ p["W_xz"] + H @ p["W_hz"] + p["b_z"])  # (n, h)
    R_t = torch.sigmoid(X_t @ p["W_xr"] + H @ p["W_hr"] + p["b_r"])  # (n, h)
    if reset_after:      # PyTorch's variant
        H_tilde = torch.tanh(X_t @ p["W_xh"] + p["b_h"]
                             + R_t * (H @ p["W_hh"] + p["b_hh"]))
    else:                # Cho et al.: reset the state, then multiply
        H_tilde = torch.tanh(X_t @ p["W_xh"] + (R_t * H) @ p["W_hh"]
                             + p["b_h"])                            # (n, h)
    H = Z_t * H + (1 - Z_t) * H_tilde                               # (n, h)
    return H, Z_t, R_t


def gru_forward(inputs, H, p, reset_after=False):
    """inputs: (T, n, d); H: (n, h). Returns all states (T, n, h), last H."""
    states = []
    for X_t in inputs:                                   # X_t: (n, d)
        H, _, _ = gru_step(X_t, H, p, reset_after)
        states.append(H)
    return torch.stack(states), H


class GRUScratch:
    """A character-level GRU language model made of plain tensors."""

    def __init__(self, vocab_size, num_hiddens, sigma=0.01, reset_after=False,
                 params=None):
        self.vocab_size, self.num_hiddens = vocab_size, num_hiddens
        self.reset_after = reset_after
        self.p = params or init_gru_params(vocab_size, num_hiddens, sigma,
                                           reset_after)
        self.params = list(self.p.values())

    def begin_state(self, batch_size, device=None):
        return torch.zeros(batch_size, self.num_hiddens, device=device)

    def __call__(self, X, state):
        """X: (n, T) token indices; state: (n, h)."""
        inputs = F.one_hot(X.T, self.vocab_size).float()     # (T, n, d)
        states, state = gru_forward(inputs, state, self.p, self.reset_after)
        logits = (states.reshape(-1, self.num_hiddens) @ self.p["W_hq"]
                  + self.p["b_q"])                           # (T*n, q)
        return logits, state


def params_from_nn_gru(gru):
    """Our names for the weights of a one-layer nn.GRU (reset_after form)."""
    W_ir, W_iz, W_in = gru.weight_ih_l0.chunk(3)   # PyTorch's order: r, z, n
    W_hr, W_hz, W_hn = gru.weight_hh_l0.chunk(3)   # each (h, d) or (h, h)
    b_ir, b_iz, b_in = gru.bias_ih_l0.chunk(3)
    b_hr, b_hz, b_hn = gru.bias_hh_l0.chunk(3)
    return {"W_xz": W_iz.T, "W_hz": W_hz.T, "b_z": b_iz + b_hz,
            "W_xr": W_ir.T, "W_hr": W_hr.T, "b_r": b_ir + b_hr,
            "W_xh": W_in.T, "W_hh": W_hn.T, "b_h": b_in, "b_hh": b_hn}
