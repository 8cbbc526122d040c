"""Training plumbing shared by every language-model chapter.

A language model here is anything called as ``logits, state = model(X, state)``
with ``X`` of shape (batch, steps) holding token indices and ``logits`` of
shape (steps * batch, vocab_size), time-major: row ``t * batch + b`` scores
the token after ``X[b, t]``, so the matching targets are ``Y.T.reshape(-1)``.
It is either

* a from-scratch model: a callable with a ``params`` list of tensors (with
  ``requires_grad=True``) and ``begin_state(batch_size, device)``, or
* an ``nn.Module`` with that ``forward``; ``begin_state`` is optional there
  (without it the state starts as ``None``, which ``nn.RNN`` and friends accept).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn import functional as F

from .checks import evaluating, positive_float, positive_int, token_tensor
from .progress import LivePlot
from .sequences import batches, num_batches


def model_parameters(model) -> list[torch.Tensor]:
    """The trainable tensors of an ``nn.Module`` or of a from-scratch model (``model.params``)."""
    if isinstance(model, nn.Module):
        params = [p for p in model.parameters() if p.requires_grad]
    elif hasattr(model, "params"):
        params = list(model.params)
        if not all(isinstance(p, torch.Tensor) for p in params):
            raise TypeError("model.params must be a list of tensors.")
        params = [p for p in params if p.requires_grad]
    else:
        raise TypeError(f"A {type(model).__name__} is neither an nn.Module nor a from-scratch "
                        f"model: give it a `params` list of tensors and a "
                        f"begin_state(batch_size, device) method.")
    if not params:
        raise ValueError("The model has no trainable parameters (none with requires_grad=True).")
    return params


def _at_least_float32(tensor: torch.Tensor) -> torch.Tensor:
    return tensor.float() if tensor.dtype in (torch.float16, torch.bfloat16) else tensor


def gradient_norm(params: list[torch.Tensor]) -> float:
    """The global L2 norm of the gradients of ``params``: sqrt(sum of all squared entries)."""
    if not isinstance(params, (list, tuple)) or not all(isinstance(p, torch.Tensor)
                                                         for p in params):
        raise TypeError(f"params must be a list of tensors (model.parameters() as a list, or "
                        f"a scratch model's params), got {type(params).__name__}"
                        f"{'' if not isinstance(params, (list, tuple)) else ' holding ' + ', '.join(sorted({type(p).__name__ for p in params}))}.")
    # half-precision gradients are squared in float32 (float16 squares overflow above
    # 256); float32 and float64 ones in their own precision
    squares = [_at_least_float32(p.grad.detach()).pow(2).sum()
               for p in params if p.grad is not None]
    return float(torch.stack(squares).sum().sqrt()) if squares else 0.0


def clip_gradients(params, max_norm: float) -> float:
    """Scale all gradients by min(1, max_norm / ||g||), where ||g|| is their global norm.

    ``params`` is a list of tensors or a model. Returns the norm before clipping.
    A non-finite norm (inf or NaN) is returned and the gradients are left as
    they are (scaling an inf by max_norm / inf would make it NaN): the caller
    decides, as ``train_language_model`` does by skipping that update.
    """
    max_norm = positive_float("max_norm", max_norm)
    if not isinstance(params, (list, tuple)):
        params = model_parameters(params)
    norm = gradient_norm(params)
    if math.isfinite(norm) and norm > max_norm:
        for p in params:
            if p.grad is not None:
                p.grad.mul_(max_norm / norm)
    return norm


def detach_state(state):
    """Cut the state off the graph that produced it (tensors, tuples and lists of them)."""
    if state is None:
        return None
    if isinstance(state, torch.Tensor):
        return state.detach()
    if isinstance(state, tuple) and hasattr(state, "_fields"):  # a namedtuple
        return type(state)(*(detach_state(s) for s in state))
    if isinstance(state, (tuple, list)):
        return type(state)(detach_state(s) for s in state)
    raise TypeError(f"A model state must be a tensor or a tuple of tensors, got "
                    f"{type(state).__name__}.")


def begin_state(model, batch_size: int, device: torch.device):
    """The model's initial state, or None for an ``nn.Module`` without ``begin_state``."""
    if hasattr(model, "begin_state"):
        return model.begin_state(batch_size, device)
    if isinstance(model, nn.Module):
        return None
    raise TypeError(f"A from-scratch model needs a begin_state(batch_size, device) method; "
                    f"{type(model).__name__} has none.")


