"""Small interactive views built from ipywidgets (works with ipywidgets 7.7 and 8).

The view shows its result in an ``Image`` and an ``HTML`` widget rather than
printing into an ``Output`` widget, so building it sends no output messages
that nbval would compare, and the website shows the stored view frozen.
"""

from __future__ import annotations

import html
from typing import Callable

import ipywidgets as widgets
from matplotlib.figure import Figure

from .progress import figure_png


class Explorer(widgets.VBox):
    """Controls on top, the rendered figure and text below; see ``explorer``."""

    def __init__(self, render: Callable, controls: dict, title: str = ""):
        if not callable(render):
            raise TypeError(f"render must be a function, got {type(render).__name__}.")
        if (not isinstance(controls, dict) or not controls
                or not all(isinstance(c, widgets.ValueWidget) for c in controls.values())):
            raise TypeError("controls must be a non-empty dict of name -> ipywidgets control "
                            "(IntSlider, Dropdown, ...).")
        self.render, self.controls = render, dict(controls)
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self.text = widgets.HTML()
        header = [widgets.HTML(f"<b>{html.escape(title)}</b>")] if title else []
        row = widgets.HBox(list(self.controls.values()),
                           layout=widgets.Layout(flex_flow="row wrap"))
        super().__init__(header + [row, self.image, self.text])
        for control in self.controls.values():
            control.observe(lambda change: self.refresh(), names="value")
        self.refresh()

    def values(self) -> dict:
        return {name: control.value for name, control in self.controls.items()}

    def refresh(self) -> None:
        """Call ``render`` with the current values and show what it returns."""
        try:
            result = self.render(**self.values())
        except ValueError as error:  # a combination of settings that does not work
            self.image.layout.display = "none"
            self.text.value = f'<pre style="color:#b00">{html.escape(str(error))}</pre>'
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
