"""The NumPy code of chapters 6 and 9, for the second half of each chapter.

Chapter 9 (``chapters/09_numpy_framework.ipynb``) writes a recurrent framework unit
by unit and checks every unit against finite differences; its second half
(``chapters/09_numpy_training.ipynb``) trains it. Chapter 6
(``chapters/06_bptt.ipynb``) writes a plain tanh RNN and its backward pass through
time as functions (``init_params``, ``rnn_forward``, ``cross_entropy``,
``rnn_backward``, at the end of this file); its second half
(``chapters/06_truncation_clipping.ipynb``) uses them to study truncation and
clipping. Each second half imports from here so that it runs on its own. Nothing
here is new: the classes and functions compute exactly what the chapters' cells
compute (``tests/test_numpy_rnn.py`` runs the chapters' cells and compares the two,
bit for bit). Read the chapters, not this file, to learn them. The gradient check
(``numerical_gradient``, ``relative_error``) is shared by both chapters.

A unit's ``forward`` pushes onto ``self.stack`` what its ``backward`` pops, so the
backward calls must mirror the forward calls in reverse order. Arrays are float64,
time-major: inputs ``(T, n, d)``, states ``(n, h)``.
"""

from __future__ import annotations

import numpy as np
import torch

from .sequences import sequential_batches
from .verify import below

__all__ = ["Param", "Unit", "Sigmoid", "Tanh", "init_weight", "Dense", "Gate", "Multiply",
           "Candidate", "GRUOutput", "Recurrent", "GRU", "Memory", "LSTM", "LastStep",
           "Sequential", "mse_loss", "Adam", "numerical_gradient", "relative_error",
           "gradient_check", "check",
           "text_batch", "init_params", "rnn_forward", "cross_entropy", "rnn_backward",
           "last_step_gradient_norms"]


class Param:
    """A trainable array and the gradient that backward() accumulates into."""

    def __init__(self, value):
        self.value = value
        self.grad = np.zeros_like(value)


class Unit:
    """A piece of a network with forward() and backward() and a stack between them."""

    def __init__(self):
        self.stack = []

    def parts(self):
        """The units this unit is built from (attributes or lists of them)."""
        found = []
        for value in vars(self).values():
            items = value if isinstance(value, list) else [value]
            found += [item for item in items if isinstance(item, Unit)]
        return found

    def params(self):
        own = [v for v in vars(self).values() if isinstance(v, Param)]
        return own + [p for part in self.parts() for p in part.params()]

    def clear(self):
        """Empty the stacks, after a forward pass that no backward pass follows."""
        self.stack.clear()
        for part in self.parts():
            part.clear()


class Sigmoid(Unit):
    def forward(self, A):
        Y = 0.5 * (1 + np.tanh(0.5 * A))    # the logistic function, without overflow
        self.stack.append(Y)
        return Y

    def backward(self, dY):
        Y = self.stack.pop()
        return dY * Y * (1 - Y)


class Tanh(Unit):
    def forward(self, A):
        Y = np.tanh(A)
        self.stack.append(Y)
        return Y

    def backward(self, dY):
        Y = self.stack.pop()
        return dY * (1 - Y**2)


def init_weight(rng, rows, cols):
    """Normal with standard deviation 1/sqrt(rows), from the generator ``rng``."""
    return rng.normal(0, 1 / np.sqrt(rows), (rows, cols))


class Dense(Unit):
    """Y = X W + b."""

    def __init__(self, num_inputs, num_outputs, rng):
        super().__init__()
        self.W = Param(init_weight(rng, num_inputs, num_outputs))
        self.b = Param(np.zeros((1, num_outputs)))

    def forward(self, X):
        self.stack.append(X)
        return X @ self.W.value + self.b.value

    def backward(self, dY):
        X = self.stack.pop()
        self.W.grad += X.T @ dY
        self.b.grad += dY.sum(axis=0, keepdims=True)
        return dY @ self.W.value.T


class Gate(Unit):
    """G = act(X W + H Wh + b) for one time step; act is Sigmoid() or Tanh()."""

    def __init__(self, num_inputs, num_hiddens, act, rng):
        super().__init__()
        self.W = Param(init_weight(rng, num_inputs, num_hiddens))
        self.Wh = Param(init_weight(rng, num_hiddens, num_hiddens))
        self.b = Param(np.zeros((1, num_hiddens)))
        self.act = act

    def forward(self, X, H):
        self.stack.append((X, H))
        return self.act.forward(X @ self.W.value + H @ self.Wh.value + self.b.value)

    def backward(self, dG):
        X, H = self.stack.pop()
        dA = self.act.backward(dG)
        self.W.grad += X.T @ dA
        self.Wh.grad += H.T @ dA
        self.b.grad += dA.sum(axis=0, keepdims=True)
        return dA @ self.W.value.T, dA @ self.Wh.value.T      # dX, dH