def _check_logits(logits, X, Y=None):
    steps, batch = X.shape[1], X.shape[0]
    if not isinstance(logits, torch.Tensor) or logits.dim() != 2 or logits.shape[0] != steps * batch:
        shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
        raise ValueError(f"The model returned logits of shape {shape} for X of shape "
                         f"{tuple(X.shape)} (batch, steps); expected (steps * batch, vocab_size) = "
                         f"({steps * batch}, vocab_size), time-major to match Y.T.reshape(-1).")
    if Y is not None and Y.numel() and int(Y.max()) >= logits.shape[1]:
        raise ValueError(f"The text holds token index {int(Y.max())} but the model scores only "
                         f"{logits.shape[1]} tokens: its output size must be len(vocab) of the "
                         f"vocabulary that encoded this text.")


# How torch says that an input index is too large for the layer that reads it
INDEX_ERRORS = ("index out of range", "out of bounds", "Class values must be smaller")


def forward(model, X: torch.Tensor, state):
    """``model(X, state)``, with a clear error when X holds an index the model cannot read.

    Without it, a word index fed to a character model fails deep in torch with
    "index out of range in self" (an embedding) or "Class values must be smaller
    than num_classes" (a one-hot input).
    """
    try:
        return model(X, state)
    except (IndexError, RuntimeError) as error:
        if not any(sign in str(error) for sign in INDEX_ERRORS):
            raise
        raise ValueError(f"The model cannot read token index {int(X.max())}: its input size "
                         f"(embedding or one-hot width) is smaller than the vocabulary that "
                         f"encoded this text. Build the model with len(vocab) of that "
                         f"vocabulary.") from None


def _set_training(model, mode: bool):
    if isinstance(model, nn.Module):
        model.train(mode)


def perplexity(mean_nll: float) -> float:
    """exp(mean negative log-likelihood per token); inf instead of an overflow, NaN for NaN."""
    if math.isnan(mean_nll):
        return math.nan
    return math.exp(mean_nll) if mean_nll < 709 else math.inf


@torch.no_grad()
def evaluate_perplexity(model, corpus, batch_size: int = 32, num_steps: int = 35) -> float:
    """Perplexity of ``model`` on ``corpus``, read in order with the state carried along.

    The corpus is cut into ``batch_size`` rows (no random offset) that are read
    left to right ``num_steps`` tokens at a time, so every model is scored the
    same way. Perplexity is exp(mean cross-entropy per token).
    """
    corpus = token_tensor("corpus", corpus)
    batch_size = positive_int("batch_size", batch_size)
    num_steps = positive_int("num_steps", num_steps)
    n = num_batches(len(corpus), batch_size, num_steps)
    if n < 1:
        raise ValueError(f"The evaluation text has {len(corpus)} tokens, too few for one batch "
                         f"of batch_size={batch_size} x num_steps={num_steps}; use smaller values.")
    device = model_parameters(model)[0].device
    length = n * num_steps
    Xs = corpus[:batch_size * length].reshape(batch_size, length)
    Ys = corpus[1:batch_size * length + 1].reshape(batch_size, length)
    state, total = begin_state(model, batch_size, device), 0.0
    with evaluating(model):
        for i in range(0, length, num_steps):
            X, Y = Xs[:, i:i + num_steps].to(device), Ys[:, i:i + num_steps].to(device)
            logits, state = forward(model, X, state)
            _check_logits(logits, X, Y)
            total += F.cross_entropy(logits, Y.T.reshape(-1), reduction="sum").item()
    return perplexity(total / (batch_size * length))


def _number(value: float) -> str:
    """Two decimals for ordinary perplexities, three significant digits for huge ones."""
    return f"{value:.2f}" if value < 1e4 else f"{value:.3g}"


STOP_REASONS = ("epochs", "time budget", "stopped", "diverged", "interrupted")


