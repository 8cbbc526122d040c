"""utils.attention is exactly what the first half of chapter 15 writes.

The second half of chapter 15 (15_attention_training) imports its attention and
its decoder from utils.attention instead of repeating the first half's cells.
These tests run the first half's code cells and hold the two against each
other: bit for bit the same weights, contexts, logits, states and gradients
(tests/test_chapter_modules.py checks the names and the statements).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import utils
from chapter_cells import run_code_cells
from utils import attention

CHAPTERS = Path(__file__).resolve().parent.parent / "chapters"
FIRST_HALF = CHAPTERS / "15_attention.ipynb"
TINY = utils.Seq2SeqConfig(train_max_tokens=3, embed_size=8, num_hiddens=8, num_layers=2,
                           dropout=0.0, batch_size=64, epochs=1)


@pytest.fixture(scope="module")
def chapter():
    """The namespace of chapter 15's first half after running all its code cells."""
    return run_code_cells(FIRST_HALF)


def test_masked_softmax_is_the_same(chapter):
    torch.manual_seed(0)
    scores = torch.randn(3, 2, 5)
    valid_len = torch.tensor([1, 5, 3])
    assert torch.equal(attention.masked_softmax(scores, valid_len),
                       chapter["masked_softmax"](scores, valid_len))
    messages = []
    for module in (vars(attention), chapter):
        with pytest.raises(ValueError) as error:
            module["masked_softmax"](scores, torch.tensor([1, 6, 3]))
        messages.append(str(error.value))
    assert messages[0] == messages[1] and "[1, 6, 3]" in messages[0]


def test_additive_attention_is_bit_identical(chapter):
    results = []
    for module in (vars(attention), chapter):
        torch.manual_seed(1)
        layer = module["AdditiveAttention"](query_size=5, key_size=4, num_hiddens=6)
        queries = torch.randn(3, 2, 5, requires_grad=True)
        keys, values = torch.randn(3, 7, 4), torch.randn(3, 7, 3)
        contexts = layer(queries, keys, values, torch.tensor([2, 7, 4]))
        contexts.square().sum().backward()
        results.append([contexts.detach(), layer.attention_weights.detach(), queries.grad]
                       + [p.grad for p in layer.parameters()])
    for ours, theirs in zip(*results):
        assert torch.equal(ours, theirs)


def test_the_decoder_is_bit_identical(chapter):
    """The same seq2seq model, built with either class: the same logits, weights,
    final states and gradients, teacher-forced and one step at a time."""
    data = utils.translation_data(TINY)
    bos = data.tgt_vocab["<bos>"]
    batch = next(utils.translation_batches(data.valid, batch_size=5, shuffle=False))
    results = []
    for decoder in (attention.AttentionDecoder, chapter["AttentionDecoder"]):
        torch.manual_seed(2)
        model = utils.build_seq2seq(TINY, data, decoder=decoder)
        logits = model(batch.src, utils.teacher_forcing_input(batch.tgt, bos),
                       batch.src_valid_len)
        weights = model.decoder.attention_weights
        utils.masked_cross_entropy(logits, batch.tgt, batch.tgt_valid_len).backward()
        enc_outputs, enc_state = model.encoder(batch.src, batch.src_valid_len)
        state = model.decoder.init_state(enc_outputs, enc_state, batch.src_valid_len)
        state = model.decoder.reorder_state(state, torch.tensor([4, 0, 0]))
        step, (_, hidden, lengths) = model.decoder(torch.full((3, 1), bos), state)
        results.append([logits.detach(), weights, step.detach(), hidden.detach(), lengths]
                       + [p.grad for p in model.parameters()])
    assert len(results[0]) == len(results[1])
    for ours, theirs in zip(*results):
        assert torch.equal(ours, theirs)
