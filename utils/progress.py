"""A training plot that redraws in place, in Jupyter, JupyterLab, VS Code and Colab.

How it stays friendly to the saved notebook, the website and nbval: the plot
is shown once with a display id and later redrawn with ``update_display_data``
messages, which replace that one output instead of adding new ones (no
``clear_output``). The saved notebook therefore holds exactly one image, the
final one, and nbval, which does not compare images, sees one stable output.
Outside a Jupyter kernel (a script, pytest) nothing is displayed.
"""

from __future__ import annotations

import io
import time

from matplotlib.figure import Figure


def in_notebook() -> bool:
    """True inside a Jupyter kernel (including Colab), False in scripts and tests."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


def figure_png(fig: Figure, dpi: int = 100) -> bytes:
    """Render a matplotlib figure to PNG bytes."""
    if not hasattr(fig, "savefig"):
        raise TypeError(f"fig must be a matplotlib Figure, got a {type(fig).__name__}.")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()


class PNG:
    """Something IPython shows as an image, with a short, stable text form."""

    def __init__(self, data: bytes, label: str):
        self.data, self.label = data, label

    def _repr_png_(self) -> bytes:
        return self.data

    def __repr__(self) -> str:
        return f"<{self.label}>"


class LivePlot:
    """Curves that grow while a model trains.

    >>> plot = LivePlot("epoch", "loss", ["train", "validation"])
    >>> plot.add(1, [2.3, 2.5]); plot.show("epoch 1/10")   # redraws at most every 0.5 s
    >>> plot.show("done", final=True)                        # always redraws

    ``figure`` is a plain matplotlib Figure (not managed by pyplot, so Jupyter
    does not show a second copy at the end of the cell).
    """

    def __init__(self, xlabel: str, ylabel: str, legend: list[str], xlim=None,
                 yscale: str = "linear", figsize=(5.5, 3.0), min_interval: float = 0.5):
        if (isinstance(legend, str) or not isinstance(legend, (list, tuple)) or not legend
                or not all(isinstance(name, str) for name in legend)):
            raise TypeError(f"legend must be a non-empty list of curve names, such as "
                            f"['train', 'validation'], got {legend!r}.")
        self.legend = list(legend)
        self.xs: list[float] = []
        self.ys: list[list[float]] = [[] for _ in self.legend]
        self.figure = Figure(figsize=figsize)
        self.axes = self.figure.subplots()
        self.xlabel, self.ylabel, self.xlim, self.yscale = xlabel, ylabel, xlim, yscale
        self.min_interval = min_interval
        self._handle = None
        self._last_draw = -float("inf")

    def add(self, x: float, values) -> None:
        """Append one point to every curve: ``values`` has one number per legend entry."""
        values = list(values)
        if len(values) != len(self.legend):
            raise ValueError(f"add() got {len(values)} values for {len(self.legend)} curves "
                             f"({self.legend}).")
        self.xs.append(float(x))
        for ys, v in zip(self.ys, values):
            ys.append(float(v))

    def draw(self, title: str = "") -> None:
        ax = self.axes
        ax.clear()
        for name, ys in zip(self.legend, self.ys):
            ax.plot(self.xs, ys, marker="o" if len(self.xs) < 30 else None, ms=3, label=name)
        ax.set_xlabel(self.xlabel)
        ax.set_ylabel(self.ylabel)
        ax.set_yscale(self.yscale)
        if self.xlim:
            ax.set_xlim(*self.xlim)
        ax.grid(alpha=0.3)
        if self.xs:
            ax.legend()
        ax.set_title(title, fontsize=10)

    def image(self, title: str = "") -> PNG:
        self.draw(title)
        return PNG(figure_png(self.figure), f"plot: {self.ylabel} by {self.xlabel}")

    def show(self, title: str = "", final: bool = False) -> None:
        """Redraw in the notebook (at most every ``min_interval`` seconds unless ``final``)."""
        if not in_notebook():
            return
        now = time.monotonic()
        if not final and now - self._last_draw < self.min_interval:
            return
        self._last_draw = now
        from IPython.display import display
        if self._handle is None:
            self._handle = display(self.image(title), display_id=True)
        else:
            self._handle.update(self.image(title))