@dataclass
class TrainingHistory:
    """What a training loop saw, one entry per epoch; both loops of the book return one.

    ``epochs`` counts epochs done (the last one fractional if a time budget,
    ``stop()`` or ``on_epoch`` ended it early); ``seconds`` is the training time
    up to then, without the time spent on validation; ``train_seconds`` the
    total. ``stop_reason`` is one of ``STOP_REASONS``; ``message`` says more
    when training did not simply run its epochs.

    The contract both loops keep: ``on_epoch(history)`` is called after every
    recorded epoch, and a True return ends training there (``'stopped'``);
    ``stop()`` is asked after every batch; a non-finite loss or gradient skips
    that update and ends training (``'diverged'``); an interrupt (Ctrl-C, the
    kernel's stop button) ends it too (``'interrupted'``); the model keeps what
    it learned in every case. The optimizer is injectable in both.
    """

    settings: dict
    epochs: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    tokens: int = 0
    train_seconds: float = 0.0
    stop_reason: str = ""
    message: str = ""

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.train_seconds if self.train_seconds > 0 else 0.0


@dataclass
class History(TrainingHistory):
    """What ``train_language_model`` saw: perplexities per epoch (see ``TrainingHistory``)."""

    train_perplexity: list[float] = field(default_factory=list)
    valid_perplexity: list[float] = field(default_factory=list)

    def summary(self) -> str:
        if not self.epochs:
            return self.message or "No epoch finished."
        done = self.epochs[-1]
        done = f"{done:.0f}" if done == int(done) else f"{done:.2f}"
        line = (f"after {done} epochs: train perplexity {_number(self.train_perplexity[-1])}, "
                f"validation perplexity {_number(self.valid_perplexity[-1])}; "
                f"{self.train_seconds:.1f} s of training, {self.tokens_per_second:,.0f} tokens/s")
        return line + (f"\n{self.message}" if self.message else "")


def _check_settings(train, valid, batch_size, num_steps, lr, epochs, time_budget,
                    sampling, clip, optimizer, scheduler=None, on_epoch=None, stop=None,
                    valid_batch_size=32, valid_num_steps=35):
    train = token_tensor("train", train)
    valid = token_tensor("valid", valid)
    batch_size = positive_int("batch_size", batch_size)
    num_steps = positive_int("num_steps", num_steps)
    if epochs is None and time_budget is None:
        raise ValueError("Give epochs (a number of passes over the text) or time_budget "
                         "(seconds of training), or both.")
    if epochs is not None:
        positive_int("epochs", epochs)
    if time_budget is not None:
        positive_float("time_budget", time_budget)
    if sampling not in ("random", "sequential"):
        raise ValueError(f"sampling must be 'random' or 'sequential', got {sampling!r}.")
    if clip is not None:
        positive_float("clip", clip)
    if optimizer is None and lr is None:
        raise ValueError("Give a learning rate lr (for plain SGD) or an optimizer.")
    if optimizer is not None and lr is not None:
        raise ValueError("Give lr or optimizer, not both: the optimizer has its own learning rate.")
    if lr is not None:
        positive_float("lr", lr)
    if optimizer is not None and not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer over the model's parameters, "
                        f"e.g. torch.optim.Adam(model.parameters(), lr=0.01); got {optimizer!r}.")
    if scheduler is not None and not callable(getattr(scheduler, "step", None)):
        raise TypeError(f"scheduler must be a torch.optim.lr_scheduler object with a step() "
                        f"method, e.g. StepLR(optimizer, 10); got {scheduler!r}.")
    for name, hook in (("on_epoch", on_epoch), ("stop", stop)):
        if hook is not None and not callable(hook):
            raise TypeError(f"{name} must be a function, got {hook!r}.")
    valid_batch_size = positive_int("valid_batch_size", valid_batch_size)
    valid_num_steps = positive_int("valid_num_steps", valid_num_steps)
    for name, part, rows, steps, prefix in (
            ("train", train, batch_size, num_steps, ""),
            ("valid", valid, valid_batch_size, valid_num_steps, "valid_")):
        if num_batches(len(part), rows, steps) < 1:
            raise ValueError(f"The {name} text has {len(part)} tokens, too few for one batch of "
                             f"{prefix}batch_size={rows} x {prefix}num_steps={steps} (needs "
                             f"{rows * steps + 1}). Use a smaller {prefix}batch_size or "
                             f"{prefix}num_steps.")
    return train, valid


