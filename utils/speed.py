"""Training speed in tokens per second, and a widget that measures it (chapter 16).

``training_speed(model, vocab_size, ...)`` trains a language model for about
``seconds`` on random minibatches and returns how many tokens it read per
second. One training step is what ``utils.train_language_model`` does for a
batch: forward, cross-entropy, backward, gradient clipping, an Adam update.
The tokens are random because the speed does not depend on which tokens a
batch holds, only on its shape; so no corpus is loaded.

``speed_meter(models, vocab_size)`` lays out a menu of models, the hidden size,
the batch size, the number of CPU threads, the device and the number format, and
a Measure button. Building it measures nothing; each press adds a row to its
table.
"""

from __future__ import annotations

import contextlib
import functools
import html
import os
import time
from dataclasses import dataclass

import ipywidgets as widgets
import torch
from torch.nn import functional as F

from .checks import model_factories, positive_float, positive_int, seed_value
from .runtime import set_seed
from .training import begin_state, clip_gradients, model_parameters

HIDDEN_SIZES = [32, 64, 128, 256, 512, 1024]
FORMATS = {"float32": None, "bfloat16 (autocast)": torch.bfloat16}
BATCH_SIZES = [1, 8, 32, 64, 128, 256, 512]
ERROR = '<span style="color:#b00">{}</span>'


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
    if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
        raise ValueError(f"warmup must be a number of steps >= 0, got {warmup!r}.")
    if autocast not in (None, torch.bfloat16, torch.float16):
        raise ValueError(f"autocast must be None, torch.bfloat16 or torch.float16, got "
                         f"{autocast!r}.")
    params = model_parameters(model)
    device = params[0].device
    generator = torch.Generator().manual_seed(seed)
    # A few batches made in advance, so that making them is not timed: (n, T + 1) each.
    batches = [torch.randint(vocab_size, (batch_size, num_steps + 1), generator=generator)
               .to(device) for _ in range(4)]
    batches = [(tokens[:, :-1], tokens[:, 1:]) for tokens in batches]    # X, Y: (n, T) each
    optimizer = torch.optim.Adam(params, lr=lr)
    steps, elapsed = timed_training_steps(model, batches, optimizer, clip=clip, warmup=warmup,
                                          min_steps=min_steps, seconds=seconds,
                                          autocast=autocast)
    return Speed(batch_size * num_steps * steps / elapsed, steps, elapsed, batch_size, num_steps)


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