class Multiply(Unit):
    """Y = A * B, elementwise."""

    def forward(self, A, B):
        self.stack.append((A, B))
        return A * B

    def backward(self, dY):
        A, B = self.stack.pop()
        return dY * B, dY * A


class Candidate(Unit):
    """The GRU's candidate state, reset before the product: tanh(X W + (R * H) Wh + b)."""

    def __init__(self, num_inputs, num_hiddens, rng):
        super().__init__()
        self.reset_state = Multiply()
        self.gate = Gate(num_inputs, num_hiddens, Tanh(), rng)

    def forward(self, X, H, R):
        return self.gate.forward(X, self.reset_state.forward(R, H))

    def backward(self, dH_cand):
        dX, dRH = self.gate.backward(dH_cand)
        dR, dH = self.reset_state.backward(dRH)
        return dX, dH, dR


class GRUOutput(Unit):
    """H = Z * H_prev + (1 - Z) * H_cand."""

    def forward(self, Z, H_prev, H_cand):
        self.stack.append((Z, H_prev, H_cand))
        return Z * H_prev + (1 - Z) * H_cand

    def backward(self, dH):
        Z, H_prev, H_cand = self.stack.pop()
        return dH * (H_prev - H_cand), dH * Z, dH * (1 - Z)


class Recurrent(Unit):
    """Runs a cell over time: (T, n, d) -> (T, n, h). Subclasses define ``step`` and
    ``step_backward`` (and ``init_state`` if the state is more than H)."""

    def forward(self, X):
        state = self.init_state(X.shape[1])
        Hs = []
        for X_t in X:
            state = self.step(X_t, state)
            Hs.append(state[0])
        return np.stack(Hs)

    def backward(self, dHs):
        dstate = [np.zeros_like(s) for s in self.init_state(dHs.shape[1])]
        dXs = []
        for dH_t in dHs[::-1]:
            dstate[0] = dstate[0] + dH_t    # from the output and from the next step
            dX_t, dstate = self.step_backward(dstate)
            dXs.append(dX_t)
        return np.stack(dXs[::-1])

    def init_state(self, batch_size):
        return [np.zeros((batch_size, self.num_hiddens))]


class GRU(Recurrent):
    """The GRU of chapter 9 (reset before the product, as in Cho et al.'s conference paper)."""

    def __init__(self, num_inputs, num_hiddens, rng, candidate=Candidate):
        super().__init__()
        self.num_hiddens = num_hiddens
        self.update = Gate(num_inputs, num_hiddens, Sigmoid(), rng)
        self.reset = Gate(num_inputs, num_hiddens, Sigmoid(), rng)
        self.candidate = candidate(num_inputs, num_hiddens, rng)
        self.output = GRUOutput()

    def step(self, X, state):
        (H,) = state
        Z = self.update.forward(X, H)
        R = self.reset.forward(X, H)
        H_cand = self.candidate.forward(X, H, R)
        return [self.output.forward(Z, H, H_cand)]

    def step_backward(self, dstate):
        (dH,) = dstate
        dZ, dH_prev, dH_cand = self.output.backward(dH)
        dX, dH_c, dR = self.candidate.backward(dH_cand)
        dX_r, dH_r = self.reset.backward(dR)
        dX_z, dH_z = self.update.backward(dZ)
        return dX + dX_r + dX_z, [dH_prev + dH_c + dH_r + dH_z]


class Memory(Unit):
    """C = F * C_prev + I * C_cand."""

    def forward(self, F, C_prev, I, C_cand):
        self.stack.append((F, C_prev, I, C_cand))
        return F * C_prev + I * C_cand

    def backward(self, dC):
        F, C_prev, I, C_cand = self.stack.pop()
        return dC * C_prev, dC * F, dC * C_cand, dC * I


