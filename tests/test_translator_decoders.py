"""utils.translator with another decoder than chapter 13's (chapter 15 plugs in attention):
building, training and caching it under a key that follows what the decoder computes."""

from __future__ import annotations

import pytest
import torch

import utils
from utils import translator as TR

TINY = utils.Seq2SeqConfig(train_max_tokens=3, embed_size=8, num_hiddens=8, num_layers=1,
                           dropout=0.0, batch_size=64, epochs=1)


class UniformAttentionDecoder(utils.Seq2SeqDecoder):
    """Chapter 13's decoder that also reports weights spread evenly over the real source
    positions: the interface of a decoder with attention, without the attention."""

    def init_state(self, enc_outputs, enc_state, src_valid_len=None):
        T, n = enc_outputs.shape[:2]
        valid = torch.full((n,), T) if src_valid_len is None else src_valid_len
        mask = (torch.arange(T) < valid[:, None]).float()                # (n, T)
        return (*super().init_state(enc_outputs, enc_state, src_valid_len),
                mask / mask.sum(1, keepdim=True))

    def reorder_state(self, state, index):
        context, hidden, weights = state
        return context[index], hidden[:, index], weights[index]

    def forward(self, X, state):
        context, hidden, weights = state
        logits, (context, hidden) = super().forward(X, (context, hidden))
        self.attention_weights = weights[:, None, :].expand(-1, X.shape[1], -1)  # (n, T', T)
        return logits, (context, hidden, weights)


class ScaledDecoder(UniformAttentionDecoder):
    """The same weights and state, but other logits: a different model."""

    def forward(self, X, state):
        logits, state = super().forward(X, state)
        return 2 * logits, state


@pytest.fixture(scope="module")
def data():
    return TR.translation_data(TINY)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("RNN_BOOK_CACHE", str(tmp_path))
    return tmp_path


def test_build_seq2seq_takes_a_decoder_class(data):
    model = utils.build_seq2seq(TINY, data, decoder=UniformAttentionDecoder)
    assert isinstance(model.decoder, UniformAttentionDecoder)
    assert isinstance(utils.build_seq2seq(TINY, data).decoder, utils.Seq2SeqDecoder)
    with pytest.raises(TypeError, match="decoder must be a class"):
        utils.build_seq2seq(TINY, data, decoder="attention")


def test_the_key_of_chapter_13s_model_is_unchanged_and_a_decoder_changes_it():
    assert TR.config_key(TINY) == TR.config_key(TINY, None)
    assert len({TR.config_key(TINY), TR.config_key(TINY, "A:1"), TR.config_key(TINY, "A:2")}) == 3


def test_the_fingerprint_follows_what_the_decoder_computes(data):
    first = TR.decoder_fingerprint(TINY, data, UniformAttentionDecoder)
    assert first == TR.decoder_fingerprint(TINY, data, UniformAttentionDecoder)
    assert first.startswith("UniformAttentionDecoder:")
    scaled = TR.decoder_fingerprint(TINY, data, ScaledDecoder)
    assert scaled.split(":")[1] != first.split(":")[1]
    utils.set_seed(3)
    expected = torch.rand(1).item()
    utils.set_seed(3)
    TR.decoder_fingerprint(TINY, data, ScaledDecoder)
    assert torch.rand(1).item() == expected, "the fingerprint must not use up random numbers"


def test_a_decoder_is_cached_apart_and_cold_equals_warm(cache):
    cold = utils.trained_seq2seq(TINY, decoder=UniformAttentionDecoder, plot=False, verbose=False)
    assert not cold.from_cache and isinstance(cold.model.decoder, UniformAttentionDecoder)
    warm = utils.trained_seq2seq(TINY, decoder=UniformAttentionDecoder, plot=False, verbose=False)
    assert warm.from_cache and isinstance(warm.model.decoder, UniformAttentionDecoder)
    for (name, a), (_, b) in zip(cold.model.state_dict().items(), warm.model.state_dict().items()):
        assert torch.equal(a, b), name
    assert warm.history == cold.history
    # chapter 13's decoder and another decoder do not find this model in the cache
    assert not utils.trained_seq2seq(TINY, plot=False, verbose=False).from_cache
    assert not utils.trained_seq2seq(TINY, decoder=ScaledDecoder, plot=False,
                                     verbose=False).from_cache
    assert utils.trained_seq2seq(TINY, decoder=utils.Seq2SeqDecoder, plot=False,
                                 verbose=False).from_cache
    assert len(list(cache.glob("*.pt"))) == 3