def _devices() -> list[str]:
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices.append("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        devices.append("mps")
    return devices


def speed_meter(models: dict, vocab_size: int, *, seconds: float = 1.0, seed: int = 0):
    """A widget that measures the training speed of the model you pick (ipywidgets 7.7 and 8).

    ``models`` maps a display name to a factory: ``factory(vocab_size,
    hidden_size)`` returns a new model. The controls choose the model, the hidden
    size, the batch size, the number of CPU threads (``torch.set_num_threads``,
    restored afterwards), the device (those that this machine has) and the
    number format (float32, or bfloat16 products under autocast). Measure
    seeds with ``seed`` and calls the factory inside ``with torch.device(...)``,
    so that the tensors it makes land on the chosen device; then it runs
    ``training_speed`` for about ``seconds`` (minibatches of 35 tokens per
    sequence) and adds a row to the table below. Building the widget measures
    nothing.
    """
    return SpeedMeter(models, vocab_size, seconds=seconds, seed=seed)


class SpeedMeter(widgets.VBox):
    """Controls, a Measure button, a status line and a table; see ``speed_meter``."""

    def __init__(self, models: dict, vocab_size: int, *, seconds: float = 1.0, seed: int = 0):
        self.models = model_factories(models)
        self.vocab_size = positive_int("vocab_size", vocab_size)
        self.seconds, self.seed = positive_float("seconds", seconds), seed_value(seed)
        self.rows: list[dict] = []
        style = {"description_width": "initial"}
        threads = list(range(1, (os.cpu_count() or 1) + 1))
        self.controls = {
            "model": widgets.Dropdown(description="model", options=list(self.models),
                                      style=style),
            "hidden_size": widgets.Dropdown(description="hidden size", options=HIDDEN_SIZES,
                                            value=256, style=style),
            "batch_size": widgets.Dropdown(description="batch size", options=BATCH_SIZES,
                                           value=64, style=style),
            "threads": widgets.Dropdown(description="CPU threads", options=threads,
                                        value=min(torch.get_num_threads(), threads[-1]),
                                        style=style),
            "device": widgets.Dropdown(description="device", options=_devices(), style=style),
            "format": widgets.Dropdown(description="number format", options=list(FORMATS),
                                       style=style),
        }
        self.button = widgets.Button(description="Measure", button_style="primary")
        self.clear_button = widgets.Button(description="Clear")
        self.status = widgets.HTML(f"Pick the settings and press Measure (about "
                                   f"{self.seconds:g} s of training on random tokens).")
        self.table = widgets.HTML()
        row = widgets.HBox(list(self.controls.values()),
                           layout=widgets.Layout(flex_flow="row wrap"))
        buttons = widgets.HBox([self.button, self.clear_button])
        super().__init__([row, buttons, self.status, self.table])
        self.button.on_click(lambda button: self.measure())
        self.clear_button.on_click(lambda button: self.clear())

    def values(self) -> dict:
        return {name: control.value for name, control in self.controls.items()}

    def measure(self) -> dict | None:
        """What Measure does; returns the new table row, or None (the reason is shown)."""
        settings = self.values()
        self.button.disabled = True
        self.status.value = "Measuring..."
        threads = torch.get_num_threads()
        try:
            torch.set_num_threads(settings["threads"])
            set_seed(self.seed)
            device = torch.device(settings["device"])
            with device:        # tensors the factory makes without naming a device go there
                model = self.models[settings["model"]](self.vocab_size, settings["hidden_size"])
            built_on = model_parameters(model)[0].device
            if built_on.type != device.type:
                raise ValueError(f"{settings['model']} was built on {built_on}, not on {device}: "
                                 f"let its factory make tensors without naming a device.")
            speed = training_speed(model, self.vocab_size, batch_size=settings["batch_size"],
                                   seconds=self.seconds, seed=self.seed,
                                   autocast=FORMATS[settings["format"]])
        except (ValueError, TypeError, RuntimeError) as error:   # e.g. out of memory
            self.status.value = ERROR.format(html.escape(f"{type(error).__name__}: {error}"))
            return None
        finally:
            torch.set_num_threads(threads)
            self.button.disabled = False
        row = dict(settings, tokens_per_second=speed.tokens_per_second, steps=speed.steps,
                   seconds=speed.seconds)
        self.rows.append(row)
        self.status.value = (f"{settings['model']}: {speed.tokens_per_second:,.0f} tokens/s "
                             f"({speed.steps} steps in {speed.seconds:.2f} s).")
        self.table.value = self._table()
        return row

    def clear(self) -> None:
        """What Clear does: forget the measurements."""
        self.rows = []
        self.table.value = ""

    def _table(self) -> str:
        fastest = max(row["tokens_per_second"] for row in self.rows)
        head = ("<tr><th>model</th><th>hidden</th><th>batch</th><th>threads</th>"
                "<th>device</th><th>format</th><th>tokens/s</th><th>of the fastest</th></tr>")
        body = "".join(
            f"<tr><td>{html.escape(r['model'])}</td><td>{r['hidden_size']}</td>"
            f"<td>{r['batch_size']}</td><td>{r['threads']}</td><td>{r['device']}</td>"
            f"<td>{html.escape(r['format'])}</td>"
            f"<td>{r['tokens_per_second']:,.0f}</td>"
            f"<td>{r['tokens_per_second'] / fastest:.2f}</td></tr>" for r in self.rows)
        return f"<table>{head}{body}</table>"

    def __repr__(self) -> str:
        return f"SpeedMeter({', '.join(self.models)})"
