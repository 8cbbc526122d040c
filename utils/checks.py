"""Argument checks that turn a bad value into an error that names it and the fix."""

from __future__ import annotations

import contextlib
import math
import numbers

import torch


def positive_int(name: str, value) -> int:
    """``value`` (a Python or numpy integer, not a bool) as an int >= 1, or a clear error."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


def model_factories(models) -> dict:
    """``models`` (name -> factory(vocab_size, hidden_size)) as a dict, or a clear error."""
    if (not isinstance(models, dict) or not models
            or not all(isinstance(name, str) and callable(factory)
                       for name, factory in models.items())):
        raise TypeError(f"models must be a non-empty dict of name -> factory, where "
                        f"factory(vocab_size, hidden_size) returns a new model; got "
                        f"{models!r}.")
    return dict(models)


def non_negative_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}.")
    return int(value)


def seed_value(seed) -> int:
    return non_negative_int("seed", seed)


def positive_float(name: str, value) -> float:
    if (isinstance(value, bool) or not isinstance(value, numbers.Real)
            or not math.isfinite(value) or value <= 0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}.")
    return float(value)


def token_tensor(name: str, corpus) -> torch.Tensor:
    """``corpus`` as a 1-D int64 tensor of token indices, or a clear error.

    A tensor stays on its device; a list becomes a CPU tensor.
    """
    if isinstance(corpus, (str, bytes)):
        raise TypeError(f"{name} must hold token indices (a 1-D tensor or list of ints), "
                        f"got a {type(corpus).__name__}; map tokens to indices with vocab[...] first.")
    if isinstance(corpus, (list, tuple)) and len(corpus) == 0:
        return torch.zeros(0, dtype=torch.long, device="cpu")  # no tokens: callers report "too short"
    try:
        tensor = (corpus if isinstance(corpus, torch.Tensor)
                  else torch.as_tensor(corpus, device="cpu"))
    except (TypeError, ValueError, RuntimeError) as error:
        raise TypeError(f"{name} must be a 1-D tensor or list of integer token indices; "
                        f"could not convert a {type(corpus).__name__} ({error}).") from None
    if tensor.dtype.is_floating_point or tensor.dtype.is_complex or tensor.dtype == torch.bool:
        raise TypeError(f"{name} must hold integer token indices, got dtype {tensor.dtype}.")
    if tensor.dim() != 1:
        raise ValueError(f"{name} must be 1-D, of shape (num_tokens,), got shape "
                         f"{tuple(tensor.shape)}.")
    if tensor.numel() and int(tensor.min()) < 0:
        raise ValueError(f"{name} holds a negative index ({int(tensor.min())}); token indices "
                         f"start at 0.")
    return tensor.long()


def real_number(name: str, value, low: float | None = None, high: float | None = None) -> float:
    """``value`` as a finite float in [low, high] (either end optional), or a clear error."""
    if (isinstance(value, bool) or not isinstance(value, numbers.Real)
            or not math.isfinite(value)
            or (low is not None and value < low) or (high is not None and value > high)):
        span = ("" if low is None and high is None else
                f" between {low} and {high}" if low is not None and high is not None else
                f" of at least {low}" if low is not None else f" of at most {high}")
        raise ValueError(f"{name} must be a finite number{span}, got {value!r}.")
    return float(value)


def lengths_tensor(name: str, lengths, rows: int, max_length: int) -> torch.Tensor:
    """``lengths`` as an (rows,) int64 tensor with values in [0, max_length], or a clear error.

    Catches the shapes that would broadcast silently, (rows, 1) or (1,).
    """
    if not isinstance(lengths, torch.Tensor):
        raise TypeError(f"{name} must be a tensor of shape ({rows},), got a "
                        f"{type(lengths).__name__}.")
    if lengths.dtype.is_floating_point or lengths.dtype.is_complex or lengths.dtype == torch.bool:
        raise TypeError(f"{name} must hold integer lengths, got dtype {lengths.dtype}.")
    if tuple(lengths.shape) != (rows,):
        raise ValueError(f"{name} must have shape ({rows},), one length per row, got "
                         f"{tuple(lengths.shape)}.")
    if rows and (int(lengths.min()) < 0 or int(lengths.max()) > max_length):
        raise ValueError(f"{name} must lie between 0 and {max_length}, got values from "
                         f"{int(lengths.min())} to {int(lengths.max())}.")
    return lengths.long()


@contextlib.contextmanager
def evaluating(model: torch.nn.Module):
    """Put ``model`` in eval mode for the ``with`` block, then back in the mode it was in.

    A from-scratch model (not an ``nn.Module``) has no modes: it is left as it is.
    """
    if not isinstance(model, torch.nn.Module):
        yield model
        return
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def model_device(model: torch.nn.Module, default="cpu") -> torch.device:
    """The device of ``model``'s first parameter or buffer (``default`` if it has none)."""
    for tensor in (*model.parameters(), *model.buffers()):
        return tensor.device
    return torch.device(default)
