"""Reproducibility and hardware: ``set_seed``, ``choose_device`` and ``available_devices``."""

from __future__ import annotations

import os
import random

import numpy as np
import torch

from .checks import seed_value


def set_seed(seed: int = 0) -> None:
    """Seed Python, NumPy and PyTorch, and ask PyTorch for deterministic kernels.

    Call it once before anything random; the same seed then gives the same
    numbers on the same machine.
    """
    seed = seed_value(seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # seeds the CPU and every GPU
    # cuBLAS needs this to be deterministic; it must be set before CUDA starts.
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    # warn_only: a GPU op without a deterministic kernel warns instead of failing.
    torch.use_deterministic_algorithms(True, warn_only=True)


def choose_device() -> torch.device:
    """The fastest device here: 'cuda' if there is a GPU, else Apple's 'mps', else 'cpu'."""
    devices = available_devices()
    return torch.device("cuda" if "cuda" in devices else "mps" if "mps" in devices else "cpu")


def available_devices() -> list[str]:
    """The kinds of device this machine has, 'cpu' first: e.g. ['cpu', 'cuda']."""
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices.append("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        devices.append("mps")
    return devices
