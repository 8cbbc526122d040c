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
import inspect
import json
import math
import numbers
import os
import random
import sys
import tempfile
import types
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .checks import non_negative_int, positive_int, real_number
from .runtime import set_seed
from .seq2seq import (EncoderDecoder, Seq2SeqDecoder, Seq2SeqEncoder, Seq2SeqHistory,
                      greedy_decode, train_seq2seq)
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


def cache_dir() -> Path:
    """Where trained models are kept: $RNN_BOOK_CACHE, or ~/.cache/rnn-book (outside the repository).

    A leading ``~`` is expanded. A path that exists and is not a folder is an
    error now, before minutes of training, not when the model is saved.
    """
    path = Path(os.environ.get("RNN_BOOK_CACHE") or Path.home() / ".cache" / "rnn-book")
    path = path.expanduser()
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(f"The model cache {path} is a file, not a folder: set "
                                 f"RNN_BOOK_CACHE to a folder (or unset it for "
                                 f"~/.cache/rnn-book).")
    return path


class CacheError(RuntimeError):
    """A cached model that cannot be used; the message names the files and the fix."""


# Modules whose code only displays (plots, widgets): editing them does not change
# a trained model, so they are left out of the code fingerprint.
_DISPLAY_ONLY = ("utils.progress", "utils.widgets", "utils.playground", "utils.attention_maps")


def code_fingerprint(decoder=None, encoder=None) -> str:
    """A hash of the code that decides a trained model (16 hex digits).

    It covers the bytecode of ``train_config`` and the model classes (the
    ``decoder`` class if given, else ``Seq2SeqDecoder``; the ``encoder`` class
    if given, else ``Seq2SeqEncoder``) and of every function, class and
    constant of this package (or of their modules, e.g. a notebook) they use,
    followed name by name: the data pipeline, the loss, the training loop, the
    seeding. Docstrings, comments and line numbers are left
    out, so editing prose keeps the cache; editing what the code does
    retrains. Plotting and widget modules are left out too (``_DISPLAY_ONLY``).
    Bytecode depends on the Python version, which ``config_key`` also holds;
    it does not depend on the CPU or on the hash seed.
    """
    package = __name__.split(".")[0]
    modules = {cls.__module__ for cls in (decoder, encoder) if cls is not None}
    digest = hashlib.sha1()
    seen: set[int] = set()

    def followed(obj) -> bool:
        module = getattr(obj, "__module__", None) or ""
        return ((module == package or module.startswith(package + ".") or module in modules)
                and module not in _DISPLAY_ONLY)

    def visit(obj) -> None:
        obj = inspect.unwrap(obj) if callable(obj) else obj
        if id(obj) in seen:
            return
        seen.add(id(obj))
        if isinstance(obj, type):
            digest.update(f"class {obj.__qualname__}".encode())
            for base in obj.__bases__:
                if followed(base):
                    visit(base)
            for name, member in sorted(vars(obj).items()):
                if isinstance(member, (staticmethod, classmethod)):
                    member = member.__func__
                if isinstance(member, property):
                    for part in (member.fget, member.fset):
                        if part is not None:
                            visit(part)
                elif inspect.isfunction(member):
                    visit(member)
                elif not name.startswith("__") and _plain(member):
                    digest.update(f"{name}={_stable_repr(member)}".encode())
        elif inspect.isfunction(obj):
            digest.update(f"def {obj.__qualname__}{_stable_repr(obj.__defaults__)}"
                          f"{_stable_repr(obj.__kwdefaults__)}".encode())
            code(obj.__code__, obj.__globals__, body=True)
            defaults = (*(obj.__defaults__ or ()), *(obj.__kwdefaults__ or {}).values())
            for default in defaults:       # a function as a default (split_pairs's key)
                if (inspect.isfunction(default) or isinstance(default, type)) and followed(default):
                    visit(default)

    def code(co: types.CodeType, namespace: dict, body: bool = False) -> None:
        digest.update(co.co_code)
        digest.update(repr((co.co_names, co.co_varnames, co.co_argcount,
                            co.co_kwonlyargcount)).encode())
        for i, const in enumerate(co.co_consts):
            if isinstance(const, types.CodeType):
                code(const, namespace)
            # a function body's first constant is its docstring (or None): left out
            elif not (body and i == 0 and (const is None or isinstance(const, str))):
                digest.update(_stable_repr(const).encode())
        for name in co.co_names:
            target = namespace.get(name)
            if isinstance(target, types.ModuleType):
                # ``T.encode`` in the code: follow the attributes used of that module
                for attribute in co.co_names:
                    member = getattr(target, attribute, None)
                    if member is not None and (inspect.isfunction(member)
                                               or isinstance(member, type)) and followed(member):
                        visit(member)
            elif (inspect.isfunction(target) or isinstance(target, type)
                  or hasattr(target, "__wrapped__")) and followed(target):
                visit(target)
            elif _plain(target) and name.isupper():
                digest.update(f"{name}={_stable_repr(target)}".encode())   # a constant

    for root in (train_config, build_seq2seq, translation_data, EncoderDecoder,
                 Seq2SeqEncoder if encoder is None else encoder,
                 Seq2SeqDecoder if decoder is None else decoder):
        visit(root)
    return digest.hexdigest()[:16]


