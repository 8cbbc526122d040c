import itertools
import math

import pytest
import torch
from torch import nn

import utils
from utils.attention import AttentionDecoder
from utils.beam_search import beam_search, beam_search_batch, length_normalized
from utils.seq2seq import EncoderDecoder, Seq2SeqDecoder, Seq2SeqEncoder, greedy_decode

BOS, EOS = 1, 2


class TableDecoder(nn.Module):
    """A 'decoder' whose next-word distribution depends only on the words so far.

    Words 0 ('a'), 2 ('<eos>'), 3 ('b'); 1 is '<bos>'. The table is the
    example of chapter 14: greedy finds 'a <eos>' (p = 0.2), the best
    translation is 'b <eos>' (p = 0.36).
    """
    TABLE = {(): {0: 0.5, 3: 0.4, EOS: 0.1},
             (0,): {0: 0.3, 3: 0.3, EOS: 0.4},
             (3,): {0: 0.05, 3: 0.05, EOS: 0.9}}
    DEFAULT = {0: 0.1, 3: 0.1, EOS: 0.8}

    def init_state(self, enc_outputs, enc_state, src_valid_len=None):
        return torch.zeros(1, 0, dtype=torch.long)            # the words so far, (n, t)

    def reorder_state(self, state, index):
        return state[index]

    def forward(self, X, state):
        if X[0, 0] != BOS:
            state = torch.cat([state, X], dim=1)
        probs = torch.full((len(state), 1, 4), 1e-12)
        for i, words in enumerate(state.tolist()):
            for word, p in self.TABLE.get(tuple(words), self.DEFAULT).items():
                probs[i, 0, word] = p
        return probs.log(), state


class TableModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.decoder = TableDecoder()

    def encoder(self, src, src_valid_len=None):
        return None, None


def table_probability(words):
    p = 1.0
    for t, word in enumerate(words):
        p *= {**TableDecoder.DEFAULT, **TableDecoder.TABLE.get(tuple(words[:t]), {})}.get(word, 0)
    return p


SRC, LEN = torch.zeros(1, 3, dtype=torch.long), torch.tensor([3])


def test_on_the_table_greedy_misses_the_best_translation_and_a_beam_of_two_finds_it():
    greedy = beam_search(TableModel(), SRC, LEN, bos=BOS, eos=EOS, beam_size=1, max_steps=5)
    assert greedy[0].indices == [0] and math.exp(greedy[0].log_prob) == pytest.approx(0.2)
    beam = beam_search(TableModel(), SRC, LEN, bos=BOS, eos=EOS, beam_size=2, max_steps=5,
                       alpha=0)
    assert beam[0].indices == [3] and math.exp(beam[0].log_prob) == pytest.approx(0.36)
    assert beam[0].finished and beam[0].length == 2


def test_a_wide_beam_finds_the_most_likely_sequence_found_by_exhaustive_search():
    candidates = [list(words) + [EOS] for n in range(4) for words in itertools.product([0, 3],
                                                                                        repeat=n)]
    best = max(candidates, key=table_probability)
    found = beam_search(TableModel(), SRC, LEN, bos=BOS, eos=EOS, beam_size=8, max_steps=4,
                        alpha=0)
    assert found[0].indices + [EOS] == best
    assert math.exp(found[0].log_prob) == pytest.approx(table_probability(best))


def test_scores_are_length_normalized_and_sorted():
    found = beam_search(TableModel(), SRC, LEN, bos=BOS, eos=EOS, beam_size=3, max_steps=4,
                        alpha=0.75)
    for h in found:
        assert h.score == pytest.approx(length_normalized(h.log_prob, h.length, 0.75))
        if h.finished:
            assert h.length == len(h.indices) + 1
    assert [h.score for h in found] == sorted((h.score for h in found), reverse=True)


