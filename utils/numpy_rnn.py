"""Chapter 9's recurrent framework in NumPy, for the second half of the chapter.

Chapter 9 (``chapters/09_numpy_framework.ipynb``) writes this framework unit by
unit and checks every unit against finite differences; its second half
(``chapters/09_numpy_training.ipynb``) trains it, and imports it from here so that
it runs on its own. Nothing here is new: the classes compute exactly what the
chapter's cells compute (``tests/test_numpy_rnn.py`` runs the chapter's cells and
compares the two, bit for bit). Read the chapter, not this file, to learn it.

A unit's ``forward`` pushes onto ``self.stack`` what its ``backward`` pops, so the
backward calls must mirror the forward calls in reverse order. Arrays are float64,
time-major: inputs ``(T, n, d)``, states ``(n, h)``.
"""

from __future__ import annotations

import numpy as np

from .verify import below

__all__ = ["Param", "Unit", "Sigmoid", "Tanh", "init_weight", "Dense", "Gate", "Multiply",
           "Candidate", "GRUOutput", "Recurrent", "GRU", "Memory", "LSTM", "LastStep",
           "Sequential", "mse_loss", "Adam", "numerical_gradient", "relative_error",
           "gradient_check", "check"]


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