def train_language_model(model, train, valid, *, batch_size: int = 32, num_steps: int = 35,
                         lr: float | None = None, epochs: int | None = None,
                         time_budget: float | None = None, sampling: str = "sequential",
                         clip: float | None = 1.0, optimizer: torch.optim.Optimizer | None = None,
                         scheduler=None, plot: bool = True, verbose: bool = True,
                         on_epoch=None, stop=None, valid_batch_size: int = 32,
                         valid_num_steps: int = 35) -> History:
    """Train a language model with cross-entropy, report perplexity per epoch.

    ``train`` and ``valid`` are 1-D tensors of token indices (see
    ``train_valid_split``). One epoch reads the training text once, in batches
    of shape (batch_size, num_steps) from ``sampling``:

    * 'sequential': the state is carried from batch to batch and detached, so
      gradients flow back ``num_steps`` steps at most;
    * 'random': every batch starts from a fresh state.

    Training stops after ``epochs`` or when ``time_budget`` seconds of training
    have passed, whichever comes first (a budget makes the result depend on the
    machine's speed; notebooks use epochs). ``clip`` is the global gradient
    norm limit (None: no clipping). The optimizer is SGD with ``lr`` unless
    you pass ``optimizer``; ``scheduler`` (if given) steps once per epoch.
    After each epoch the validation perplexity is computed with
    ``evaluate_perplexity`` in the layout ``valid_batch_size`` x
    ``valid_num_steps`` (32 x 35, whatever the training batch: runs with other
    batch sizes or step counts are scored on the same tokens of ``valid``), and
    with ``plot=True`` a live plot shows both curves.
    ``verbose=False`` skips printing the summary at the end.

    Two hooks for interactive tools (see ``utils.playground``):

    * ``on_epoch(history)`` is called after every epoch recorded in the history
      (after validation; also after a last, partial epoch), with the History so
      far; when it returns True, training ends there (``stop_reason == 'stopped'``);
    * ``stop()``, a function of no arguments, is asked after every batch; when it
      returns True, training ends after that batch and the part of the epoch done
      is recorded like one shortened by the time budget, with
      ``stop_reason == 'stopped'``.

    A non-finite loss or gradient, or an interrupt (Ctrl-C, the kernel's stop
    button), ends training cleanly: the offending update is skipped, the model
    keeps what it learned so far, and the returned ``History`` says why it stopped.
    """
    train, valid = _check_settings(train, valid, batch_size, num_steps, lr, epochs,
                                   time_budget, sampling, clip, optimizer, scheduler,
                                   on_epoch, stop, valid_batch_size, valid_num_steps)
    params = model_parameters(model)
    optimizer = optimizer or torch.optim.SGD(params, lr=lr)
    history = History(settings=dict(batch_size=batch_size, num_steps=num_steps, lr=lr,
                                    epochs=epochs, time_budget=time_budget, sampling=sampling,
                                    clip=clip, optimizer=type(optimizer).__name__))
    step = _Step(model, params, optimizer, clip, lr)
    was_training = getattr(model, "training", False)
    live = LivePlot(xlabel="epoch", ylabel="perplexity", legend=["train", "validation"],
                    xlim=(0, epochs) if epochs else None) if plot else None
    try:
        epoch = 0
        while not history.stop_reason:
            epoch += 1
            budget_left = None if time_budget is None else time_budget - history.train_seconds
            result = _train_epoch(step, train, batch_size, num_steps, sampling, budget_left, stop)
            history.train_seconds += result.seconds
            history.tokens += result.tokens
            if result.diverged:
                history.stop_reason = "diverged"
                history.message = (f"Stopped: {result.diverged} in epoch {epoch}, batch "
                                   f"{result.batches + 1}; that update was skipped. Training "
                                   f"diverged: {step.hint}.")
                break
            history.epochs.append(epoch - 1 + result.fraction)
            history.train_perplexity.append(perplexity(result.loss_sum / result.tokens))
            history.valid_perplexity.append(evaluate_perplexity(model, valid, valid_batch_size,
                                                               valid_num_steps))
            history.seconds.append(history.train_seconds)
            if live:
                live.add(history.epochs[-1], [history.train_perplexity[-1],
                                              history.valid_perplexity[-1]])
                live.show(_progress_title(history, epochs, time_budget))
            if scheduler is not None and result.fraction == 1:
                scheduler.step()
            if epochs is not None and epoch == epochs and result.fraction == 1:
                history.stop_reason = "epochs"
            elif result.stopped:
                history.stop_reason = "stopped"
                history.message = ("Stopped: the model keeps what it learned so far; "
                                   "the history holds every epoch up to the stop.")
            elif time_budget is not None and history.train_seconds >= time_budget:
                history.stop_reason = "time budget"
            if on_epoch is not None and on_epoch(history) and not history.stop_reason:
                history.stop_reason = "stopped"
                history.message = "Stopped by on_epoch after this epoch."
    except KeyboardInterrupt:
        history.stop_reason = "interrupted"
        history.message = ("Interrupted: the model keeps what it learned so far; "
                           "the history holds every finished epoch.")
    finally:
        _set_training(model, was_training)
        if live:
            live.show(_progress_title(history, epochs, time_budget, final=True), final=True)
    if verbose:
        print(history.summary())
    return history


