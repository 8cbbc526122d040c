"""A trained translator: chapter 13's configuration, its training, and a cache of trained models.

``trained_seq2seq(config)`` returns the encoder-decoder of chapter 13 trained
with ``config``: loaded from the cache (``utils.model_cache``) when this
configuration was trained before on this machine with the same code, trained
(and saved) otherwise. Training is seeded, so both ways give the same weights.
Translating with the model is ``utils.translate``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import numbers
import sys
from dataclasses import dataclass

import numpy as np
import torch

from .checks import non_negative_int, positive_int, real_number
from .model_cache import cache_dir, code_hash, load_entry, random_state_kept, save_entry
from .runtime import set_seed
from .seq2seq import (EncoderDecoder, Seq2SeqDecoder, Seq2SeqEncoder, Seq2SeqHistory,
                      train_seq2seq)
from .translation import MAX_TOKENS, TranslationData, load_translation_data


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

    def __post_init__(self):
        """Check every field when the config is made, and store plain Python numbers.

        numpy integers and floats are accepted (a reader's sweep may produce
        them) and stored as int / float, so the cache key does not depend on them.
        """
        for name in ("min_freq", "train_max_tokens", "embed_size", "num_hiddens", "num_layers",
                     "batch_size", "epochs"):
            object.__setattr__(self, name, positive_int(name, getattr(self, name)))
        object.__setattr__(self, "seed", non_negative_int("seed", self.seed))
        for name in ("lr", "clip"):
            value = getattr(self, name)
            if isinstance(value, numbers.Real) and not isinstance(value, bool) and value <= 0:
                raise ValueError(f"{name} must be a positive finite number, got {value!r}.")
            object.__setattr__(self, name, real_number(name, value))
        dropout = real_number("dropout", self.dropout, 0, 1)
        if dropout == 1:
            raise ValueError("dropout must be below 1 (1 drops every unit), got 1.")
        object.__setattr__(self, "dropout", dropout)
        for name in ("by_length", "lr_decay"):
            value = getattr(self, name)
            if not isinstance(value, (bool, np.bool_)):
                raise ValueError(f"{name} must be True or False, got {value!r}.")
            object.__setattr__(self, name, bool(value))


# The configuration chapter 13 trains and chapters 14 and 15 reuse; chapter 13 and
# scripts/seq2seq_choices.py show how it was chosen (BLEU >= 20 within 150 s on 2 cores).
CHAPTER13 = Seq2SeqConfig(min_freq=5, train_max_tokens=MAX_TOKENS, embed_size=128,
                          num_hiddens=256, num_layers=1, dropout=0.0, batch_size=128,
                          by_length=True, lr=0.005, lr_decay=True, clip=1.0, epochs=3, seed=0)


def translation_data(config: Seq2SeqConfig) -> TranslationData:
    """The book's data with the vocabulary and training pairs that ``config`` asks for."""
    if not isinstance(config, Seq2SeqConfig):
        raise TypeError(f"config must be a Seq2SeqConfig (e.g. utils.CHAPTER13), got a "
                        f"{type(config).__name__}.")
    return load_translation_data(min_freq=config.min_freq,
                                 train_max_tokens=config.train_max_tokens)


def build_seq2seq(config: Seq2SeqConfig, data: TranslationData,
                  decoder=None, encoder=None) -> EncoderDecoder:
    """A fresh encoder-decoder with ``config``'s sizes for ``data``'s vocabularies.

    ``decoder`` (default ``Seq2SeqDecoder``) is the decoder's class, called as
    ``decoder(vocab_size, embed_size, num_hiddens, num_layers, dropout)``; chapter
    15 passes one with attention. ``encoder`` (default ``Seq2SeqEncoder``) is the
    encoder's class, called the same way with the source vocabulary's size; it
    must return outputs (T, n, num_hiddens) and a state (num_layers, n,
    num_hiddens), as ``Seq2SeqEncoder`` does (chapter 15 passes a bidirectional one).
    """
    decoder = Seq2SeqDecoder if decoder is None else decoder
    encoder = Seq2SeqEncoder if encoder is None else encoder
    for name, value, example in (("decoder", decoder, "Seq2SeqDecoder"),
                                 ("encoder", encoder, "Seq2SeqEncoder")):
        if not callable(value):
            raise TypeError(f"{name} must be a class such as {example}, got {value!r}.")
    sizes = (config.embed_size, config.num_hiddens, config.num_layers, config.dropout)
    return EncoderDecoder(encoder(len(data.src_vocab), *sizes),
                          decoder(len(data.tgt_vocab), *sizes))


def train_config(config: Seq2SeqConfig, data: TranslationData | None = None, *,
                 plot: bool = True, verbose: bool = True, time_budget: float | None = None,
                 decoder=None, encoder=None):
    """Seed, build and train a model as ``config`` says: (model, history).

    ``decoder``, ``encoder``: the classes, as in ``build_seq2seq``.
    """
    data = data or translation_data(config)
    set_seed(config.seed)
    model = build_seq2seq(config, data, decoder, encoder)
    generator = torch.Generator().manual_seed(config.seed)
    history = train_seq2seq(model, data.train, data.valid, bos=data.tgt_vocab["<bos>"],
                            epochs=config.epochs, batch_size=config.batch_size, lr=config.lr,
                            clip=config.clip, lr_decay=config.lr_decay,
                            by_length=config.by_length,
                            generator=generator, plot=plot,
                            verbose=verbose, time_budget=time_budget)
    return model, history


