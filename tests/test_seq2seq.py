"""utils.seq2seq: mask and loss, encoder and decoder shapes, training, greedy decoding."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn import functional as F

import utils
from utils import seq2seq as S
from utils import translation as T


def test_sequence_mask():
    mask = utils.sequence_mask(torch.tensor([1, 3, 0]), 4)
    assert mask.tolist() == [[True, False, False, False], [True, True, True, False],
                             [False] * 4]


def test_masked_cross_entropy_is_the_mean_over_real_tokens_only():
    torch.manual_seed(0)
    logits, targets = torch.randn(2, 4, 7), torch.randint(0, 7, (2, 4))
    valid_len = torch.tensor([2, 3])
    real = [F.cross_entropy(logits[i, :n], targets[i, :n], reduction="sum")
            for i, n in enumerate(valid_len.tolist())]
    expected = sum(real) / 5
    assert utils.masked_cross_entropy(logits, targets, valid_len).item() == \
        pytest.approx(expected.item())
    changed = logits.clone()
    changed[0, 2:] += 100.0                     # what the model says at padding does not count
    changed[1, 3] -= 50.0
    assert utils.masked_cross_entropy(changed, targets, valid_len).item() == \
        pytest.approx(expected.item())


def test_masked_cross_entropy_checks_shapes():
    with pytest.raises(ValueError, match=r"logits must be \(n, T, V\)"):
        utils.masked_cross_entropy(torch.zeros(2, 4), torch.zeros(2, 4, dtype=torch.long),
                                   torch.tensor([1, 1]))
    with pytest.raises(ValueError, match="no token to score"):
        utils.masked_cross_entropy(torch.zeros(1, 2, 3), torch.zeros(1, 2, dtype=torch.long),
                                   torch.tensor([0]))


def make_model(src_vocab=11, tgt_vocab=13, embed=8, hidden=16, layers=2, seed=0):
    torch.manual_seed(seed)
    return S.EncoderDecoder(S.Seq2SeqEncoder(src_vocab, embed, hidden, layers),
                            S.Seq2SeqDecoder(tgt_vocab, embed, hidden, layers))


def test_shapes_of_encoder_decoder_and_state():
    model = make_model()
    src = torch.randint(0, 11, (4, 9))                     # (n, T)
    outputs, state = model.encoder(src)
    assert outputs.shape == (9, 4, 16) and state.shape == (2, 4, 16)
    context, hidden = model.decoder.init_state(outputs, state, None)
    assert torch.equal(context, outputs[-1]) and torch.equal(hidden, state)
    logits, (context2, hidden2) = model.decoder(torch.randint(0, 13, (4, 6)), (context, hidden))
    assert logits.shape == (4, 6, 13) and hidden2.shape == (2, 4, 16)
    assert torch.equal(context2, context)                  # the context stays the same
    assert model(src, torch.randint(0, 13, (4, 6))).shape == (4, 6, 13)


@pytest.mark.parametrize("num_layers", [1, 2])
def test_encoder_with_lengths_stops_at_each_sentence_end(num_layers):
    torch.manual_seed(0)
    encoder = S.Seq2SeqEncoder(12, 5, 7, num_layers)
    src = torch.randint(4, 12, (3, 6))
    valid_len = torch.tensor([6, 2, 4])
    outputs, state = encoder(src, valid_len)
    assert outputs.shape == (6, 3, 7) and state.shape == (num_layers, 3, 7)
    for i, length in enumerate(valid_len.tolist()):
        alone_out, alone_state = encoder(src[i:i + 1, :length])      # no padding at all
        torch.testing.assert_close(state[:, i], alone_state[:, 0])
        torch.testing.assert_close(outputs[:length, i], alone_out[:, 0])
        assert not outputs[length:, i].any()                           # zeros past the end
    other = src.clone()
    other[1, 2:] = 1                                                   # other padding tokens
    torch.testing.assert_close(encoder(other, valid_len)[1], state)
    unpacked_state = encoder(src)[1]                                  # reads the padding
    assert not torch.allclose(unpacked_state[:, 1], state[:, 1])
    packed = S.nn.utils.rnn.pack_padded_sequence(encoder.embedding(src.T), valid_len,
                                                 enforce_sorted=False)
    packed_out, packed_state = encoder.rnn(packed)
    torch.testing.assert_close(state, packed_state)
    torch.testing.assert_close(outputs, S.nn.utils.rnn.pad_packed_sequence(packed_out,
                                                                         total_length=6)[0])


def test_encoder_lengths_are_checked():
    encoder = S.Seq2SeqEncoder(12, 5, 7, 1)
    src = torch.randint(4, 12, (2, 4))
    with pytest.raises(ValueError, match="at least 1"):
        encoder(src, torch.tensor([3, 0]))
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        encoder(src, torch.tensor([[3], [2]]))
    with pytest.raises(ValueError, match="between 0 and 4"):
        encoder(src, torch.tensor([3, 5]))


def test_xavier_initialization_bounds():
    layer = nn.Linear(30, 50)
    S.init_seq2seq(layer)
    bound = (6 / (30 + 50)) ** 0.5
    assert layer.weight.abs().max() <= bound
    gru = nn.GRU(4, 6)
    S.init_seq2seq(gru)
    assert gru.weight_hh_l0.abs().max() <= (6 / (18 + 6)) ** 0.5


def test_teacher_forcing_input_shifts_right_behind_bos():
    tgt = torch.tensor([[5, 6, 3, 1], [7, 3, 1, 1]])
    assert S.teacher_forcing_input(tgt, bos=2).tolist() == [[2, 5, 6, 3], [2, 7, 3, 1]]


class ScriptedDecoder(nn.Module):
    """A decoder that says a fixed sentence per row, whatever it reads (and has attention)."""

    def __init__(self, scripts, vocab_size=10, with_attention=False):
        super().__init__()
        self.scripts, self.vocab_size, self.with_attention = scripts, vocab_size, with_attention
        self.bias = nn.Parameter(torch.zeros(1))
        self.attention_weights = None

    def init_state(self, enc_outputs, enc_state, src_valid_len):
        self.src_steps = enc_outputs.shape[0]
        return 0

    def forward(self, X, step):
        logits = torch.zeros(X.shape[0], 1, self.vocab_size)
        for i, script in enumerate(self.scripts):
            logits[i, 0, script[min(step, len(script) - 1)]] = 1.0
        if self.with_attention:
            self.attention_weights = torch.full((X.shape[0], 1, self.src_steps), float(step))
        return logits, step + 1


def test_greedy_decode_stops_at_eos_per_sentence():
    eos = 3
    encoder = S.Seq2SeqEncoder(10, 4, 4, 1)
    model = S.EncoderDecoder(encoder, ScriptedDecoder([[5, 6, eos, 7], [8, 8, 8, 8]]))
    src = torch.zeros(2, 5, dtype=torch.long)
    decoded = S.greedy_decode(model, src, torch.tensor([5, 5]), bos=2, eos=eos, max_steps=6)
    assert decoded.indices == [[5, 6], [8, 8, 8, 8, 8, 8]]
    assert decoded.attention is None


def test_greedy_decode_collects_attention_weights_when_the_decoder_has_them():
    eos = 3
    model = S.EncoderDecoder(S.Seq2SeqEncoder(10, 4, 4, 1),
                             ScriptedDecoder([[5, eos], [6, 6, eos]], with_attention=True))
    decoded = S.greedy_decode(model, torch.zeros(2, 5, dtype=torch.long), torch.tensor([5, 5]),
                              bos=2, eos=eos, max_steps=6)
    assert decoded.indices == [[5], [6, 6]]
    assert decoded.attention[0].shape == (2, 5)            # the word's step and the <eos> step
    assert decoded.attention[1][:, 0].tolist() == [0.0, 1.0, 2.0]


def tiny_task(n=64, num_steps=5, seed=0):
    """Copy-and-shift: the 'French' of a sentence is each word + 1."""
    g = torch.Generator().manual_seed(seed)
    pairs = []
    for _ in range(n):
        words = [f"w{int(i)}" for i in torch.randint(0, 6, (3,), generator=g)]
        pairs.append((words, [f"w{int(w[1:]) + 1}" for w in words]))
    src_vocab, tgt_vocab = T.build_vocabs(pairs, min_freq=1)
    return T.encode(pairs, src_vocab, tgt_vocab, num_steps), src_vocab, tgt_vocab


def test_training_lowers_the_loss_and_repeats_with_a_seed():
    data, src_vocab, tgt_vocab = tiny_task()
    histories, weights = [], []
    for _ in range(2):
        model = make_model(len(src_vocab), len(tgt_vocab), 16, 32, 1)
        history = utils.train_seq2seq(model, data, data, bos=tgt_vocab["<bos>"], epochs=15,
                                      batch_size=16, lr=0.01,
                                      generator=torch.Generator().manual_seed(0),
                                      plot=False, verbose=False)
        histories.append(history)
        weights.append(model.decoder.dense.weight.detach().clone())
    h = histories[0]
    assert h.epochs == list(range(1, 16)) and len(h.valid_loss) == len(h.seconds) == 15
    assert h.valid_loss[-1] < 0.5 * h.valid_loss[0]
    assert histories[1].train_loss == h.train_loss and torch.equal(*weights)
    assert "after 15 epochs" in h.summary()


def test_training_checks_its_settings():
    data, _, tgt_vocab = tiny_task(8)
    model = make_model(20, 20)
    with pytest.raises(ValueError, match="epochs must be a positive integer, got 0"):
        utils.train_seq2seq(model, data, data, bos=2, epochs=0, plot=False)
    with pytest.raises(ValueError, match="lr must be a positive finite number"):
        utils.train_seq2seq(model, data, data, bos=2, epochs=1, lr=-1.0, plot=False)


def test_on_epoch_can_stop_training_and_a_time_budget_ends_it_mid_epoch():
    data, src_vocab, tgt_vocab = tiny_task()
    model = make_model(len(src_vocab), len(tgt_vocab))
    history = utils.train_seq2seq(model, data, data, bos=2, epochs=5, batch_size=16,
                                  on_epoch=lambda h: h.epochs[-1] >= 2, plot=False,
                                  verbose=False)
    assert history.epochs == [1, 2]
    history = utils.train_seq2seq(model, data, data, bos=2, epochs=5, batch_size=16,
                                  time_budget=1e-9, plot=False, verbose=False)
    assert history.epochs == [0.25]                           # one batch of four, then stop


def test_lr_decay_and_batches_by_length_train_too():
    data, src_vocab, tgt_vocab = tiny_task()
    results = {}
    for decay in (False, True):
        model = make_model(len(src_vocab), len(tgt_vocab), 16, 32, 1)
        history = utils.train_seq2seq(model, data, data, bos=tgt_vocab["<bos>"], epochs=8,
                                      batch_size=16, lr=0.01, lr_decay=decay, by_length=True,
                                      generator=torch.Generator().manual_seed(0),
                                      plot=False, verbose=False)
        assert history.valid_loss[-1] < 0.7 * history.valid_loss[0]
        assert history.settings["lr_decay"] is decay and history.settings["by_length"]
        results[decay] = history.train_loss
    assert results[True] != results[False]