def _small_model(seed):
    utils.set_seed(seed)
    return EncoderDecoder(Seq2SeqEncoder(12, 8, 16, 2), Seq2SeqDecoder(10, 8, 16, 2))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_beam_size_one_is_greedy_decoding(seed):
    model = _small_model(seed)
    src = torch.randint(3, 12, (6, 5))
    lengths = torch.full((6,), 5)
    greedy = greedy_decode(model, src, lengths, bos=BOS, eos=EOS, max_steps=7).indices
    for i in range(6):
        best = beam_search(model, src[i:i + 1], lengths[i:i + 1], bos=BOS, eos=EOS,
                           beam_size=1, max_steps=7)
        assert len(best) == 1 and best[0].indices == greedy[i]


def test_log_probabilities_are_those_of_the_model():
    model = _small_model(3)
    src, lengths = torch.randint(3, 12, (1, 5)), torch.tensor([5])
    for h in beam_search(model, src, lengths, bos=BOS, eos=EOS, beam_size=4, max_steps=6):
        words = h.indices + ([EOS] if h.finished else [])
        dec_input = torch.tensor([[BOS] + words[:-1]])
        with torch.no_grad():
            logits = model(src, dec_input, lengths)                      # (1, t, V)
        log_p = logits.log_softmax(-1)[0, torch.arange(len(words)), words].sum().item()
        assert h.log_prob == pytest.approx(log_p, abs=1e-4)


def test_training_mode_is_restored():
    model = _small_model(0)
    model.train()
    beam_search(model, torch.randint(3, 12, (1, 5)), torch.tensor([5]), bos=BOS, eos=EOS,
                beam_size=2, max_steps=3)
    assert model.training


@pytest.mark.parametrize("kwargs, message", [
    (dict(beam_size=0), "beam_size"), (dict(max_steps=-1), "max_steps"),
    (dict(alpha=-0.5), "alpha")])
def test_bad_settings_are_named(kwargs, message):
    settings = {**dict(bos=BOS, eos=EOS, beam_size=2, max_steps=3), **kwargs}
    with pytest.raises(ValueError, match=message):
        beam_search(TableModel(), SRC, LEN, **settings)


@pytest.mark.parametrize("args, message", [
    ((-1.0, 0, 0.75), "length"), ((-1.0, -2, 0.75), "length"), ((-1.0, 2.5, 0.75), "length"),
    ((float("nan"), 2, 0.75), "log_prob"), (("-1", 2, 0.75), "log_prob"),
    ((float("-inf"), 2, 0.75), "log_prob"), ((-1.0, 2, -1), "alpha"), ((-1.0, 2, 3), "alpha")])
def test_length_normalized_names_a_bad_value(args, message):
    # a negative length gave a complex number, length 0 a ZeroDivisionError, NaN a NaN
    with pytest.raises((ValueError, TypeError), match=message):
        length_normalized(*args)
    assert length_normalized(-2.0, 4, 0.5) == pytest.approx(-1.0)


def test_a_batch_is_refused_with_advice():
    with pytest.raises(ValueError, match="one sentence.*beam_search_batch"):
        beam_search(TableModel(), torch.zeros(2, 3, dtype=torch.long), torch.tensor([3, 3]),
                    bos=BOS, eos=EOS, beam_size=2, max_steps=3)


def _attention_model(seed):
    utils.set_seed(seed)
    return EncoderDecoder(Seq2SeqEncoder(12, 8, 16, 1), AttentionDecoder(10, 8, 16, 1))


def _same_hypotheses(a, b):
    assert [h.indices for h in a] == [h.indices for h in b]
    assert [h.finished for h in a] == [h.finished for h in b]
    assert [h.length for h in a] == [h.length for h in b]
    assert [h.log_prob for h in a] == pytest.approx([h.log_prob for h in b], abs=1e-5)
    assert [h.score for h in a] == pytest.approx([h.score for h in b], abs=1e-5)


@pytest.mark.parametrize("make", [_small_model, _attention_model], ids=["gru", "attention"])
@pytest.mark.parametrize("seed, beam_size, alpha, max_steps",
                         [(0, 1, 0.75, 7), (1, 3, 0.0, 7), (2, 4, 0.75, 3), (3, 8, 1.5, 6)])
