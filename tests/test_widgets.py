"""Tests for utils/widgets.py: explorer and Explorer."""

import ipywidgets as widgets
import pytest
from matplotlib.figure import Figure

from utils import Explorer, explorer

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class Render:
    """A render function that records its calls; n > 5 is 'a setting that does not work'."""

    def __init__(self):
        self.calls = []

    def __call__(self, n, name):
        self.calls.append((n, name))
        if n > 5:
            raise ValueError(f"n={n} is <too big>")
        fig = Figure(figsize=(2, 1.5))
        fig.subplots().plot(range(n + 1))
        return fig, f"n is {n} & name is {name}"


@pytest.fixture
def view():
    render = Render()
    controls = {"n": widgets.IntSlider(value=2, min=0, max=10),
                "name": widgets.Dropdown(options=["a", "b"], value="a")}
    return explorer(render, controls, title="Try <it>"), render, controls


def shown_png(view_):
    return bytes(view_.image.value)


def test_explorer_renders_once_when_built(view):
    view_, render, _ = view
    assert isinstance(view_, Explorer) and isinstance(view_, widgets.VBox)
    assert render.calls == [(2, "a")]
    assert shown_png(view_).startswith(PNG_SIGNATURE)
    assert view_.image.layout.display is None
    assert view_.text.value == "<pre>n is 2 &amp; name is a</pre>"
    assert view_.values() == {"n": 2, "name": "a"}


def test_explorer_lays_out_title_controls_image_text(view):
    view_, _, controls = view
    title, row, image, text = view_.children
    assert title.value == "<b>Try &lt;it&gt;</b>"
    assert list(row.children) == list(controls.values())
    assert image is view_.image and text is view_.text


def test_explorer_without_a_title_has_no_header():
    view_ = explorer(lambda n: f"{n}", {"n": widgets.IntSlider(value=1)})
    assert len(view_.children) == 3


def test_changing_a_control_renders_again_with_the_new_value(view):
    view_, render, controls = view
    before = shown_png(view_)
    controls["n"].value = 4
    assert render.calls[-1] == (4, "a") and len(render.calls) == 2
    assert view_.text.value == "<pre>n is 4 &amp; name is a</pre>"
    assert shown_png(view_) != before
    controls["name"].value = "b"
    assert render.calls[-1] == (4, "b")
    assert "name is b" in view_.text.value


def test_a_value_error_is_shown_as_a_message_instead_of_raised(view):
    view_, render, controls = view
    controls["n"].value = 7                            # must not raise
    assert render.calls[-1] == (7, "a")
    assert view_.image.layout.display == "none"
    assert "n=7 is &lt;too big&gt;" in view_.text.value
    assert 'color:#b00' in view_.text.value


def test_the_view_recovers_after_an_error(view):
    view_, _, controls = view
    controls["n"].value = 9
    controls["n"].value = 3
    assert view_.image.layout.display is None
    assert view_.text.value == "<pre>n is 3 &amp; name is a</pre>"


def test_a_value_error_while_building_is_shown_too():
    def render(n):
        raise ValueError("no good")
    view_ = explorer(render, {"n": widgets.IntSlider(value=1)})
    assert view_.image.layout.display == "none" and "no good" in view_.text.value


@pytest.mark.parametrize("result, image_shown, text", [
    ("only text", False, "<pre>only text</pre>"),
    (None, False, ""),
    (("a", None), False, "<pre>a</pre>"),
])
def test_render_may_return_text_or_nothing(result, image_shown, text):
    view_ = explorer(lambda n: result, {"n": widgets.IntSlider(value=1)})
    assert (view_.image.layout.display != "none") is image_shown
    assert view_.text.value == text


def test_render_may_return_only_a_figure():
    view_ = explorer(lambda n: Figure(figsize=(1, 1)), {"n": widgets.IntSlider(value=1)})
    assert view_.image.layout.display is None
    assert bytes(view_.image.value).startswith(PNG_SIGNATURE)
    assert view_.text.value == ""


@pytest.mark.parametrize("result, name", [(42, "int"), ([Figure()], "list"), ((Figure(), 1.5), "float")])
def test_render_returning_something_else_is_a_type_error(result, name):
    with pytest.raises(TypeError, match=rf"matplotlib Figure, a str, or a tuple of them; got {name}"):
        explorer(lambda n: result, {"n": widgets.IntSlider(value=1)})


def test_other_errors_from_render_are_not_hidden():
    def render(n):
        raise RuntimeError("a bug in render")
    with pytest.raises(RuntimeError, match="a bug in render"):
        explorer(render, {"n": widgets.IntSlider(value=1)})


@pytest.mark.parametrize("render, name", [(None, "NoneType"), ("plot", "str"), (3, "int")])
def test_render_must_be_callable(render, name):
    with pytest.raises(TypeError, match=f"render must be a function, got {name}"):
        explorer(render, {"n": widgets.IntSlider()})


@pytest.mark.parametrize("controls", [
    {},
    None,
    {"n": 5},
    {"n": widgets.IntSlider(), "go": widgets.Button()},
    {"n": "IntSlider"},
])
def test_controls_must_be_a_non_empty_dict_of_widgets(controls):
    with pytest.raises(TypeError, match=r"controls must be a non-empty dict of name -> ipywidgets "
                                        r"control"):
        explorer(lambda **values: "x", controls)


@pytest.mark.parametrize("controls", [[widgets.IntSlider()], (widgets.IntSlider(),)])
def test_controls_given_as_a_list_are_a_type_error(controls):
    with pytest.raises(TypeError, match="controls must be a non-empty dict"):
        explorer(lambda **values: "x", controls)


def test_explorer_repr_is_short(view):
    view_, _, _ = view
    assert repr(view_) == "Explorer(n, name)"


def test_explorer_class_and_function_build_the_same_view():
    def render(n):
        return f"n={n}"
    direct = Explorer(render, {"n": widgets.IntSlider(value=3)}, title="T")
    assert direct.text.value == "<pre>n=3</pre>" and repr(direct) == "Explorer(n)"


@pytest.mark.parametrize("title", [5, None, b"bytes", ["a"]])
def test_a_title_that_is_not_a_str_is_a_type_error(title):
    with pytest.raises(TypeError, match=rf"title must be a str, got {type(title).__name__}"):
        explorer(lambda n: "x", {"n": widgets.IntSlider()}, title=title)


@pytest.mark.parametrize("name", [5, "two words", "", "1st"])
def test_control_names_must_be_python_names(name):
    # They become render's keyword arguments: 5 failed deep inside the call
    # ("keywords must be strings"), "two words" only when render was called.
    with pytest.raises(TypeError, match=rf"must be Python names; got {name!r}"):
        explorer(lambda **values: "x", {name: widgets.IntSlider()})


def test_render_must_take_every_control_by_name():
    def render(n, colour="red"):
        return f"{n} {colour}"

    with pytest.raises(TypeError, match=r"one keyword argument per control \(n, size\), but it "
                                        r"does not take size; name its parameters after"):
        explorer(render, {"n": widgets.IntSlider(), "size": widgets.IntSlider()})
    # A render that takes **values, or the controls by name, is accepted.
    explorer(lambda **values: "x", {"size": widgets.IntSlider()})
    explorer(render, {"colour": widgets.Dropdown(options=["red"]), "n": widgets.IntSlider()})
