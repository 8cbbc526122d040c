"""Reproducibility and hardware: ``set_seed``, ``choose_device``, ``available_devices``, ``cpu_facts``."""

from __future__ import annotations

import contextlib
import os
import platform
import random
from pathlib import Path

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


def cpu_facts() -> dict:
    """The CPU's model name, the widest vector instructions it has and its logical CPUs.

    Read from /proc/cpuinfo on Linux; elsewhere the model is ``platform``'s
    guess and the vector instructions are unknown (None). The one place the
    book reads it: the execution record, the benchmark and chapter 16 use this.
    """
    model, flags = platform.processor() or platform.machine(), set()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and value.strip():
                model = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
            if model and flags:
                break
    isa = next((name for flag, name in (("avx512f", "AVX-512"), ("avx2", "AVX2"), ("avx", "AVX"))
                if flag in flags), None)
    return {"cpu": model, "vector_isa": isa, "logical_cpus": os.cpu_count()}
