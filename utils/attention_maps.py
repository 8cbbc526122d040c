"""Heat maps of attention weights, and the attention widget of chapter 15.

A decoder with attention (chapter 15 defines one) stores, for every word it
writes, one weight per source position; ``greedy_translate`` returns them as
``Translation.attention``. These functions draw them: one row per French word
written (and the '<eos>' step), one column per English token read (and '<eos>').
"""

from __future__ import annotations

import torch
from matplotlib.figure import Figure

from .translate import greedy_translate, translation_text


def plot_attention(ax, weights: torch.Tensor, source: list[str], target: list[str],
                   title: str = ""):
    """Draw ``weights`` (len(target), len(source)) on the matplotlib axes ``ax``.

    Row i is the step that wrote ``target[i]``; column j is the source token
    ``source[j]``. Darker means more weight; each row sums to 1 over the real
    source positions. Returns the image, for a colorbar.
    """
    weights = torch.as_tensor(weights, dtype=torch.float32).detach().cpu()
    if weights.dim() != 2 or tuple(weights.shape) != (len(target), len(source)):
        raise ValueError(f"weights must have shape (len(target), len(source)) = "
                         f"({len(target)}, {len(source)}), got {tuple(weights.shape)}.")
    image = ax.imshow(weights.numpy(), cmap="Greys", vmin=0.0, vmax=1.0,
                      interpolation="nearest", aspect="auto")
    ax.set_xticks(range(len(source)), source, rotation=45, ha="right", rotation_mode="anchor")
    ax.set_yticks(range(len(target)), target)
    ax.set_xlabel("English (read)")
    ax.set_ylabel("French (written)")
    if title:
        ax.set_title(title, fontsize=10)
    return image


def translation_weights(translation) -> tuple[torch.Tensor, list[str], list[str]]:
    """The attention of a ``Translation`` cut to its real rows and columns.

    Returns (weights (steps, read), source labels, target labels): the columns
    are the tokens the encoder read, '<eos>' included, and the rows the words
    written, plus '<eos>' if the decoder wrote it.
    """
    if translation.attention is None:
        raise ValueError("This translation has no attention weights: the model's decoder "
                         "does not store attention_weights. Use a decoder with attention "
                         "(chapter 15's AttentionDecoder).")
    weights = translation.attention                                   # (steps, num_steps)
    source = (translation.source + ["<eos>"])[:weights.shape[1]]
    target = (translation.tokens + ["<eos>"])[:weights.shape[0]]
    return weights[:len(target), :len(source)], source, target


def attention_view(model, data, text: str):
    """What chapter 15's widget shows for ``text``: (a heat map ``Figure``, the translation text).

    The text is ``translation_text``'s (the source as read, unknown words marked,
    the French). A blank ``text`` raises ``ValueError`` with a hint, which the
    widget shows as a message.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("Type an English sentence, e.g. i'm home .")
    weights, source, target = translation_weights(greedy_translate(model, text, data))
    figure = Figure(figsize=(1.2 + 0.55 * len(source), 1.0 + 0.4 * len(target)))
    ax = figure.subplots()
    image = plot_attention(ax, weights, source, target)
    figure.colorbar(image, ax=ax, label="weight", fraction=0.05)
    return figure, translation_text(model, data, text)


def attention_box(model, data, value: str = "i'm home ."):
    """A text box for an English sentence; below it the translation and its heat map.

    Building it translates ``value`` once and trains nothing; the view updates
    when you press Enter or leave the box (ipywidgets 7.7 and 8).
    """
    from .widgets import explorer, sentence_control
    return explorer(lambda text: attention_view(model, data, text), {"text": sentence_control(value)},
                    title="Translate a sentence and see where the decoder looked")