def _plain(value) -> bool:
    """A constant whose repr is its value: numbers, strings, and tuples of them."""
    if isinstance(value, (bool, int, float, str, bytes, type(None))):
        return True
    return isinstance(value, (tuple, frozenset)) and all(_plain(v) for v in value)


def _stable_repr(value) -> str:
    """repr, with the elements of sets sorted (their order follows the hash seed)."""
    if isinstance(value, (set, frozenset)):
        return "{" + ", ".join(sorted(_stable_repr(v) for v in value)) + "}"
    if isinstance(value, tuple):
        return "(" + ", ".join(_stable_repr(v) for v in value) + ")"
    if isinstance(value, types.CodeType):
        return f"<code {value.co_name}>"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_stable_repr(k)}: {_stable_repr(v)}" for k, v in value.items()) + "}"
    if inspect.isfunction(value) or isinstance(value, type) or inspect.isbuiltin(value):
        # the repr of a function holds its memory address, which changes from run to run
        return f"<{type(value).__name__} {getattr(value, '__module__', '')}.{value.__qualname__}>"
    return repr(value)


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
    with _random_state_kept():
        return _trained_seq2seq(config, retrain, plot, verbose, decoder, encoder)


@contextlib.contextmanager
def _random_state_kept():
    states = random.getstate(), np.random.get_state()
    with torch.random.fork_rng(devices=[]):
        try:
            yield
        finally:
            random.setstate(states[0])
            np.random.set_state(states[1])


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
        model, history = _load_cached(config, data, decoder, encoder, weights, record)
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
    # Write to temporary files first, so a reader never sees half a file; the
    # names are unique, so two threads or processes never write the same file.
    for path, write in ((weights, lambda p: torch.save(model.state_dict(), p)),
                        (record, lambda p: p.write_text(json.dumps(
                            {"config": dataclasses.asdict(config), "torch": torch.__version__,
                             "decoder": fingerprint, "encoder": encoder_print,
                             "history": dataclasses.asdict(history)}, indent=1)))):
        handle, name = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=folder)
        os.close(handle)
        try:
            write(Path(name))
            os.replace(name, path)
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise
    return Translator(model, data, config, history, from_cache=False)


def _load_cached(config, data, decoder, encoder, weights: Path, record: Path):
    """The cached model and history, or a ``CacheError`` that names the files and the fix.

    Loading never unpickles code (``weights_only=True``): a damaged or foreign
    file is reported, not trusted.
    """
    fix = (f"Delete {weights.name} and {record.name} in {weights.parent}, or call "
           f"trained_seq2seq(..., retrain=True), to train the model again.")
    try:
        state = torch.load(weights, map_location="cpu", weights_only=True)
        if not isinstance(state, dict):
            raise ValueError(f"it holds a {type(state).__name__}, not a state dict")
        model = build_seq2seq(config, data, decoder, encoder)
        model.load_state_dict(state)
    except Exception as error:      # truncated, empty, garbage, other shapes or names
        raise CacheError(f"The cached model {weights} cannot be loaded "
                         f"({type(error).__name__}: {str(error).splitlines()[0][:200] if str(error) else ''}). "
                         f"{fix}") from None
    bad = [name for name, tensor in model.state_dict().items()
           if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all())]
    if bad:
        raise CacheError(f"The cached model {weights} holds non-finite weights ({bad[0]}). {fix}")
    try:
        saved = json.loads(record.read_text())
        history = Seq2SeqHistory(**saved["history"])
        if not all(isinstance(v, list) for v in (history.epochs, history.train_loss,
                                                 history.valid_loss, history.seconds)):
            raise ValueError("its per-epoch lists are not lists")
        if not all(math.isfinite(v) for v in history.valid_loss):
            raise ValueError("a validation loss is not finite")
    except Exception as error:      # not json, edited, fields missing or unknown
        raise CacheError(f"The training record {record} cannot be read "
                         f"({type(error).__name__}: {error}). {fix}") from None
    model.eval()
    return model, history


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
