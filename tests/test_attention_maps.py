"""utils.attention_maps: heat maps of attention weights and chapter 15's widget."""

from __future__ import annotations

import pytest
import torch
from matplotlib.figure import Figure

import utils
from test_translator_decoders import TINY, UniformAttentionDecoder


@pytest.fixture(scope="module")
def tiny():
    data = utils.translator.translation_data(TINY)
    utils.set_seed(0)
    model = utils.build_seq2seq(TINY, data, decoder=UniformAttentionDecoder).eval()
    return model, data


def test_plot_attention_checks_the_shape_and_labels_the_axes():
    ax = Figure().subplots()
    weights = torch.tensor([[0.5, 0.5, 0.0], [0.1, 0.2, 0.7]])
    utils.plot_attention(ax, weights, ["go", ".", "<eos>"], ["va", "<eos>"])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["go", ".", "<eos>"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["va", "<eos>"]
    with pytest.raises(ValueError, match=r"\(2, 2\), got \(2, 3\)"):
        utils.plot_attention(ax, weights, ["go", "."], ["va", "<eos>"])


def test_translation_weights_keep_the_real_rows_and_columns(tiny):
    model, data = tiny
    translation = utils.greedy_translate(model, "i'm home .", data)
    weights, source, target = utils.translation_weights(translation)
    assert source == ["i'm", "home", ".", "<eos>"]
    assert target[:len(translation.tokens)] == translation.tokens
    assert tuple(weights.shape) == (len(target), 4)
    torch.testing.assert_close(weights.sum(1), torch.ones(len(target)))


def test_translation_weights_refuse_a_model_without_attention(tiny):
    model, data = tiny
    plain = utils.build_seq2seq(TINY, data).eval()
    with pytest.raises(ValueError, match="no attention weights"):
        utils.translation_weights(utils.greedy_translate(plain, "go .", data))


def test_attention_view_gives_a_heat_map_and_the_translation(tiny):
    model, data = tiny
    figure, text = utils.attention_view(model, data, "I'm zyxwv.")
    assert isinstance(figure, Figure)
    assert text == utils.translation_text(model, data, "I'm zyxwv.")
    assert [t.get_text() for t in figure.axes[0].get_xticklabels()] == \
        ["i'm", "zyxwv", ".", "<eos>"]
    with pytest.raises(ValueError, match="Type an English sentence"):
        utils.attention_view(model, data, "   ")


def test_attention_box_builds_without_training_and_updates(tiny):
    model, data = tiny
    view = utils.attention_box(model, data, value="go .")
    box = view.controls["text"]
    first = view.image.value
    assert first and "English: go ." in view.text.value
    box.value = "i'm zyxwv ."
    assert view.image.value != first and "&lt;unk&gt;(zyxwv)" in view.text.value
    box.value = "  "
    assert "Type an English sentence" in view.text.value
