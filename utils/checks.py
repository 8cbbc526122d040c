"""Argument checks that turn a bad value into an error that names it and the fix."""

from __future__ import annotations

import math
import numbers

import torch


def positive_int(name: str, value) -> int:
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
    """``corpus`` as a 1-D int64 tensor of token indices, or a clear error."""
    if isinstance(corpus, (str, bytes)):
        raise TypeError(f"{name} must hold token indices (a 1-D tensor or list of ints), "
                        f"got a {type(corpus).__name__}; map tokens to indices with vocab[...] first.")
    if isinstance(corpus, (list, tuple)) and len(corpus) == 0:
        return torch.zeros(0, dtype=torch.long)  # no tokens: callers report "too short"
    try:
        tensor = torch.as_tensor(corpus)
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
