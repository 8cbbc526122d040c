"""Every public path keeps its tensors on the model's and the data's device.

No GPU is needed: with torch's default device set to ``meta``, a tensor that
a function creates without saying where (``torch.tensor(...)``,
``torch.zeros(...)``, ``torch.randperm(...)``) lands on ``meta`` while the
model and the data are on the CPU, and the first operation that mixes them
fails. On a GPU the same tensor would land on the CPU next to CUDA data: the
bug this file guards against (issue 14 found it in train_seq2seq and beam_search).
"""

from __future__ import annotations

import contextlib

import pytest
import torch

import utils
from utils import seq2seq as S
from tiny_models import TinyLM, tiny_translation


@contextlib.contextmanager
def stray_tensors_go_to_meta():
    """Inside the block, a tensor made without a device lands on ``meta``."""
    torch.set_default_device("meta")
    try:
        yield
    finally:
        torch.set_default_device(None)


def _translation():
    data, _, tgt, model = tiny_translation()
    return data, tgt, model


def test_the_meta_trick_catches_a_stray_tensor():
    cpu = torch.ones(2, device="cpu")
    with stray_tensors_go_to_meta(), pytest.raises((RuntimeError, NotImplementedError)):
        cpu + torch.tensor([1.0, 2.0])           # made without a device: on meta


@pytest.mark.parametrize("by_length", [False, True])
def test_train_seq2seq_creates_no_tensor_off_the_data_device(by_length):
    data, tgt, model = _translation()
    generator = torch.Generator(device="cpu").manual_seed(0)
    with stray_tensors_go_to_meta():
        history = S.train_seq2seq(model, data, data, bos=tgt["<bos>"], epochs=1, batch_size=4,
                                  generator=generator, plot=False, verbose=False,
                                  by_length=by_length)
    assert len(history.valid_loss) == 1


def test_greedy_and_beam_search_create_no_tensor_off_the_model_device():
    data, tgt, model = _translation()
    with stray_tensors_go_to_meta():
        decoded = S.greedy_decode(model, data.src[:3], data.src_valid_len[:3], bos=tgt["<bos>"],
                                  eos=tgt["<eos>"], max_steps=4)
        found = utils.beam_search(model, data.src[:1], data.src_valid_len[:1], bos=tgt["<bos>"],
                                  eos=tgt["<eos>"], beam_size=2, max_steps=4)
        batch = utils.beam_search_batch(model, data.src[:3], data.src_valid_len[:3],
                                        bos=tgt["<bos>"], eos=tgt["<eos>"], beam_size=2,
                                        max_steps=4)
    assert len(decoded.indices) == 3
    assert found and len(batch) == 3 and all(batch)


@pytest.mark.parametrize("sampling", ["random", "sequential"])
def test_language_model_paths_create_no_tensor_off_the_model_device(sampling):
    corpus = torch.arange(300) % 6
    vocab = utils.Vocab(list("abcde"))
    torch.manual_seed(0)
    model = TinyLM()
    with stray_tensors_go_to_meta():
        history = utils.train_language_model(model, corpus, corpus, batch_size=2, num_steps=5,
                                             valid_batch_size=2, valid_num_steps=5,
                                             lr=0.1, epochs=1, sampling=sampling, plot=False,
                                             verbose=False)
        text = utils.generate(model, vocab, "ab", 5, temperature=1.0,
                              generator=torch.Generator(device="cpu").manual_seed(0))
    assert history.valid_perplexity and len(text) == 7
