"""A trained translator: the chapter-13 configuration, a cache of trained models, decoding.

``trained_seq2seq(config)`` returns the encoder-decoder of chapter 13 trained
with ``config``: loaded from a cache when this configuration was trained
before on this machine, trained (and saved) otherwise. Training is seeded, so
both ways give the same weights.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .runtime import set_seed
from .seq2seq import (EncoderDecoder, Seq2SeqDecoder, Seq2SeqEncoder, Seq2SeqHistory,
                      greedy_decode, teacher_forcing_input, train_seq2seq)
from .translation import (MAX_TOKENS, TranslationData, encode_sentences, load_translation_data,
                          normalize)
from .bleu import corpus_bleu


@dataclass(frozen=True)
class Seq2SeqConfig:
    """Everything that decides the trained model: data, sizes, training."""
    min_freq: int = 2                     # vocabulary: words seen at least this often
    train_max_tokens: int = MAX_TOKENS    # train on pairs with at most this many words a side
    embed_size: int = 256
    num_hiddens: int = 256
    num_layers: int = 2
    dropout: float = 0.2
    batch_size: int = 128
    by_length: bool = False               # batches of similar target length, padding trimmed
    lr: float = 0.005
    lr_decay: bool = False                # fall linearly from lr to 0 over the epochs
    clip: float = 1.0
    epochs: int = 10
    seed: int = 0


# The configuration chapter 13 trains and chapters 14 and 15 reuse; chapter 13 and
# scripts/seq2seq_choices.py show how it was chosen (BLEU >= 20 within 150 s on 2 cores).
CHAPTER13 = Seq2SeqConfig(min_freq=5, train_max_tokens=MAX_TOKENS, embed_size=128,
                          num_hiddens=256, num_layers=1, dropout=0.0, batch_size=128,
                          by_length=True, lr=0.005, lr_decay=True, clip=1.0, epochs=3, seed=0)


def translation_data(config: Seq2SeqConfig) -> TranslationData:
    """The book's data with the vocabulary and training pairs that ``config`` asks for."""
    return load_translation_data(min_freq=config.min_freq,
                                 train_max_tokens=config.train_max_tokens)


def build_seq2seq(config: Seq2SeqConfig, data: TranslationData,
                  decoder=None) -> EncoderDecoder:
    """A fresh encoder-decoder with ``config``'s sizes for ``data``'s vocabularies.

    ``decoder`` (default ``Seq2SeqDecoder``) is the decoder's class, called as
    ``decoder(vocab_size, embed_size, num_hiddens, num_layers, dropout)``; chapter
    15 passes one with attention. The encoder is always ``Seq2SeqEncoder``.
    """
    decoder = Seq2SeqDecoder if decoder is None else decoder
    if not callable(decoder):
        raise TypeError(f"decoder must be a class such as Seq2SeqDecoder, got {decoder!r}.")
    sizes = (config.embed_size, config.num_hiddens, config.num_layers, config.dropout)
    return EncoderDecoder(Seq2SeqEncoder(len(data.src_vocab), *sizes),
                          decoder(len(data.tgt_vocab), *sizes))


def train_config(config: Seq2SeqConfig, data: TranslationData | None = None, *,
                 plot: bool = True, verbose: bool = True, time_budget: float | None = None,
                 decoder=None):
    """Seed, build and train a model as ``config`` says: (model, history).

    ``decoder``: the decoder's class, as in ``build_seq2seq``.
    """
    data = data or translation_data(config)
    set_seed(config.seed)
    model = build_seq2seq(config, data, decoder)
    generator = torch.Generator().manual_seed(config.seed)
    history = train_seq2seq(model, data.train, data.valid, bos=data.tgt_vocab["<bos>"],
                            epochs=config.epochs, batch_size=config.batch_size, lr=config.lr,
                            clip=config.clip, lr_decay=config.lr_decay,
                            by_length=config.by_length,
                            generator=generator, plot=plot,
                            verbose=verbose, time_budget=time_budget)
    return model, history


def translate_pairs(model: EncoderDecoder, data: TranslationData, part: str = "test",
                    batch_size: int = 1000) -> list[list[str]]:
    """Greedy translations (French tokens) of every pair of ``data``'s 'train', 'valid' or 'test'."""
    if part not in ("train", "valid", "test"):
        raise ValueError(f"part must be 'train', 'valid' or 'test', got {part!r}.")
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


def cache_dir() -> Path:
    """Where trained models are kept: $RNN_BOOK_CACHE, or ~/.cache/rnn-book (outside the repository)."""
    return Path(os.environ.get("RNN_BOOK_CACHE") or Path.home() / ".cache" / "rnn-book")


def config_key(config: Seq2SeqConfig, decoder: str | None = None) -> str:
    """A short hash of the configuration and the PyTorch version (16 hex digits).

    The PyTorch version is part of the key because another version may train
    to different weights from the same seed. ``decoder`` is the
    ``decoder_fingerprint`` of a model with another decoder than chapter 13's.
    """
    fields = {"config": dataclasses.asdict(config), "torch": torch.__version__, "format": 1}
    if decoder is not None:
        fields["decoder"] = decoder
    return hashlib.sha1(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:16]


