"""A training playground for the language-model chapters (ipywidgets 7.7 and 8).

``playground(models)`` lays out controls for the usual hyperparameters, the
buttons Train, Stop and Generate, a perplexity plot and generated text. Like
``widgets.Explorer`` it shows results in ``Image`` and ``HTML`` widgets, never
by printing, and building it trains nothing: the saved notebook, nbval and the
website see one stable view (an empty plot titled "not trained yet").

The Train button trains in a background thread, so the kernel stays free and
Stop ends training after the current batch. ``Playground.train()`` trains in
the caller's thread instead (interrupting the kernel stops it). Either way the
model trained so far stays usable as ``.model``, with ``.history`` and ``.vocab``.
"""

from __future__ import annotations

import functools
import html
import math
import numbers
import threading
import time

import ipywidgets as widgets
import torch

from .checks import model_factories, seed_value
from .generation import generate
from .progress import LivePlot, figure_png
from .runtime import set_seed
from .sequences import num_batches, train_valid_split
from .text import load_corpus
from .training import History, model_parameters, train_language_model
from .widgets import Controls, control_row, error_html, title_row

CORPORA = [("The Time Machine", "time_machine"), ("The War of the Worlds", "war_of_the_worlds")]
PLAYGROUND_HIDDEN_SIZES = [8, 16, 32, 64, 128, 256, 512, 1024]
CLIPS = ["off", 0.1, 0.5, 1.0, 5.0, 10.0]   # 'off': no gradient clipping
LEARNING_RATES = [(f"{float(f'{m}e{e}'):g}", float(f"{m}e{e}"))   # 0.0001, 0.0002, ... 10
                  for e in range(-4, 2) for m in (1, 2, 5) if float(f"{m}e{e}") <= 10]
GENERATED_CHARS = 150                        # characters generated after the prefix


@functools.lru_cache(maxsize=None)
def char_data(book: str):
    """(train, valid, vocab) of a shipped book in characters, the usual 90/10 split; loaded once."""
    corpus, vocab = load_corpus(book, "char")
    return (*train_valid_split(corpus), vocab)


def _controls(model_names: list[str]) -> dict:
    """The controls, by setting name, with the built-in initial values."""
    style = {"description_width": "initial"}

    def dropdown(description, options, value):
        pairs = [o if isinstance(o, tuple) else (str(o), o) for o in options]  # (label, value)
        return widgets.Dropdown(description=description, options=pairs, value=value, style=style)

    def int_slider(description, value, low, high):
        return widgets.IntSlider(description=description, value=value, min=low, max=high,
                                 style=style)

    return {
        "model": dropdown("model", model_names, model_names[0]),
        "hidden_size": dropdown("hidden size", PLAYGROUND_HIDDEN_SIZES, 256),
        # exact values: a log slider snaps 0.005 to 10 ** -2.3 = 0.00501
        "lr": widgets.SelectionSlider(description="learning rate", options=LEARNING_RATES,
                                      value=1.0, style=style),
        "optimizer": dropdown("optimizer", ["SGD", "Adam"], "SGD"),
        "num_steps": int_slider("steps", 35, 1, 200),
        "batch_size": int_slider("batch size", 32, 1, 512),
        "epochs": int_slider("epochs", 10, 1, 100),
        "time_limit": int_slider("time limit (s)", 60, 1, 600),
        "clip": dropdown("clip", CLIPS, 1.0),
        "temperature": widgets.FloatSlider(description="temperature (0: greedy)", value=0.0,
                                           min=0.0, max=2.0, step=0.05, style=style),
        "corpus": dropdown("corpus", CORPORA, "time_machine"),
        "sampling": dropdown("sampling", ["random", "sequential"], "random"),
        "prefix": widgets.Text(description="prefix", value="the time traveller ", style=style),
    }


def _checked(name: str, control, value):
    """``value`` if ``control`` can hold it, else a ValueError naming the setting and its range."""
    if isinstance(control, (widgets.Dropdown, widgets.SelectionSlider)):
        allowed = [v for _, v in control.options]
        if name == "clip" and value is None:
            value = "off"
        if isinstance(value, bool) or value not in allowed:
            raise ValueError(f"defaults[{name!r}] = {value!r} is not one of the choices: "
                             f"{', '.join(repr(v) for v in allowed)}.")
        return allowed[allowed.index(value)]
    if isinstance(control, widgets.Text):
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"defaults[{name!r}] must be a non-empty string, got {value!r}.")
        return value
    low, high = control.min, control.max
    if isinstance(control, widgets.FloatLogSlider):
        low, high = control.base ** low, control.base ** high
    kind = numbers.Integral if isinstance(control, widgets.IntSlider) else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind) or not low <= value <= high:
        what = "an integer" if kind is numbers.Integral else "a number"
        raise ValueError(f"defaults[{name!r}] = {value!r} is out of range: give {what} "
                         f"from {low:g} to {high:g}.")
    return value


