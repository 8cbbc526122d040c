"""Translating with a trained encoder-decoder: a whole part of the data, one sentence, the widget.

``translate_pairs`` and ``evaluate_bleu`` translate every pair of a part
('train', 'valid', 'test') greedily, in batches; ``greedy_translate`` one
English sentence, with what the model could not read; ``translation_text`` and
``translation_box`` are chapter 13's translation widget. The models come from
``utils.translator`` (``trained_seq2seq``); the decoding itself is
``utils.seq2seq.greedy_decode``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .bleu import corpus_bleu
from .checks import positive_int
from .seq2seq import EncoderDecoder, greedy_decode
from .translation import TranslationData, encode_sentences, normalize


def translate_pairs(model: EncoderDecoder, data: TranslationData, part: str = "test",
                    batch_size: int = 1000) -> list[list[str]]:
    """Greedy translations (French tokens) of every pair of ``data``'s 'train', 'valid' or 'test'."""
    if part not in ("train", "valid", "test"):
        raise ValueError(f"part must be 'train', 'valid' or 'test', got {part!r}.")
    batch_size = positive_int("batch_size", batch_size)
    encoded = getattr(data, part)
    tgt = data.tgt_vocab
    out = []
    for start in range(0, len(encoded.src), batch_size):
        rows = slice(start, start + batch_size)
        decoded = greedy_decode(model, encoded.src[rows], encoded.src_valid_len[rows],
                                bos=tgt["<bos>"], eos=tgt["<eos>"], max_steps=data.num_steps)
        out += [tgt.to_tokens(indices) for indices in decoded.indices]
    return out


def evaluate_bleu(model: EncoderDecoder, data: TranslationData, part: str = "test"):
    """Translate a whole part greedily and score it: (``corpus_bleu`` score, predictions).

    The labels are the real French sentences of ``data.test_pairs`` (or
    ``valid_pairs``, ``train_pairs``), not their '<unk>'-mapped indices: a word
    the vocabulary lacks cannot be matched, as it should be.
    """
    predictions = translate_pairs(model, data, part)
    labels = [tgt for _, tgt in getattr(data, f"{part}_pairs")]
    return corpus_bleu(predictions, labels), predictions


@dataclass
class Translation:
    """One sentence through ``greedy_translate``."""
    source: list[str]            # the English tokens as the model reads them (after normalize)
    tokens: list[str]            # the French translation, without '<eos>'
    unknown: list[str]           # source words not in the vocabulary (read as '<unk>')
    truncated: bool              # the sentence was cut to fit num_steps
    attention: torch.Tensor | None = None   # (len(tokens) + 1, num_steps), if the decoder has it

    @property
    def text(self) -> str:
        return " ".join(self.tokens)


def greedy_translate(model: EncoderDecoder, sentence, data: TranslationData) -> Translation:
    """Translate one English sentence (a str, normalized here, or a token list) greedily.

    The sentence gets '<eos>' and padding up to ``data.num_steps`` (longer ones
    are cut, which ``truncated`` reports); decoding stops at '<eos>'. If the
    decoder has ``attention_weights``, ``attention`` holds one row of weights
    over the source positions per output step.
    """
    if isinstance(sentence, str):
        tokens = normalize(sentence).split()
    elif isinstance(sentence, (list, tuple)) and all(isinstance(t, str) for t in sentence):
        tokens = list(sentence)
    else:
        raise TypeError(f"sentence must be a str or a list of str tokens, got {sentence!r}.")
    if not tokens:
        raise ValueError(f"The sentence {sentence!r} has no words to translate.")
    src_vocab, tgt_vocab = data.src_vocab, data.tgt_vocab
    src, src_valid_len = encode_sentences([tokens], src_vocab, data.num_steps)
    decoded = greedy_decode(model, src, src_valid_len, bos=tgt_vocab["<bos>"],
                            eos=tgt_vocab["<eos>"], max_steps=data.num_steps)
    return Translation(source=tokens, tokens=tgt_vocab.to_tokens(decoded.indices[0]),
                       unknown=[t for t in tokens if t not in src_vocab],
                       truncated=len(tokens) + 1 > data.num_steps,
                       attention=decoded.attention[0] if decoded.attention else None)


def translation_text(model: EncoderDecoder, data: TranslationData, text: str) -> str:
    """What the translation widget shows for ``text``: the source as read, then the French.

    Unknown source words appear as ``<unk>(word)``; a sentence longer than the
    model reads is flagged. Blank input gives a short hint instead.
    """
    if not isinstance(text, str) or not text.strip():
        return "Type an English sentence, e.g. i'm home ."
    result = greedy_translate(model, text, data)
    read = [f"<unk>({t})" if t in result.unknown else t for t in result.source]
    lines = [f"English: {' '.join(read)}", f"French:  {result.text or '(nothing)'}"]
    if result.unknown:
        lines.append(f"Unknown to the model (read as <unk>): {', '.join(result.unknown)}")
    if result.truncated:
        lines.append(f"Only the first {data.num_steps - 1} words were read; the model "
                     f"was trained on sentences of at most {data.num_steps - 1} words.")
    return "\n".join(lines)


def translation_box(model: EncoderDecoder, data: TranslationData, value: str = "i'm home ."):
    """A text box for an English sentence and the model's translation below it.

    Building it translates ``value`` once and trains nothing; the translation
    updates when you press Enter or leave the box (ipywidgets 7.7 and 8).
    """
    from .widgets import text_box
    return text_box(lambda text: translation_text(model, data, text), value)
