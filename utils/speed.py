"""Training speed in tokens per second (chapter 16; the widget is ``widgets.speed_meter``).

``training_speed(model, vocab_size, ...)`` trains a language model for about
``seconds`` on random minibatches and returns how many tokens it read per
second. One training step is what ``utils.train_language_model`` does for a
batch: forward, cross-entropy, backward, gradient clipping, an Adam update.
The tokens are random because the speed does not depend on which tokens a
batch holds, only on its shape; so no corpus is loaded. ``interleaved_speeds``
measures several models in interleaved rounds and takes each one's median.

This module does not import ipywidgets: ``python -m utils.benchmark`` and a
plain script can time models without it.
"""

from __future__ import annotations

import contextlib
import functools
import statistics
import time
from dataclasses import dataclass

import torch
from torch.nn import functional as F

from .checks import non_negative_int, positive_float, positive_int, seed_value
from .training import begin_state, clip_gradients, model_parameters

FORMATS = {"float32": None, "bfloat16 (autocast)": torch.bfloat16}   # name -> autocast dtype


@dataclass
class Speed:
    """One measurement: ``steps`` timed training steps took ``seconds``."""
    tokens_per_second: float
    steps: int
    seconds: float
    batch_size: int
    num_steps: int


def synchronize(device: torch.device) -> None:
    """Wait until the device has finished its queued work (a GPU runs asynchronously)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def training_speed(model, vocab_size: int, *, batch_size: int = 64, num_steps: int = 35,
                   seconds: float = 1.0, warmup: int = 2, min_steps: int = 2,
                   lr: float = 0.005, clip: float = 1.0, seed: int = 0,
                   autocast: torch.dtype | None = None) -> Speed:
    """Tokens per second of training ``model`` on random (batch_size, num_steps) minibatches.

    ``model`` is a language model as ``utils.training`` describes it, on any
    device; it is trained (its weights change). ``warmup`` untimed steps come
    first (the first steps allocate memory and pick kernels); then steps are
    timed with ``time.perf_counter`` until ``seconds`` have passed and at least
    ``min_steps`` were done. Tokens per second is batch_size * num_steps * steps
    / seconds. Every batch starts from the model's initial state, as with
    random sampling. The minibatches come from a generator seeded with ``seed``.
    With ``autocast=torch.bfloat16`` (or ``torch.float16``), the forward pass and
    the loss run under ``torch.autocast``: matrix products in that format, the
    parameters and their updates in float32.
    """
    vocab_size = positive_int("vocab_size", vocab_size)
    batch_size = positive_int("batch_size", batch_size)
    num_steps = positive_int("num_steps", num_steps)
    seconds = positive_float("seconds", seconds)
    min_steps = positive_int("min_steps", min_steps)
    warmup = non_negative_int("warmup", warmup)
    seed = seed_value(seed)
    if autocast not in (None, torch.bfloat16, torch.float16):
        raise ValueError(f"autocast must be None, torch.bfloat16 or torch.float16, got "
                         f"{autocast!r}.")
    params = model_parameters(model)
    device = params[0].device
    generator = torch.Generator(device="cpu").manual_seed(seed)
    # A few batches made in advance, so that making them is not timed: (n, T + 1) each.
    batches = [torch.randint(vocab_size, (batch_size, num_steps + 1), generator=generator,
                             device="cpu").to(device) for _ in range(4)]
    batches = [(tokens[:, :-1], tokens[:, 1:]) for tokens in batches]    # X, Y: (n, T) each
    optimizer = torch.optim.Adam(params, lr=lr)
    steps, elapsed = timed_training_steps(model, batches, optimizer, clip=clip, warmup=warmup,
                                          min_steps=min_steps, seconds=seconds,
                                          autocast=autocast)
    return Speed(batch_size * num_steps * steps / elapsed, steps, elapsed, batch_size, num_steps)


def interleaved_speeds(models: dict, vocab_size: int, *, rounds: int = 3, seconds: float = 0.4,
                       **settings) -> dict:
    """The median tokens per second of each model, measured in rounds A B C A B C ...

    ``models`` maps names to models; every round measures each of them once with
    ``training_speed(model, vocab_size, seconds=seconds, **settings)``, so a slow
    moment of the machine hurts all of them alike, and the median of a model's
    ``rounds`` measurements leaves out a single outlier. The same models are kept
    from round to round (they train on).
    """
    if not isinstance(models, dict) or not models:
        raise ValueError(f"models must be a non-empty dict of name -> model, got {models!r}.")
    rounds = positive_int("rounds", rounds)
    speeds = {name: [] for name in models}
    for _ in range(rounds):
        for name, model in models.items():
            speed = training_speed(model, vocab_size, seconds=seconds, **settings)
            speeds[name].append(speed.tokens_per_second)
    return {name: statistics.median(s) for name, s in speeds.items()}


def timed_training_steps(model, batches, optimizer, *, clip: float = 1.0, warmup: int = 0,
                         min_steps: int = 1, seconds: float = 0.0,
                         autocast: torch.dtype | None = None) -> tuple[int, float]:
    """Train ``model`` on ``batches`` (pairs X, Y of shape (n, T), used in turn) and time it.

    A step is forward from the initial state, cross-entropy, backward, clipping at
    ``clip`` and ``optimizer.step()``. ``warmup`` untimed steps come first; then
    steps are timed until at least ``min_steps`` were done and ``seconds`` have
    passed. Returns (timed steps, their seconds); the device is synchronized
    before the clock is read.
    """
    params = model_parameters(model)
    device = params[0].device
    precision = (functools.partial(torch.autocast, device.type, dtype=autocast)
                 if autocast is not None else contextlib.nullcontext)

    def step(i: int) -> None:
        X, Y = batches[i % len(batches)]
        with precision():
            logits, _ = model(X, begin_state(model, X.shape[0], device))
            loss = F.cross_entropy(logits, Y.T.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        clip_gradients(params, clip)          # reads the gradient norm: waits for the device
        optimizer.step()

    for i in range(warmup):
        step(i)
    synchronize(device)
    steps, start = 0, time.perf_counter()
    while True:
        step(warmup + steps)
        steps += 1
        synchronize(device)
        elapsed = time.perf_counter() - start
        if steps >= min_steps and elapsed >= seconds:
            return steps, elapsed
