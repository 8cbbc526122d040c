"""Tests for utils/runtime.py: set_seed and choose_device."""

import random
import re

import numpy as np
import pytest
import torch

from utils import choose_device, set_seed


# set_seed

def draw_everything():
    return random.random(), float(np.random.rand()), torch.rand(3).tolist()


def test_set_seed_makes_python_numpy_and_torch_reproducible():
    set_seed(123)
    first = draw_everything()
    set_seed(123)
    assert draw_everything() == first
    set_seed(124)
    assert draw_everything() != first


def test_set_seed_asks_for_deterministic_algorithms():
    torch.use_deterministic_algorithms(False)
    set_seed(0)
    assert torch.are_deterministic_algorithms_enabled()


@pytest.mark.parametrize("seed", [-1, 1.0, 0.5, True, False, "0", None])
def test_set_seed_rejects_what_is_not_a_non_negative_int(seed):
    with pytest.raises(ValueError, match=rf"seed must be a non-negative integer, got "
                                         rf"{re.escape(repr(seed))}"):
        set_seed(seed)


# choose_device

def test_choose_device_is_the_cpu_without_an_accelerator(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    device = choose_device()
    assert isinstance(device, torch.device) and device == torch.device("cpu")


def test_choose_device_here_returns_a_usable_device():
    device = choose_device()
    assert isinstance(device, torch.device)
    assert torch.zeros(2, device=device).sum().item() == 0


def test_choose_device_prefers_cuda_then_mps(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert choose_device() == torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert choose_device() == torch.device("mps")


def test_cpu_facts_and_available_devices_describe_this_machine():
    from utils.runtime import available_devices, cpu_facts
    facts = cpu_facts()
    assert isinstance(facts["cpu"], str) and facts["cpu"]
    assert facts["vector_isa"] in (None, "AVX", "AVX2", "AVX-512")
    assert facts["logical_cpus"] >= 1
    assert available_devices()[0] == "cpu"
