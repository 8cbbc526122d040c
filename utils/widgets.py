"""The book's widgets and their shared parts (ipywidgets 7.7 and 8).

Every widget module builds on what is here: ``ERROR`` / ``error_html`` (a
message in red), ``control_row`` (controls that wrap on a narrow screen),
``Controls`` (``values()`` of a dict of controls), ``sentence_control`` (the
English text box of the translation chapters) and ``text_box``. The views:
``explorer`` (a figure and text re-drawn when a control changes, chapters
1-16), ``speed_meter`` (chapter 16) and, in their own modules, the
``playground`` (chapters 4-11) and chapter 15's ``attention_box``.

A view shows its result in ``Image`` and ``HTML`` widgets rather than printing
into an ``Output`` widget, so building it sends no output messages that nbval
would compare, and the website shows the stored view frozen.

The rest of ``utils`` imports this module only inside the functions that
build a widget: training, decoding and benchmarks work without ipywidgets.
"""

from __future__ import annotations

import html
import inspect
import os
from typing import Callable

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure

from .checks import model_factories, positive_float, positive_int, seed_value
from .progress import figure_png
from .runtime import available_devices, set_seed
from .speed import FORMATS, training_speed
from .training import model_parameters

ERROR = '<span style="color:#b00">{}</span>'   # an HTML message in red; fill with escaped text


def error_html(message: str) -> str:
    """``message`` escaped and shown in red."""
    return ERROR.format(html.escape(message))


def title_row(title) -> list:
    """The widget's title in bold, as a list of one HTML widget (none for an empty title)."""
    if not isinstance(title, str):
        raise TypeError(f"title must be a str, got {type(title).__name__} {title!r}.")
    return [widgets.HTML(f"<b>{html.escape(title)}</b>")] if title else []


def _check_render(render: Callable, names: list) -> None:
    """``render`` must take every control's name as a keyword argument."""
    if not callable(render):
        raise TypeError(f"render must be a function, got {type(render).__name__}.")
    try:
        parameters = inspect.signature(render).parameters
    except (TypeError, ValueError):     # a builtin without a signature: let the call decide
        return
    if any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        return
    accepted = {name for name, p in parameters.items()
                if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    missing = [name for name in names if name not in accepted]
    if missing:
        raise TypeError(f"render is called with one keyword argument per control "
                        f"({', '.join(names)}), but it does not take {', '.join(missing)}; "
                        f"name its parameters after the controls.")


def control_row(controls) -> widgets.HBox:
    """The controls side by side, wrapping onto more lines when the screen is narrow."""
    return widgets.HBox(list(controls), layout=widgets.Layout(flex_flow="row wrap"))


class Controls:
    """For a widget with a ``controls`` dict of name -> control."""

    controls: dict

    def values(self) -> dict:
        """The current settings, by name."""
        return {name: control.value for name, control in self.controls.items()}


def sentence_control(value: str = "i'm home .") -> widgets.Text:
    """A full-width text box for an English sentence; it reports on Enter or on leaving it."""
    return widgets.Text(value=value, description="English:", continuous_update=False,
                        layout=widgets.Layout(width="100%"))


def text_box(text_of: Callable[[str], str], value: str = "i'm home .") -> widgets.VBox:
    """A sentence box with ``text_of(sentence)`` shown below it, updated on Enter."""
    if not callable(text_of):
        raise TypeError(f"text_of must be a function of the sentence, got {text_of!r}.")
    box, shown = sentence_control(value), widgets.HTML()

    def update(change=None):
        shown.value = f"<pre>{html.escape(text_of(box.value))}</pre>"

    box.observe(update, names="value")
    update()
    return widgets.VBox([box, shown])


class Explorer(Controls, widgets.VBox):
    """Controls on top, the rendered figure and text below; see ``explorer``."""

    def __init__(self, render: Callable, controls: dict, title: str = ""):
        if (not isinstance(controls, dict) or not controls
                or not all(isinstance(c, widgets.ValueWidget) for c in controls.values())):
            raise TypeError("controls must be a non-empty dict of name -> ipywidgets control "
                            "(IntSlider, Dropdown, ...).")
        bad = [name for name in controls if not isinstance(name, str) or not name.isidentifier()]
        if bad:
            raise TypeError(f"The names of controls are render's keyword arguments, so they "
                            f"must be Python names; got {', '.join(map(repr, bad))}.")
        _check_render(render, list(controls))
        header = title_row(title)
        self.render, self.controls = render, dict(controls)
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self.text = widgets.HTML()
        super().__init__(header + [control_row(self.controls.values()), self.image, self.text])
        for control in self.controls.values():
            control.observe(lambda change: self.refresh(), names="value")
        self.refresh()

    def refresh(self) -> None:
        """Call ``render`` with the current values and show what it returns."""
        try:
            result = self.render(**self.values())
        except ValueError as error:  # a combination of settings that does not work
            self.image.layout.display = "none"
            self.text.value = f"<pre>{error_html(str(error))}</pre>"
            return
        figure, text = None, ""
        for part in result if isinstance(result, tuple) else (result,):
            if isinstance(part, Figure):
                figure = part
            elif isinstance(part, str):
                text = part
            elif part is not None:
                raise TypeError(f"render must return a matplotlib Figure, a str, or a tuple of "
                                f"them; got {type(part).__name__}.")
        self.image.layout.display = None if figure is not None else "none"
        if figure is not None:
            self.image.value = figure_png(figure)
        self.text.value = f"<pre>{html.escape(text)}</pre>" if text else ""

    def __repr__(self) -> str:
        return f"Explorer({', '.join(self.controls)})"


def explorer(render: Callable, controls: dict, title: str = "") -> Explorer:
    """An interactive view: ``render(**values)`` is re-run whenever a control changes.

    ``controls`` maps each argument of ``render`` to an ipywidgets control;
    ``render`` returns a matplotlib ``Figure``, a ``str``, or a tuple of both.
    It runs once when the view is built, so keep it cheap (no training). A
    ``ValueError`` it raises is shown as a message instead of a traceback.
    """
    return Explorer(render, controls, title)


# -- chapter 16's speed meter --------------------------------------------------------------

SPEED_HIDDEN_SIZES = [32, 64, 128, 256, 512, 1024]
BATCH_SIZES = [1, 8, 32, 64, 128, 256, 512]


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


class SpeedMeter(Controls, widgets.VBox):
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
            "hidden_size": widgets.Dropdown(description="hidden size", options=SPEED_HIDDEN_SIZES,
                                            value=256, style=style),
            "batch_size": widgets.Dropdown(description="batch size", options=BATCH_SIZES,
                                           value=64, style=style),
            "threads": widgets.Dropdown(description="CPU threads", options=threads,
                                        value=min(torch.get_num_threads(), threads[-1]),
                                        style=style),
            "device": widgets.Dropdown(description="device", options=available_devices(), style=style),
            "format": widgets.Dropdown(description="number format", options=list(FORMATS),
                                       style=style),
        }
        self.button = widgets.Button(description="Measure", button_style="primary")
        self.clear_button = widgets.Button(description="Clear")
        self.status = widgets.HTML(f"Pick the settings and press Measure (about "
                                   f"{self.seconds:g} s of training on random tokens).")
        self.table = widgets.HTML()
        buttons = widgets.HBox([self.button, self.clear_button])
        super().__init__([control_row(self.controls.values()), buttons, self.status, self.table])
        self.button.on_click(lambda button: self.measure())
        self.clear_button.on_click(lambda button: self.clear())

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
            self.status.value = error_html(f"{type(error).__name__}: {error}")
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