def perplexity_png(history: History | None, epochs: int, title: str) -> bytes:
    """The train and validation perplexity per epoch as PNG bytes (empty axes without a history)."""
    plot = LivePlot("epoch", "perplexity", ["train", "validation"], xlim=(0, epochs))
    if history is not None:
        for x, *values in zip(history.epochs, history.train_perplexity, history.valid_perplexity):
            plot.add(x, values)
    plot.draw(title)
    return figure_png(plot.figure)


@functools.lru_cache(maxsize=None)
def _empty_plot(epochs: int) -> bytes:
    return perplexity_png(None, epochs, "not trained yet")  # the same for every build: draw it once


class Playground(Controls, widgets.VBox):
    """Controls, buttons, a perplexity plot and generated text; see ``playground``."""

    def __init__(self, models: dict, *, defaults: dict | None = None, seed: int = 0,
                 title: str = ""):
        models, seed = model_factories(models), seed_value(seed)
        header = title_row(title)
        if defaults is not None and not isinstance(defaults, dict):
            raise TypeError(f"defaults must be a dict of setting -> value, got "
                            f"{type(defaults).__name__}.")
        self.models, self.seed = models, seed
        self.model = self.history = self.vocab = None
        self.controls = _controls(list(self.models))
        for name, value in (defaults or {}).items():
            if name not in self.controls:
                raise ValueError(f"Unknown setting {name!r} in defaults. The settings are: "
                                 f"{', '.join(self.controls)}.")
            self.controls[name].value = _checked(name, self.controls[name], value)
        self.controls["model"].disabled = len(self.models) == 1

        self.train_button = widgets.Button(description="Train", button_style="primary")
        self.stop_button = widgets.Button(description="Stop", disabled=True)
        self.generate_button = widgets.Button(description="Generate")
        self.image = widgets.Image(value=_empty_plot(self.controls["epochs"].value),
                                   format="png", layout=widgets.Layout(max_width="100%"))
        self.status = widgets.HTML("Set the controls and press Train; Stop keeps the model "
                                   "trained so far.")
        self.text = widgets.HTML()
        self._stop = threading.Event()      # set by Stop, read after every batch
        self._lock = threading.Lock()       # held while a training runs
        self._thread = None                 # the Train button's last training thread
        self._generator = torch.Generator().manual_seed(seed)
        rows = control_row(self.controls.values())
        buttons = widgets.HBox([self.train_button, self.stop_button, self.generate_button])
        super().__init__(header + [rows, buttons, self.image, self.status, self.text])
        self.train_button.on_click(lambda button: self.start())
        self.stop_button.on_click(lambda button: self.stop())
        self.generate_button.on_click(lambda button: self.generate())

    def start(self) -> None:
        """What Train does: ``train()`` in a background thread (kept as ``._thread``)."""
        if not self._lock.acquire(blocking=False):
            return                          # one training at a time
        self._stop.clear()
        self._thread = threading.Thread(target=self._train_in_thread, daemon=True)
        self._thread.start()

    def _train_in_thread(self) -> None:
        try:
            self._train()
        except Exception as error:          # an error in a thread is otherwise lost
            self.status.value = error_html(f"{type(error).__name__}: {error}")
        finally:
            self._lock.release()

    def stop(self) -> None:
        """What Stop does: end the running training after its current batch."""
        self._stop.set()

    def train(self) -> History | None:
        """Train a fresh model with the current settings, in this thread.

        Returns its ``History``, or None if the settings do not work together
        (the reason is then shown in the status line). Interrupting the kernel
        stops training cleanly, like the Stop button.
        """
        if not self._lock.acquire(blocking=False):
            raise RuntimeError("This playground is already training: press Stop and wait for "
                               "it to finish before training again.")
        try:
            self._stop.clear()
            return self._train()
        finally:
            self._lock.release()

    def _train(self) -> History | None:
        settings = self._settings = self.values()
        self._set_busy(True)
        try:
            train, valid, vocab = char_data(settings["corpus"])
            self._batches_done, self._last_report = 0, -math.inf
            self._started = time.monotonic()
            self._batches_total = settings["epochs"] * num_batches(
                len(train), settings["batch_size"], settings["num_steps"])
            set_seed(self.seed)
            model = self.models[settings["model"]](len(vocab), settings["hidden_size"])
            lr, optimizer = settings["lr"], None      # plain SGD inside train_language_model
            if settings["optimizer"] == "Adam":
                lr, optimizer = None, torch.optim.Adam(model_parameters(model), lr=lr)
            history = train_language_model(
                model, train, valid, batch_size=settings["batch_size"],
                num_steps=settings["num_steps"], lr=lr, optimizer=optimizer,
                epochs=settings["epochs"], time_budget=float(settings["time_limit"]),
                sampling=settings["sampling"],
                clip=None if settings["clip"] == "off" else settings["clip"],
                plot=False, verbose=False, on_epoch=self._show_epoch, stop=self._batch_done)
        except ValueError as error:         # settings that do not work together
            self.status.value = error_html(str(error))
            return None
        finally:
            self._set_busy(False)
        self.model, self.history, self.vocab = model, history, vocab
        self._generator = torch.Generator().manual_seed(self.seed)
        if not history.epochs:              # on_epoch never drew: say so on the plot
            self._show_epoch(history)
        self.status.value = f"<pre>{html.escape(history.summary())}</pre>"
        self.generate()
        return history

    def _set_busy(self, busy: bool) -> None:
        self.train_button.disabled = self.generate_button.disabled = busy
        self.stop_button.disabled = not busy

    def _batch_done(self) -> bool:
        """Called after every batch: shows progress about once a second; True after Stop."""
        self._batches_done += 1
        now = time.monotonic()
        if now - self._last_report >= 1.0:
            self._last_report = now
            self.status.value = (f"Training: batch {self._batches_done} of at most "
                                 f"{self._batches_total}, {now - self._started:.0f} s "
                                 f"(limit {self._settings['time_limit']} s).")
        return self._stop.is_set()

    def _show_epoch(self, history: History) -> None:
        done = history.epochs[-1] if history.epochs else 0
        title = (f"epoch {done:.3g}: validation perplexity {history.valid_perplexity[-1]:.2f}"
                 if history.epochs else "no epoch finished")
        self.image.value = perplexity_png(history, self._settings["epochs"], title)

    def generate(self) -> str:
        """What Generate does: new text from the current model, without training.

        Uses the current prefix and temperature. Returns the prefix and the
        ``GENERATED_CHARS`` characters after it, or '' with the reason shown
        in the text box.
        """
        if self.model is None:
            self.text.value = error_html("No model yet: press Train first.")
            return ""
        settings = self.values()
        try:
            text = generate(self.model, self.vocab, settings["prefix"], GENERATED_CHARS,
                            settings["temperature"], generator=self._generator)
        except ValueError as error:         # e.g. a prefix with characters the model never saw
            self.text.value = error_html(str(error))
            return ""
        self.text.value = f"<pre>{html.escape(text)}</pre>"
        return text

    def __repr__(self) -> str:
        return f"Playground({', '.join(self.models)})"


