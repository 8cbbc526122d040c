"""Tests for utils/progress.py: in_notebook, figure_png, LivePlot."""

import struct

import IPython
import IPython.display
import pytest
from matplotlib.figure import Figure

import utils.progress
from utils import LivePlot, figure_png, in_notebook

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from the IHDR chunk that follows the signature."""
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


# in_notebook

def test_in_notebook_is_false_under_pytest():
    assert in_notebook() is False


def test_in_notebook_needs_a_shell_with_a_kernel(monkeypatch):
    class Shell:
        pass
    monkeypatch.setattr(IPython, "get_ipython", lambda: Shell())
    assert in_notebook() is False                       # a terminal IPython has no kernel
    Shell.kernel = object()
    assert in_notebook() is True


# figure_png

def test_figure_png_gives_png_bytes_that_scale_with_dpi():
    fig = Figure(figsize=(4, 2))
    fig.subplots().plot([0, 1, 2], [1, 0, 1])
    small, large = figure_png(fig, dpi=50), figure_png(fig)
    assert small.startswith(PNG_SIGNATURE) and large.startswith(PNG_SIGNATURE)
    (w50, h50), (w100, h100) = png_size(small), png_size(large)
    assert 1.8 < w100 / w50 < 2.2 and 1.8 < h100 / h50 < 2.2
    assert 300 < w100 < 450                             # about 4 inches at 100 dpi


# LivePlot

def make_plot(**kwargs):
    return LivePlot("epoch", "perplexity", ["train", "validation"], **kwargs)


def test_liveplot_add_appends_one_value_per_curve():
    plot = make_plot()
    plot.add(1, [20.5, 22])
    plot.add(2.5, (15, 18.25))
    assert plot.xs == [1.0, 2.5]
    assert plot.ys == [[20.5, 15.0], [22.0, 18.25]]


@pytest.mark.parametrize("values", [[1.0], [1.0, 2.0, 3.0], []])
def test_liveplot_add_with_the_wrong_number_of_values_is_refused(values):
    plot = make_plot()
    with pytest.raises(ValueError, match=rf"add\(\) got {len(values)} values for 2 curves "
                                         rf"\(\['train', 'validation'\]\)"):
        plot.add(1, values)
    assert plot.xs == [] and plot.ys == [[], []]        # nothing half-added


def test_liveplot_image_is_a_png_with_a_short_repr():
    plot = make_plot(xlim=(0, 10), yscale="log")
    plot.add(1, [20, 22])
    plot.add(2, [15, 18])
    image = plot.image("epoch 2/10")
    assert image._repr_png_().startswith(PNG_SIGNATURE)
    assert image.data == image._repr_png_()
    assert repr(image) == "<plot: perplexity by epoch>"
    axes = plot.axes
    assert axes.get_title() == "epoch 2/10"
    assert axes.get_xlim() == (0, 10)
    assert axes.get_yscale() == "log"
    assert [line.get_label() for line in axes.get_lines()] == ["train", "validation"]
    assert list(axes.get_lines()[1].get_ydata()) == [22, 18]


def test_liveplot_image_of_an_empty_plot_works():
    assert make_plot().image().data.startswith(PNG_SIGNATURE)


def test_liveplot_redraws_without_piling_up_lines():
    plot = make_plot()
    plot.add(1, [3, 4])
    plot.image()
    plot.image()
    assert len(plot.axes.get_lines()) == 2


def test_liveplot_show_outside_a_notebook_does_nothing(monkeypatch):
    def no_display(*args, **kwargs):
        raise AssertionError("display() called outside a notebook")
    monkeypatch.setattr(IPython.display, "display", no_display)
    plot = make_plot()
    plot.add(1, [3, 4])
    plot.show("epoch 1")
    plot.show("done", final=True)
    assert plot._handle is None


class FakeDisplay:
    """Stands in for IPython.display.display and the handle it returns."""

    def __init__(self):
        self.shown, self.updates = [], []

    def __call__(self, obj, display_id=None):
        self.shown.append((obj, display_id))
        return self

    def update(self, obj):
        self.updates.append(obj)


@pytest.fixture
def notebook(monkeypatch):
    fake = FakeDisplay()
    monkeypatch.setattr(utils.progress, "in_notebook", lambda: True)
    monkeypatch.setattr(IPython.display, "display", fake)
    return fake


def test_liveplot_show_in_a_notebook_displays_once_then_updates(notebook):
    plot = make_plot(min_interval=0)
    plot.add(1, [3, 4])
    plot.show("epoch 1")
    plot.add(2, [2, 3])
    plot.show("epoch 2")
    plot.show("done", final=True)
    assert len(notebook.shown) == 1 and notebook.shown[0][1] is True
    assert len(notebook.updates) == 2
    assert all(image.data.startswith(PNG_SIGNATURE) for image in notebook.updates)
    assert plot.axes.get_title() == "done"


def test_liveplot_show_is_throttled_unless_final(notebook):
    plot = make_plot(min_interval=3600)
    plot.add(1, [3, 4])
    plot.show("epoch 1")
    plot.show("epoch 2")                                # within the interval: skipped
    assert len(notebook.shown) == 1 and notebook.updates == []
    plot.show("done", final=True)
    assert len(notebook.updates) == 1
    assert plot.axes.get_title() == "done"