def test_a_batch_gets_what_each_sentence_gets_alone(make, seed, beam_size, alpha, max_steps):
    model = make(seed)
    src = torch.randint(3, 12, (7, 5))
    lengths = torch.tensor([5, 1, 3, 4, 2, 5, 3])
    together = beam_search_batch(model, src, lengths, bos=BOS, eos=EOS, beam_size=beam_size,
                                 max_steps=max_steps, alpha=alpha)
    assert len(together) == 7
    for i in range(7):
        alone = beam_search(model, src[i:i + 1], lengths[i:i + 1], bos=BOS, eos=EOS,
                            beam_size=beam_size, max_steps=max_steps, alpha=alpha)
        _same_hypotheses(together[i], alone)


def test_a_batch_of_one_on_the_table_finds_what_beam_search_finds():
    for beam_size, steps in ((1, 5), (2, 5), (8, 4)):
        together = beam_search_batch(TableModel(), SRC, LEN, bos=BOS, eos=EOS,
                                     beam_size=beam_size, max_steps=steps, alpha=0)
        alone = beam_search(TableModel(), SRC, LEN, bos=BOS, eos=EOS, beam_size=beam_size,
                            max_steps=steps, alpha=0)
        _same_hypotheses(together[0], alone)


def test_a_batch_leaves_training_mode_as_it_was_and_refuses_bad_input():
    model = _small_model(0)
    model.train()
    beam_search_batch(model, torch.randint(3, 12, (2, 5)), torch.tensor([5, 2]), bos=BOS,
                      eos=EOS, beam_size=2, max_steps=3)
    assert model.training
    for src, lengths, message in ((torch.zeros(0, 3, dtype=torch.long), torch.tensor([]), "n >= 1"),
                                  (torch.zeros(3, dtype=torch.long), torch.tensor([3]), "(n, T)"),
                                  ([[3, 4]], torch.tensor([2]), "list")):
        with pytest.raises(ValueError, match=message):
            beam_search_batch(model, src, lengths, bos=BOS, eos=EOS, beam_size=2, max_steps=3)
    with pytest.raises(ValueError, match="src_valid_len"):
        beam_search_batch(model, torch.randint(3, 12, (2, 5)), torch.tensor([5, 9]), bos=BOS,
                          eos=EOS, beam_size=2, max_steps=3)
    with pytest.raises(ValueError, match="beam_size"):
        beam_search_batch(model, torch.randint(3, 12, (2, 5)), torch.tensor([5, 2]), bos=BOS,
                          eos=EOS, beam_size=0, max_steps=3)


def _tiny_data():
    from types import SimpleNamespace
    pairs = [("i am home .".split(), "je suis chez moi .".split())] * 2
    src_vocab, tgt_vocab = utils.build_vocabs(pairs, min_freq=1)
    return SimpleNamespace(src_vocab=src_vocab, tgt_vocab=tgt_vocab, num_steps=5)


def test_beam_text_lists_hypotheses_best_first_and_marks_unknown_and_cut_input():
    from utils.beam_search import beam_text
    data = _tiny_data()
    utils.set_seed(0)
    model = EncoderDecoder(Seq2SeqEncoder(len(data.src_vocab), 8, 16, 1),
                           Seq2SeqDecoder(len(data.tgt_vocab), 8, 16, 1))
    text = beam_text(model, data, "I am at home today, really.", beam_size=3, alpha=0.75)
    lines = text.splitlines()
    assert lines[0] == ("English: i am <unk>(at) home <unk>(today) <unk>(,) "
                        "<unk>(really) .")
    scores = [float(line.split()[0]) for line in lines[2:] if line[:8].strip()
              .replace(".", "").lstrip("-").isdigit()]
    assert scores and scores == sorted(scores, reverse=True)
    assert lines[-1] == "Only the first 4 words were read."
    assert "Type an English sentence" in beam_text(model, data, "   ")