def code_fingerprint(decoder=None, encoder=None) -> str:
    """A hash of the code that decides a trained model (16 hex digits).

    It covers the bytecode of ``train_config`` and the model classes (the
    ``decoder`` class if given, else ``Seq2SeqDecoder``; the ``encoder`` class
    if given, else ``Seq2SeqEncoder``) and of every function, class and
    constant of this package (or of their modules, e.g. a notebook) they use,
    followed name by name: the data pipeline, the loss, the training loop, the
    seeding (``utils.model_cache.code_hash``). Docstrings, comments and line
    numbers are left out, so editing prose keeps the cache; editing what the
    code does retrains. Bytecode depends on the Python version, which
    ``config_key`` also holds; it does not depend on the CPU or on the hash seed.
    """
    roots = (train_config, build_seq2seq, translation_data, EncoderDecoder,
             Seq2SeqEncoder if encoder is None else encoder,
             Seq2SeqDecoder if decoder is None else decoder)
    return code_hash(roots, modules={cls.__module__ for cls in (decoder, encoder)
                                     if cls is not None})


def config_key(config: Seq2SeqConfig, decoder: str | None = None,
               encoder: str | None = None) -> str:
    """A short hash of what decides the trained model (16 hex digits).

    The configuration, the code (``code_fingerprint``), the Python version
    (bytecode differs between versions) and the PyTorch version (another
    version may train to different weights from the same seed). ``decoder`` is
    the ``decoder_fingerprint`` of a model with another decoder than chapter 13's;
    ``encoder`` the ``encoder_fingerprint`` of one with another encoder.
    """
    fields = {"config": dataclasses.asdict(config), "torch": torch.__version__,
              "python": list(sys.version_info[:2]), "format": 2}
    if decoder is None:
        fields["code"] = code_fingerprint()
    else:
        fields["decoder"] = decoder
    if encoder is not None:
        fields["encoder"] = encoder
    return hashlib.sha1(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:16]


def decoder_fingerprint(config: Seq2SeqConfig, data: TranslationData, decoder) -> str:
    """The decoder's name and the ``code_fingerprint`` of a model with it: 'Name:hex'.

    Editing the decoder (or anything it or the training uses) changes it, so
    the cache does not hand back a model trained with the old code. It reads
    code only: no model is built, no random number drawn, and it is the same
    on every machine. ``config`` and ``data`` are accepted for compatibility.
    """
    name = getattr(decoder, "__qualname__", type(decoder).__name__)
    return f"{name}:{code_fingerprint(decoder)}"


def encoder_fingerprint(encoder, decoder=None) -> str:
    """The encoder's name and the ``code_fingerprint`` of a model with it and ``decoder``."""
    name = getattr(encoder, "__qualname__", type(encoder).__name__)
    return f"{name}:{code_fingerprint(decoder, encoder)}"


@dataclass
class Translator:
    """A trained encoder-decoder with its data; what ``trained_seq2seq`` returns."""
    model: EncoderDecoder
    data: TranslationData
    config: Seq2SeqConfig
    history: Seq2SeqHistory
    from_cache: bool


def trained_seq2seq(config: Seq2SeqConfig, *, retrain: bool = False, plot: bool = True,
                    verbose: bool = True, decoder=None, encoder=None) -> Translator:
    """The chapter-13 model trained with ``config``: from the cache, or trained and cached.

    The cache holds the state dict (``seq2seq-KEY.pt``, loaded with
    ``weights_only=True``) and the training history (``seq2seq-KEY.json``) under
    ``cache_dir()``, where KEY is ``config_key(config)``. ``retrain=True``
    trains even if a cached model exists (and replaces it). Training is seeded
    by ``config.seed``, so a cached model and a freshly trained one are equal.

    ``decoder`` (chapter 15): another decoder class, as in ``build_seq2seq``; its
    models are cached under a key that also holds its ``decoder_fingerprint``.
    ``encoder``: another encoder class, likewise (``encoder_fingerprint``).
    """
    if not isinstance(config, Seq2SeqConfig):
        raise TypeError(f"config must be a Seq2SeqConfig, got {type(config).__name__}.")
    # Loading and training draw different amounts of random numbers; restoring the
    # caller's random state makes what comes after the call the same either way.
    with random_state_kept():
        return _trained_seq2seq(config, retrain, plot, verbose, decoder, encoder)


def _trained_seq2seq(config, retrain, plot, verbose, decoder=None, encoder=None) -> Translator:
    data = translation_data(config)
    if decoder is Seq2SeqDecoder:
        decoder = None
    if encoder is Seq2SeqEncoder:
        encoder = None
    fingerprint = None if decoder is None else decoder_fingerprint(config, data, decoder)
    encoder_print = None if encoder is None else encoder_fingerprint(encoder, decoder)
    key = config_key(config, fingerprint, encoder_print)
    folder = cache_dir()
    weights, record = folder / f"seq2seq-{key}.pt", folder / f"seq2seq-{key}.json"
    if not retrain and weights.is_file() and record.is_file():
        model, history = load_entry(
            weights, record, lambda: build_seq2seq(config, data, decoder, encoder),
            Seq2SeqHistory, "trained_seq2seq(..., retrain=True)")
        if verbose:
            print(f"loaded the trained model from the cache ({history.summary()})")
        return Translator(model, data, config, history, from_cache=True)
    folder.mkdir(parents=True, exist_ok=True)     # before training: a bad path fails now
    model, history = train_config(config, data, plot=plot, verbose=verbose, decoder=decoder,
                                  encoder=encoder)
    model.eval()
    if history.stop_reason != "epochs":
        # a model that diverged or was interrupted is returned but not cached
        print(f"Not cached: training ended early ({history.stop_reason}).")
        return Translator(model, data, config, history, from_cache=False)
    save_entry(weights, record, model.state_dict(),
               {"config": dataclasses.asdict(config), "torch": torch.__version__,
                "decoder": fingerprint, "encoder": encoder_print,
                "history": dataclasses.asdict(history)})
    return Translator(model, data, config, history, from_cache=False)