def test_a_decoder_with_weights_gives_them_to_greedy_translate(cache):
    tiny = utils.trained_seq2seq(TINY, decoder=UniformAttentionDecoder, plot=False, verbose=False)
    result = utils.greedy_translate(tiny.model, "i'm home .", tiny.data)
    assert result.attention is not None
    steps = len(result.tokens) + 1 if len(result.tokens) < tiny.data.num_steps else len(result.tokens)
    assert tuple(result.attention.shape) == (steps, tiny.data.num_steps)
    torch.testing.assert_close(result.attention[:, :4].sum(1), torch.ones(steps))


class DoubledEncoder(utils.Seq2SeqEncoder):
    """Chapter 13's encoder with its outputs doubled: another encoder, same weights."""

    def forward(self, src, src_valid_len=None):
        outputs, state = super().forward(src, src_valid_len)
        return 2 * outputs, state


def test_build_seq2seq_takes_an_encoder_class(data):
    model = utils.build_seq2seq(TINY, data, encoder=DoubledEncoder)
    assert isinstance(model.encoder, DoubledEncoder)
    assert isinstance(model.decoder, utils.Seq2SeqDecoder)
    assert type(utils.build_seq2seq(TINY, data).encoder) is utils.Seq2SeqEncoder
    with pytest.raises(TypeError, match="encoder must be a class"):
        utils.build_seq2seq(TINY, data, encoder="bidirectional")


def test_an_encoder_changes_the_key_and_its_fingerprint_follows_its_code():
    assert TR.config_key(TINY, None, None) == TR.config_key(TINY)
    keys = {TR.config_key(TINY), TR.config_key(TINY, None, "E:1"), TR.config_key(TINY, "A:1", "E:1"),
            TR.config_key(TINY, "A:1")}
    assert len(keys) == 4
    doubled = TR.encoder_fingerprint(DoubledEncoder)
    assert doubled.startswith("DoubledEncoder:") and doubled == TR.encoder_fingerprint(DoubledEncoder)
    assert doubled != TR.encoder_fingerprint(DoubledEncoder, UniformAttentionDecoder)
    assert TR.encoder_fingerprint(utils.Seq2SeqEncoder).split(":")[1] == TR.code_fingerprint()


def test_an_encoder_is_cached_apart_and_cold_equals_warm(cache):
    cold = utils.trained_seq2seq(TINY, encoder=DoubledEncoder, decoder=UniformAttentionDecoder,
                                 plot=False, verbose=False)
    assert not cold.from_cache and isinstance(cold.model.encoder, DoubledEncoder)
    warm = utils.trained_seq2seq(TINY, encoder=DoubledEncoder, decoder=UniformAttentionDecoder,
                                 plot=False, verbose=False)
    assert warm.from_cache and isinstance(warm.model.encoder, DoubledEncoder)
    for (name, a), (_, b) in zip(cold.model.state_dict().items(), warm.model.state_dict().items()):
        assert torch.equal(a, b), name
    # the same decoder with chapter 13's encoder is another model
    assert not utils.trained_seq2seq(TINY, decoder=UniformAttentionDecoder, plot=False,
                                     verbose=False).from_cache
    assert utils.trained_seq2seq(TINY, encoder=utils.Seq2SeqEncoder, decoder=UniformAttentionDecoder,
                                 plot=False, verbose=False).from_cache
    assert len(list(cache.glob("*.pt"))) == 2