class _Diverged(Exception):
    """The loss or the gradient of a batch is not finite; the update is skipped."""


class _Step:
    """One optimisation step on one batch: forward, loss, backward, clip, update."""

    def __init__(self, model, params, optimizer, clip, lr):
        self.model, self.params, self.optimizer, self.clip = model, params, optimizer, clip
        self.device = params[0].device
        self.hint = (f"lower the learning rate (lr={lr}) or clip the gradients (clip={clip})"
                     if lr is not None else
                     f"lower the optimizer's learning rate or clip the gradients (clip={clip})")

    def __call__(self, X, Y, state):
        """Returns (loss, new state); raises _Diverged instead of a non-finite update."""
        X, Y = X.to(self.device), Y.to(self.device)
        logits, state = forward(self.model, X, state)
        _check_logits(logits, X, Y)
        loss = F.cross_entropy(logits, Y.T.reshape(-1))
        if not torch.isfinite(loss):
            raise _Diverged(f"the loss became {loss.item()}")
        self.optimizer.zero_grad()
        loss.backward()
        norm = clip_gradients(self.params, self.clip) if self.clip else gradient_norm(self.params)
        if not math.isfinite(norm):
            raise _Diverged(f"the gradient norm became {norm}")
        self.optimizer.step()
        return loss.item(), state


@dataclass
class _EpochResult:
    loss_sum: float = 0.0    # summed cross-entropy over the tokens seen
    tokens: int = 0
    batches: int = 0         # updates done
    seconds: float = 0.0     # training time, without validation
    fraction: float = 0.0    # of the epoch done (< 1 if the time budget ran out)
    diverged: str = ""       # what went non-finite, if anything
    stopped: bool = False    # stop() returned True


def _train_epoch(step: _Step, train, batch_size, num_steps, sampling, budget_left,
                 stop=None) -> _EpochResult:
    """One pass over the training text, or less if ``budget_left`` seconds run out or ``stop()``."""
    result, state = _EpochResult(), None
    total = num_batches(len(train), batch_size, num_steps)
    _set_training(step.model, True)
    tic = time.perf_counter()
    for done, (X, Y) in enumerate(batches(train, batch_size, num_steps, sampling), 1):
        if state is None or sampling == "random":
            state = begin_state(step.model, X.shape[0], step.device)
        else:
            state = detach_state(state)  # keep the values, cut the gradient
        try:
            loss, state = step(X, Y, state)
        except _Diverged as what:
            result.diverged = str(what)
            break
        result.loss_sum += loss * Y.numel()
        result.tokens += Y.numel()
        result.batches = done
        if stop is not None and stop():
            result.stopped = True
            break
        if budget_left is not None and time.perf_counter() - tic >= budget_left:
            break
    result.fraction = result.batches / total
    result.seconds = time.perf_counter() - tic
    return result


def _progress_title(history: History, epochs, time_budget, final: bool = False) -> str:
    """The live plot's title; the final one leaves out times, so a saved figure is repeatable."""
    done = f"epoch {history.epochs[-1]:.3g}" if history.epochs else "epoch 0"
    goal = f"/{epochs}" if epochs else ""
    if final and not time_budget:
        return f"{done}{goal}"
    budget = f" of {time_budget:g}" if time_budget else ""
    return (f"{done}{goal}, {history.train_seconds:.0f}{budget} s, "
            f"{history.tokens_per_second:,.0f} tokens/s")
