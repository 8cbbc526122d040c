"""Trained models kept on disk, keyed by what decides them.

``utils.translator`` trains chapter 13's encoder-decoder (and chapter 15's
variants) once per machine and keeps the result here. This module is the
storage, and knows nothing of translation:

- ``cache_dir``: where the entries live ($RNN_BOOK_CACHE or ~/.cache/rnn-book);
- ``code_hash``: a hash of the code a trained model depends on, so that an
  edit of that code trains again instead of loading weights of the old code;
- ``save_entry``: the weights and a JSON record, written so that no reader
  ever sees half a file;
- ``load_entry``: both read back without trusting them (``weights_only=True``),
  or a ``CacheError`` that names the files and the fix;
- ``random_state_kept``: the caller's random state restored after loading or
  training, which draw different amounts of random numbers.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import json
import math
import os
import random
import tempfile
import types
from pathlib import Path

import numpy as np
import torch


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
# a trained model, so ``code_hash`` leaves them out.
DISPLAY_ONLY = ("utils.progress", "utils.widgets", "utils.playground", "utils.attention_maps")


def code_hash(roots, modules=()) -> str:
    """A hash of the code of ``roots`` and of what they use (16 hex digits).

    ``roots`` are functions and classes. The hash covers their bytecode and
    that of every function, class and constant of this package (or of
    ``modules``, e.g. a notebook's ``__main__``) they use, followed name by name.
    Docstrings, comments and line numbers are left out, so editing prose keeps
    the cache; editing what the code does changes the hash. Plotting and widget
    modules are left out too (``DISPLAY_ONLY``). Bytecode depends on the Python
    version, which a cache key must therefore also hold; the hash does not
    depend on the CPU or on the hash seed.
    """
    package = __name__.split(".")[0]
    modules = set(modules)
    digest = hashlib.sha1()
    seen: set[int] = set()

    def followed(obj) -> bool:
        module = getattr(obj, "__module__", None) or ""
        return ((module == package or module.startswith(package + ".") or module in modules)
                and module not in DISPLAY_ONLY)

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
                # (only a module of this package or of ``modules``: nothing of numpy's
                # or torch's is followed, and asking them for names warns)
                if not (target.__name__ == package or target.__name__.startswith(package + ".")
                        or target.__name__ in modules):
                    continue
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

    for root in roots:
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


@contextlib.contextmanager
def random_state_kept():
    """Restore the random states of Python, NumPy and PyTorch (CPU) on leaving."""
    states = random.getstate(), np.random.get_state()
    with torch.random.fork_rng(devices=[]):
        try:
            yield
        finally:
            random.setstate(states[0])
            np.random.set_state(states[1])


def save_entry(weights: Path, record: Path, state_dict: dict, fields: dict) -> None:
    """Write ``state_dict`` to ``weights`` and ``fields`` as JSON to ``record``.

    Each goes to a temporary file first, then replaces the target at once, so a
    reader never sees half a file; the temporary names are unique, so two
    threads or processes writing the same entry never write the same file.
    """
    for path, write in ((weights, lambda p: torch.save(state_dict, p)),
                        (record, lambda p: p.write_text(json.dumps(fields, indent=1)))):
        handle, name = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
        os.close(handle)
        try:
            write(Path(name))
            os.replace(name, path)
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise


def load_entry(weights: Path, record: Path, build, history_class, retrain_call: str):
    """The cached model and its training history, or a ``CacheError`` that names the fix.

    ``build()`` makes a fresh model of the right shapes, into which the weights
    are loaded; ``history_class(**fields)`` rebuilds the history from the
    record's "history" field. ``retrain_call`` is how the caller trains again
    (said in every error). Loading never unpickles code (``weights_only=True``):
    a damaged or foreign file is reported, not trusted; so are non-finite
    weights and a record whose per-epoch lists are not lists of finite losses.
    """
    fix = (f"Delete {weights.name} and {record.name} in {weights.parent}, or call "
           f"{retrain_call}, to train the model again.")
    try:
        state = torch.load(weights, map_location="cpu", weights_only=True)
        if not isinstance(state, dict):
            raise ValueError(f"it holds a {type(state).__name__}, not a state dict")
        model = build()
        model.load_state_dict(state)
    except Exception as error:      # truncated, empty, garbage, other shapes or names
        first_line = str(error).splitlines()[0][:200] if str(error) else ""
        raise CacheError(f"The cached model {weights} cannot be loaded "
                         f"({type(error).__name__}: {first_line}). {fix}") from None
    bad = [name for name, tensor in model.state_dict().items()
           if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all())]
    if bad:
        raise CacheError(f"The cached model {weights} holds non-finite weights ({bad[0]}). {fix}")
    try:
        saved = json.loads(record.read_text())
        history = history_class(**saved["history"])
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