class LSTM(Recurrent):
    """The LSTM of chapter 9; its state is [H, C]."""

    def __init__(self, num_inputs, num_hiddens, rng):
        super().__init__()
        self.num_hiddens = num_hiddens
        self.input = Gate(num_inputs, num_hiddens, Sigmoid(), rng)
        self.forget = Gate(num_inputs, num_hiddens, Sigmoid(), rng)
        self.output = Gate(num_inputs, num_hiddens, Sigmoid(), rng)
        self.candidate = Gate(num_inputs, num_hiddens, Tanh(), rng)
        self.memory = Memory()
        self.squash = Tanh()
        self.emit = Multiply()

    def init_state(self, batch_size):
        return [np.zeros((batch_size, self.num_hiddens)) for _ in range(2)]

    def step(self, X, state):
        H, C = state
        I = self.input.forward(X, H)
        F = self.forget.forward(X, H)
        O = self.output.forward(X, H)
        C_cand = self.candidate.forward(X, H)
        C = self.memory.forward(F, C, I, C_cand)
        H = self.emit.forward(O, self.squash.forward(C))
        return [H, C]

    def step_backward(self, dstate):
        dH, dC = dstate
        dO, dTC = self.emit.backward(dH)
        dC = dC + self.squash.backward(dTC)
        dF, dC_prev, dI, dC_cand = self.memory.backward(dC)
        dX, dH_prev = self.candidate.backward(dC_cand)
        for gate, dG in [(self.output, dO), (self.forget, dF), (self.input, dI)]:
            dX_g, dH_g = gate.backward(dG)
            dX, dH_prev = dX + dX_g, dH_prev + dH_g
        return dX, [dH_prev, dC_prev]


class LastStep(Unit):
    """Passes on H_T only: (T, n, h) -> (n, h)."""

    def forward(self, Hs):
        self.stack.append(Hs.shape)
        return Hs[-1]

    def backward(self, dH):
        dHs = np.zeros(self.stack.pop())
        dHs[-1] = dH
        return dHs


class Sequential(Unit):
    """Units applied one after the other (in ``self.layers``)."""

    def __init__(self, *layers):
        super().__init__()
        self.layers = list(layers)

    def forward(self, X):
        for layer in self.layers:
            X = layer.forward(X)
        return X

    def backward(self, dY):
        for layer in reversed(self.layers):
            dY = layer.backward(dY)
        return dY


def mse_loss(Y_hat, Y):
    """Mean squared error of predictions Y_hat (n, 1) and its gradient."""
    difference = Y_hat - Y
    return (difference**2).mean(), 2 * difference / difference.size


class Adam:
    """Adam over a list of ``Param``, with the defaults of ``torch.optim.Adam``."""

    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8):
        self.params, self.lr, self.betas, self.eps = params, lr, betas, eps
        self.m = [np.zeros_like(p.value) for p in params]
        self.v = [np.zeros_like(p.value) for p in params]
        self.k = 0

    def zero_grad(self):
        for p in self.params:
            p.grad[...] = 0

    def step(self):
        self.k += 1
        beta1, beta2 = self.betas
        for p, m, v in zip(self.params, self.m, self.v):
            m[...] = beta1 * m + (1 - beta1) * p.grad
            v[...] = beta2 * v + (1 - beta2) * p.grad**2
            m_hat = m / (1 - beta1**self.k)
            v_hat = v / (1 - beta2**self.k)
            p.value -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


def numerical_gradient(f, p, eps=1e-6):
    """Central differences of the scalar f() in every entry of the array p (which f
    must read); each entry is changed in place and restored."""
    grad = np.zeros_like(p)
    for i in np.ndindex(p.shape):
        old = p[i]
        p[i] = old + eps
        up = f()
        p[i] = old - eps
        down = f()
        p[i] = old
        grad[i] = (up - down) / (2 * eps)
    return grad


def relative_error(a, b):
    return np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b))


def gradient_check(unit, steps, seed=0):
    """The largest relative error of ``unit.backward`` against finite differences,
    over every parameter and every input array. ``steps`` holds one tuple of input
    arrays per call of ``unit.forward``."""
    rng = np.random.default_rng(seed)
    unit.clear()
    outputs = [unit.forward(*inputs) for inputs in steps]
    Rs = [rng.normal(size=Y.shape) for Y in outputs]
    for p in unit.params():
        p.grad[...] = 0
    input_grads = [None] * len(steps)
    for t in reversed(range(len(steps))):
        grads = unit.backward(Rs[t])
        input_grads[t] = grads if isinstance(grads, tuple) else (grads,)

    def loss():
        L = sum((R * unit.forward(*inputs)).sum() for R, inputs in zip(Rs, steps))
        unit.clear()
        return L

    pairs = [(p.grad, p.value) for p in unit.params()]
    pairs += [(grad, array) for inputs, grads in zip(steps, input_grads)
              for grad, array in zip(grads, inputs)]
    return max(relative_error(grad, numerical_gradient(loss, array)) for grad, array in pairs)


def check(name, unit, steps):
    """Print the bound that ``gradient_check`` meets, as chapter 9 does; fail above 1e-6."""
    error = gradient_check(unit, steps)
    if not error < 1e-6:
        raise AssertionError(f"{name}: backward disagrees with finite differences "
                             f"(relative error {error:.2e}, the bar is 1e-6).")
    print(f"{name:32s} max relative error", below(error, 1e-7))
    return error


