"""Bad inputs to the public functions of utils: each gets an error that names the value.

The first group are silent wrong answers found by trying bad inputs (issue 14);
each of those tests failed on the code before the fix.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import utils
import utils.training
from utils import seq2seq as S
from utils import translation as T
from tiny_models import TinyLM, tiny_translation


# -- silent wrong answers ---------------------------------------------------------------

def test_corpus_bleu_checks_every_sentence_not_only_the_first():
    sentences = [["il", "est", "là", "."], ["je", "suis", "ici", "."]]
    assert utils.corpus_bleu(sentences, sentences).score == pytest.approx(100)
    with pytest.raises(TypeError, match=r"predictions\[1\].*str 'je suis ici \.'"):
        utils.corpus_bleu([sentences[0], "je suis ici ."], sentences)
    with pytest.raises(TypeError, match=r"labels\[1\]"):
        utils.corpus_bleu(sentences, [sentences[0], "je suis ici ."])
    with pytest.raises(TypeError, match=r"predictions\[0\] must hold str tokens, got 3"):
        utils.corpus_bleu([[3, 4]], [["a", "b"]])
    with pytest.raises(TypeError, match="predictions must be a list"):
        utils.corpus_bleu("il est là .", ["il est là ."])


def test_bleu_checks_its_tokens():
    with pytest.raises(TypeError, match="pred_tokens must hold str tokens, got 5"):
        utils.bleu([5, 6], ["a", "b"])
    with pytest.raises(TypeError, match="label_tokens must be a list of str tokens, got a int"):
        utils.bleu(["a"], 7)


@pytest.mark.parametrize("valid_len", [torch.tensor([[2], [3]]), torch.tensor([2])])
def test_masked_cross_entropy_rejects_valid_len_that_would_broadcast(valid_len):
    logits, targets = torch.randn(2, 4, 5), torch.randint(0, 5, (2, 4))
    with pytest.raises(ValueError, match=r"valid_len must have shape \(2,\)"):
        utils.masked_cross_entropy(logits, targets, valid_len)


def test_masked_cross_entropy_checks_types_ranges_and_indices():
    logits, targets = torch.randn(2, 4, 5), torch.randint(0, 5, (2, 4))
    with pytest.raises(ValueError, match="between 0 and 4, got values from 2 to 9"):
        utils.masked_cross_entropy(logits, targets, torch.tensor([2, 9]))
    with pytest.raises(TypeError, match="valid_len must be a tensor"):
        utils.masked_cross_entropy(logits, targets, [2, 3])
    with pytest.raises(TypeError, match="targets must hold int64"):
        utils.masked_cross_entropy(logits, targets.float(), torch.tensor([2, 3]))
    with pytest.raises(TypeError, match="valid_len must hold integer lengths"):
        utils.masked_cross_entropy(logits, targets, torch.tensor([2.0, 3.0]))
    with pytest.raises(ValueError, match="targets hold index 7 .* score 5 words"):
        utils.masked_cross_entropy(logits, torch.full((2, 4), 7), torch.tensor([2, 3]))


def test_vocab_rejects_a_str_of_reserved_tokens():
    with pytest.raises(TypeError, match=r"got the str '<pad>'; write \['<pad>'\]"):
        utils.Vocab(["a", "b"], reserved_tokens="<pad>")


def test_encode_needs_pad_and_eos_in_the_vocabulary():
    vocab = utils.Vocab(["a", "b"])
    with pytest.raises(ValueError, match="lacks <pad>, <eos>.*build_vocabs"):
        T.encode_sentences([["a"]], vocab, 3)
    good = utils.Vocab(["a", "b"], reserved_tokens=T.RESERVED_TOKENS)
    with pytest.raises(TypeError, match="sentence 1 must be a list of str tokens"):
        T.encode_sentences([["a"], [1, 2]], good, 3)
    with pytest.raises(TypeError, match="vocab must be a Vocab"):
        T.encode_sentences([["a"]], {"a": 1}, 3)


def test_clip_gradients_leaves_an_infinite_gradient_alone():
    p = torch.zeros(3, requires_grad=True)
    p.grad = torch.tensor([1.0, math.inf, 0.0])
    norm = utils.clip_gradients([p], 1.0)
    assert norm == math.inf
    assert not torch.isnan(p.grad).any()          # before: inf * (1 / inf) = nan


def test_gradient_norm_of_float16_gradients_does_not_overflow():
    p = torch.zeros(4, dtype=torch.float16, requires_grad=True)
    p.grad = torch.full((4,), 300.0, dtype=torch.float16)   # 300 ** 2 overflows float16
    assert utils.gradient_norm([p]) == pytest.approx(600.0)


def test_sequential_batches_do_not_alias_the_corpus():
    corpus = torch.arange(100)
    X, Y = next(iter(utils.sequential_batches(corpus, 2, 5, generator=torch.Generator().manual_seed(0))))
    X.zero_()
    Y.zero_()
    assert torch.equal(corpus, torch.arange(100))
    train, valid = utils.train_valid_split(corpus, 0.1)
    train.zero_()
    valid.zero_()
    assert torch.equal(corpus, torch.arange(100))


def test_perplexity_of_nan_is_nan_not_inf():
    assert math.isnan(utils.training.perplexity(float("nan")))
    assert utils.training.perplexity(800.0) == math.inf


# -- unclear errors -----------------------------------------------------------------------

def _CharModel(vocab_size=5):
    """A model over 5 tokens: fed an index >= 5 it would fail deep inside torch."""
    return TinyLM(vocab_size)


def test_a_model_too_small_for_the_text_gets_a_sentence_not_a_torch_trace():
    corpus = torch.arange(200) % 9                # indices up to 8, the model reads 5
    with pytest.raises(ValueError, match="cannot read token index 8.*len\\(vocab\\)"):
        utils.evaluate_perplexity(_CharModel(), corpus, batch_size=2, num_steps=5)
    with pytest.raises(ValueError, match="cannot read token index"):
        utils.train_language_model(_CharModel(), corpus, corpus, batch_size=2, num_steps=5,
                                   valid_batch_size=2, valid_num_steps=5, lr=0.1, epochs=1, plot=False, verbose=False)


def test_a_model_whose_output_is_smaller_than_the_targets_is_named():
    wide = TinyLM(9, out_size=5)                  # reads 9 tokens, scores 5
    corpus = torch.arange(200) % 9
    with pytest.raises(ValueError, match="token index 8 but the model scores only 5"):
        utils.evaluate_perplexity(wide, corpus, batch_size=2, num_steps=5)


def test_generate_checks_the_vocabulary_matches_the_model():
    vocab = utils.Vocab(list("abcdefghij"))       # 11 tokens, the model scores 5
    with pytest.raises(ValueError, match="scores 5 tokens but the vocabulary has 11"):
        utils.generate(_CharModel(), vocab, "ab", 3)
    with pytest.raises(TypeError, match="vocab must be a Vocab"):
        utils.generate(_CharModel(), {"a": 1}, "ab", 3)


def test_train_language_model_checks_its_hooks_and_optimizer():
    corpus = torch.arange(200) % 5
    model = _CharModel()
    common = dict(batch_size=2, num_steps=5, epochs=1, plot=False, verbose=False)
    with pytest.raises(TypeError, match="optimizer must be a torch.optim.Optimizer"):
        utils.train_language_model(model, corpus, corpus, optimizer="adam", **common)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(TypeError, match="scheduler must be .* step\\(\\).*'cosine'"):
        utils.train_language_model(model, corpus, corpus, optimizer=opt, scheduler="cosine",
                                   **common)
    with pytest.raises(TypeError, match="on_epoch must be a function"):
        utils.train_language_model(model, corpus, corpus, lr=0.1, on_epoch=3, **common)
    with pytest.raises(TypeError, match="stop must be a function"):
        utils.train_language_model(model, corpus, corpus, lr=0.1, stop=True, **common)


def test_numpy_integers_are_integers():
    assert utils.Vocab(["a", "a", "b"], min_freq=np.int64(2)).idx_to_token == ["<unk>", "a"]
    corpus, _ = utils.load_corpus(max_tokens=np.int64(50))
    assert len(corpus) == 50


def test_real_number_and_lengths_tensor_name_the_value():
    from utils.checks import lengths_tensor, real_number
    with pytest.raises(ValueError, match=r"alpha must be a finite number between 0 and 2, got None"):
        real_number("alpha", None, 0, 2)
    with pytest.raises(ValueError, match="got nan"):
        real_number("x", float("nan"))
    assert real_number("x", np.float32(0.5), 0, 1) == 0.5
    with pytest.raises(TypeError, match="must be a tensor of shape"):
        lengths_tensor("n", [1, 2], 2, 3)


def test_seq2seq_training_and_decoding_check_their_arguments():
    data, _, tgt, model = tiny_translation()
    bos, eos = tgt["<bos>"], tgt["<eos>"]
    empty = T.Encoded(*(part[:0] for part in data))
    with pytest.raises(ValueError, match="train holds no sentence pairs"):
        S.train_seq2seq(model, empty, data, bos=bos, epochs=1, plot=False, verbose=False)
    with pytest.raises(TypeError, match="valid must be an Encoded"):
        S.train_seq2seq(model, data, [1, 2], bos=bos, epochs=1, plot=False, verbose=False)
    with pytest.raises(ValueError, match="time_budget .* got -1"):
        S.train_seq2seq(model, data, data, bos=bos, epochs=1, time_budget=-1, plot=False,
                        verbose=False)
    with pytest.raises(ValueError, match="max_steps must be a positive integer, got 0"):
        S.greedy_decode(model, data.src, data.src_valid_len, bos=bos, eos=eos, max_steps=0)
    with pytest.raises(ValueError, match=r"src_valid_len must have shape \(12,\)"):
        S.greedy_decode(model, data.src, data.src_valid_len[:1], bos=bos, eos=eos, max_steps=3)
    with pytest.raises(ValueError, match="alpha .* got None"):
        utils.beam_search(model, data.src[:1], data.src_valid_len[:1], bos=bos, eos=eos,
                          beam_size=2, max_steps=3, alpha=None)
    with pytest.raises(ValueError, match="bos must be a non-negative integer, got -1"):
        utils.beam_search(model, data.src[:1], data.src_valid_len[:1], bos=-1, eos=eos,
                          beam_size=2, max_steps=3)


def test_gradient_norm_keeps_float64_precision():
    # chapter 6 checks utils.clip_gradients against its own clip() in float64 to 1e-15
    p = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    p.grad = torch.tensor([1e-3, 1.0 + 1e-12, 3.0], dtype=torch.float64)
    exact = math.sqrt(sum(g * g for g in p.grad.tolist()))
    assert abs(utils.gradient_norm([p]) - exact) < 1e-15


# -- a second round (stop 32): public functions that had no bad-input test ------------
# Each case below was a silent answer or a torch/Python trace on the code before.

def test_sequence_mask_refuses_lengths_that_would_broadcast_or_mean_something_else():
    assert S.sequence_mask(torch.tensor([1, 3]), 3).tolist() == [[True, False, False],
                                                                [True, True, True]]
    with pytest.raises(ValueError, match=r"valid_len must be 1-D.*\(2, 1\)"):
        S.sequence_mask(torch.tensor([[1], [2]]), 3)       # was a (2, 1, 3) mask
    with pytest.raises(TypeError, match="valid_len must hold integer lengths.*float32"):
        S.sequence_mask(torch.tensor([1.5, 2.0]), 3)       # was rounded up silently
    with pytest.raises(ValueError, match=r"between 0 and 3, got values from -1 to 2"):
        S.sequence_mask(torch.tensor([-1, 2]), 3)          # was an all-False row
    with pytest.raises(ValueError, match=r"between 0 and 2, got values from 1 to 5"):
        S.sequence_mask(torch.tensor([1, 5]), 2)


def test_teacher_forcing_input_names_a_bad_target_or_bos():
    with pytest.raises(ValueError, match=r"tgt must be a tensor of shape \(batch, steps\), got \(3,\)"):
        S.teacher_forcing_input(torch.tensor([1, 2, 3]), 0)
    with pytest.raises(TypeError, match="tgt must hold integer token indices.*float32"):
        S.teacher_forcing_input(torch.ones(2, 3), 0)       # was a float tensor back
    with pytest.raises(ValueError, match="bos must be a non-negative integer, got -1"):
        S.teacher_forcing_input(torch.ones(2, 3, dtype=torch.long), -1)


@pytest.mark.parametrize("cls", [S.Seq2SeqEncoder, S.Seq2SeqDecoder])
@pytest.mark.parametrize("args, message", [
    ((0, 8, 16, 1), "vocab_size must be a positive integer, got 0"),    # was Embedding(0, 8)
    ((10, 8, 16, 0), "num_layers must be a positive integer, got 0"),
    ((10, 8, 16, 1, 2.0), "dropout must be a finite number between 0 and 1, got 2.0"),
    ((10, 8, 16, 1, 1.0), "dropout must be below 1"),
])
def test_an_encoder_or_decoder_of_bad_sizes_is_named(cls, args, message):
    with pytest.raises(ValueError, match=message):
        cls(*args)


@pytest.mark.parametrize("cls", [S.Seq2SeqEncoder, S.Seq2SeqDecoder])
def test_tokens_the_model_cannot_read_are_named_with_the_fix(cls):
    torch.manual_seed(0)
    model = cls(10, 8, 16, 1)
    state = (None if cls is S.Seq2SeqEncoder
             else model.init_state(None, torch.zeros(1, 1, 16)))
    call = (lambda X: model(X)) if cls is S.Seq2SeqEncoder else (lambda X: model(X, state))
    with pytest.raises(ValueError, match=r"cannot read \w+ token index 11.*10 rows.*len\(vocab\)"):
        call(torch.tensor([[11, 2, 3]]))                   # was "index out of range in self"
    with pytest.raises(TypeError, match=r"must hold integer token indices, got dtype torch.float32"):
        call(torch.ones(1, 3))
    with pytest.raises(ValueError, match=r"shape \(batch, steps\).*got \(3,\)"):
        call(torch.tensor([1, 2, 3]))        # the encoder read it as one unbatched sequence


def test_init_seq2seq_refuses_what_is_not_a_module():
    with pytest.raises(TypeError, match="init_seq2seq initializes an nn.Module.*int"):
        S.init_seq2seq(3)                                  # was a silent no-op


def test_gradient_norm_names_what_it_got_instead_of_tensors():
    with pytest.raises(TypeError, match="params must be a list of tensors.*got int"):
        utils.gradient_norm(3)
    with pytest.raises(TypeError, match="params must be a list of tensors.*holding int"):
        utils.gradient_norm([1, 2])


@pytest.mark.parametrize("function", [T.group_references,
                                      lambda pairs: T.encode(pairs, *_vocabs(), 5)])
def test_pairs_that_are_not_pairs_of_token_lists_are_named(function):
    with pytest.raises(TypeError, match="pairs must be a list of .* pairs, got a str"):
        function("go .\tva !")
    with pytest.raises(TypeError, match=r"pairs\[1\] must be a pair of token lists.*'va !'"):
        function([(["go", "."], ["va", "!"]), ("go .", "va !")])   # was scored by characters


def _vocabs():
    vocab = utils.Vocab(["go", ".", "va", "!"], reserved_tokens=["<pad>", "<bos>", "<eos>"])
    return vocab, vocab


def test_strip_gutenberg_and_translation_data_name_a_wrong_type():
    with pytest.raises(TypeError, match="text must be a str.*int"):
        utils.strip_gutenberg(3)
    with pytest.raises(TypeError, match="config must be a Seq2SeqConfig.*int"):
        utils.translation_data(3)


@pytest.mark.parametrize("legend", ["ab", [], ["train", 3]])
def test_a_live_plot_needs_a_list_of_curve_names(legend):
    # a str was split into one curve per character
    with pytest.raises(TypeError, match="legend must be a non-empty list of curve names"):
        utils.LivePlot("epoch", "loss", legend)


def test_figure_png_names_what_is_not_a_figure():
    with pytest.raises(TypeError, match="fig must be a matplotlib Figure, got a int"):
        utils.figure_png(3)


def test_a_one_hot_model_too_small_for_the_text_gets_the_same_sentence():
    # RNNModel without an embedding fails in F.one_hot ("Class values must be smaller
    # than num_classes"), which the check did not recognize: the playground showed a trace
    model = utils.RNNModel(torch.nn.GRU(4, 8), 4)
    corpus = torch.arange(200) % 9
    with pytest.raises(ValueError, match="cannot read token index 8.*len\\(vocab\\)"):
        utils.evaluate_perplexity(model, corpus, batch_size=2, num_steps=5)
    with pytest.raises(ValueError, match="cannot read token index"):
        utils.generate(model, utils.Vocab(list("abcdefghi")), "ih", 3)