def playground(models: dict, *, defaults: dict | None = None, seed: int = 0,
               title: str = "") -> Playground:
    """A widget to train a character-level language model and see what it learned.

    ``models`` maps a display name to a factory: ``factory(vocab_size,
    hidden_size)`` returns a new model in the form ``utils.training`` describes
    (with several entries the reader picks one from a menu). The controls set
    the hidden size, learning rate, optimizer ('SGD' or 'Adam'), steps per
    batch, batch size, epochs, a time limit in seconds (training ends at
    whichever of the two comes first), gradient clipping ('off' or a maximum
    norm), sampling temperature (0: greedy), corpus ('time_machine' or
    'war_of_the_worlds', in characters, split 90/10), iteration ('random' or
    'sequential') and the prefix that generated text starts from.

    ``defaults`` overrides initial values by setting name, for example
    ``dict(hidden_size=256, lr=2.0, epochs=10, clip=1.0, temperature=0.5)``;
    ``Playground.values()`` lists the names. Train seeds everything with
    ``seed``, builds a fresh model and trains it; the plot shows perplexity per
    epoch, and afterwards the status line shows the summary and the box below
    ~150 generated characters. Generate samples again from the same model.
    Building the widget trains nothing and prints nothing.
    """
    return Playground(models, defaults=defaults, seed=seed, title=title)