def decoder_fingerprint(config: Seq2SeqConfig, data: TranslationData, decoder) -> str:
    """What a model with ``decoder`` computes, as a short string for the cache key.

    The decoder's name and a hash of the logits that a fresh model (built as
    ``train_config`` builds it, in eval mode) gives for the first 8 validation
    pairs, teacher-forced, rounded to 4 decimals. Editing the decoder so that
    it computes something else, or starts from other weights, changes the
    fingerprint, and the cache does not hand back a model trained with the old
    code. What happens only in training (where dropout goes) is not seen: after
    such a change, call ``trained_seq2seq`` with ``retrain=True``.
    """
    with _random_state_kept():
        set_seed(config.seed)
        model = build_seq2seq(config, data, decoder).eval()
        part = data.valid
        with torch.no_grad():
            logits = model(part.src[:8], teacher_forcing_input(part.tgt[:8],
                                                               data.tgt_vocab["<bos>"]),
                           part.src_valid_len[:8])                    # (8, T, V)
    values = np.round(logits.double().numpy(), 4) + 0.0   # + 0.0 turns -0.0 into 0.0
    name = getattr(decoder, "__qualname__", type(decoder).__name__)
    return f"{name}:{hashlib.sha1(values.tobytes()).hexdigest()[:16]}"


@dataclass
class Translator:
    """A trained encoder-decoder with its data; what ``trained_seq2seq`` returns."""
    model: EncoderDecoder
    data: TranslationData
    config: Seq2SeqConfig
    history: Seq2SeqHistory
    from_cache: bool


def trained_seq2seq(config: Seq2SeqConfig, *, retrain: bool = False, plot: bool = True,
                    verbose: bool = True, decoder=None) -> Translator:
    """The chapter-13 model trained with ``config``: from the cache, or trained and cached.

    The cache holds the state dict (``seq2seq-KEY.pt``, loaded with
    ``weights_only=True``) and the training history (``seq2seq-KEY.json``) under
    ``cache_dir()``, where KEY is ``config_key(config)``. ``retrain=True``
    trains even if a cached model exists (and replaces it). Training is seeded
    by ``config.seed``, so a cached model and a freshly trained one are equal.

    ``decoder`` (chapter 15): another decoder class, as in ``build_seq2seq``; its
    models are cached under a key that also holds its ``decoder_fingerprint``.
    """
    if not isinstance(config, Seq2SeqConfig):
        raise TypeError(f"config must be a Seq2SeqConfig, got {type(config).__name__}.")
    # Loading and training draw different amounts of random numbers; restoring the
    # caller's random state makes what comes after the call the same either way.
    with _random_state_kept():
        return _trained_seq2seq(config, retrain, plot, verbose, decoder)


@contextlib.contextmanager
def _random_state_kept():
    states = random.getstate(), np.random.get_state()
    with torch.random.fork_rng(devices=[]):
        try:
            yield
        finally:
            random.setstate(states[0])
            np.random.set_state(states[1])


def _trained_seq2seq(config, retrain, plot, verbose, decoder=None) -> Translator:
    data = translation_data(config)
    if decoder is Seq2SeqDecoder:
        decoder = None
    fingerprint = None if decoder is None else decoder_fingerprint(config, data, decoder)
    key = config_key(config, fingerprint)
    weights, record = cache_dir() / f"seq2seq-{key}.pt", cache_dir() / f"seq2seq-{key}.json"
    if not retrain and weights.is_file() and record.is_file():
        model = build_seq2seq(config, data, decoder)
        model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
        model.eval()
        saved = json.loads(record.read_text())
        history = Seq2SeqHistory(**saved["history"])
        if verbose:
            print(f"loaded the trained model from the cache ({history.summary()})")
        return Translator(model, data, config, history, from_cache=True)
    model, history = train_config(config, data, plot=plot, verbose=verbose, decoder=decoder)
    model.eval()
    weights.parent.mkdir(parents=True, exist_ok=True)
    # Write to temporary files first, so a reader never sees half a file.
    for path, write in ((weights, lambda p: torch.save(model.state_dict(), p)),
                        (record, lambda p: p.write_text(json.dumps(
                            {"config": dataclasses.asdict(config), "torch": torch.__version__,
                             "decoder": fingerprint,
                             "history": dataclasses.asdict(history)}, indent=1)))):
        temporary = path.with_suffix(path.suffix + f".{os.getpid()}.tmp")
        write(temporary)
        os.replace(temporary, path)
    return Translator(model, data, config, history, from_cache=False)


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
    import html

    import ipywidgets as widgets
    box = widgets.Text(value=value, description="English:", continuous_update=False,
                       layout=widgets.Layout(width="100%"))
    shown = widgets.HTML()

    def update(change=None):
        shown.value = f"<pre>{html.escape(translation_text(model, data, box.value))}</pre>"

    box.observe(update, names="value")
    update()
    return widgets.VBox([box, shown])