# --- Chapter 6: a plain tanh RNN as functions, for the second half of chapter 6 -------

def text_batch(tokens, vocab_size, batch_size, num_steps):
    """The first batch of sequential partitioning of ``tokens``, time-major, as NumPy:
    X of shape (num_steps, batch_size, vocab_size), one-hot, and the targets Y of
    shape (num_steps, batch_size), token indices."""
    generator = torch.Generator().manual_seed(0)
    X, Y = next(sequential_batches(tokens, batch_size, num_steps, generator))
    return np.eye(vocab_size)[X.T.numpy()], Y.T.numpy()


def init_params(vocab_size, num_hiddens, rho, seed=0):
    """Random float64 weights of a tanh RNN with vocab_size inputs and outputs;
    W_hh is rho times a random orthogonal matrix."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.normal(size=(num_hiddens, num_hiddens)))
    return {
        "W_xh": rng.normal(0, 0.2, (vocab_size, num_hiddens)),
        "W_hh": rho * Q,
        "b_h": rng.normal(0, 0.1, (1, num_hiddens)),
        "W_hq": rng.normal(0, 0.2, (num_hiddens, vocab_size)),
        "b_q": rng.normal(0, 0.1, (1, vocab_size)),
    }


def rnn_forward(params, X, H0):
    """Logits O (T, n, q) and the states H_0, ..., H_T (T + 1, n, h) for inputs
    X (T, n, d) from the state H0 (n, h)."""
    W_xh, W_hh, b_h = params["W_xh"], params["W_hh"], params["b_h"]
    Hs = [H0]
    for X_t in X:
        A = X_t @ W_xh + Hs[-1] @ W_hh + b_h
        Hs.append(np.tanh(A))
    Hs = np.stack(Hs)
    O = Hs[1:] @ params["W_hq"] + params["b_q"]
    return O, Hs


def cross_entropy(O, Y):
    """Mean cross-entropy of logits O (T, n, q) for targets Y (T, n), and dL/dO."""
    P = np.exp(O - O.max(axis=-1, keepdims=True))
    P /= P.sum(axis=-1, keepdims=True)
    Y_onehot = np.eye(O.shape[-1])[Y]
    loss = -np.log((P * Y_onehot).sum(axis=-1)).mean()
    dO = (P - Y_onehot) / Y.size
    return loss, dO


def rnn_backward(params, X, Hs, dO):
    """Backpropagation through time: the parameters' gradients (a dict like params)
    and dL/dH_0, ..., dL/dH_T (T + 1, n, h), from rnn_forward's X and Hs and dL/dO."""
    W_hh, W_hq = params["W_hh"], params["W_hq"]
    grads = {name: np.zeros_like(p) for name, p in params.items()}
    dHs = np.zeros_like(Hs)
    dH_next = np.zeros_like(Hs[0])
    for t in reversed(range(len(X))):
        H, H_prev = Hs[t + 1], Hs[t]
        grads["W_hq"] += H.T @ dO[t]
        grads["b_q"] += dO[t].sum(axis=0, keepdims=True)
        dH = dO[t] @ W_hq.T + dH_next
        dHs[t + 1] = dH
        dA = dH * (1 - H**2)
        grads["W_xh"] += X[t].T @ dA
        grads["W_hh"] += H_prev.T @ dA
        grads["b_h"] += dA.sum(axis=0, keepdims=True)
        dH_next = dA @ W_hh.T
    dHs[0] = dH_next
    return grads, dHs


def last_step_gradient_norms(tokens, vocab_size, rho, num_steps, batch_size=4):
    """The norms ``||dL_T/dH_t||`` for t = 0, ..., T, where L_T is the loss of the last
    step, for a network of 32 hidden units from ``init_params(vocab_size, 32, rho)``
    on the first batch of ``tokens``; and the share of hidden units with
    ``abs(H) > 0.9`` (saturated)."""
    params = init_params(vocab_size, 32, rho)
    X, Y = text_batch(tokens, vocab_size, batch_size, num_steps)
    O, Hs = rnn_forward(params, X, np.zeros((batch_size, 32)))
    dO = np.zeros_like(O)
    _, dO[-1:] = cross_entropy(O[-1:], Y[-1:])
    _, dHs = rnn_backward(params, X, Hs, dO)
    norms = np.linalg.norm(dHs.reshape(num_steps + 1, -1), axis=1)
    return norms, np.mean(np.abs(Hs[1:]) > 0.9)
