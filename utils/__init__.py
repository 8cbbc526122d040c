"""The shared plumbing of the book: data, text, sequences, training, plots, widgets.

Each chapter defines the model it teaches; what two or more chapters share
lives here, one small module per idea:

- ``corpora``: the shipped data files, loaded by name and checked by SHA-1
- ``text``: cleaning, tokenizing, ``Vocab``, ``load_corpus``
- ``sequences``: the train/validation split and the two minibatch iterators
- ``checks``: the argument checks every module uses (``positive_int``, ``real_number``,
  ``lengths_tensor``, ``evaluating``, ``model_device``, ...)
- ``runtime``: ``set_seed``, ``choose_device`` and ``available_devices``
- ``verify``: ``below``, how a check prints the bound a difference meets, and
  ``seed_outputs``, what a chapter printed from other seeds (``make spread``), and
  ``seed_values``, the numbers read off it
- ``training``: gradient clipping, ``train_language_model``, ``evaluate_perplexity``
- ``generation``: text from a language model (greedy or with temperature), and
  ``words_of_the_book``, how much of a sample is real words
- ``progress``: a live training plot for notebooks
- ``widgets``: the widgets' shared parts, ``explorer`` and chapter 16's ``speed_meter``
- ``models``: ``RNNModel``, a language model around nn.RNN, nn.GRU or nn.LSTM
- ``playground``: the training playground of the language-model chapters
- ``translation``: English-French pairs: ``normalize``, the split, vocabularies, ``encode``
- ``seq2seq``: the encoder-decoder, ``masked_cross_entropy``, ``train_seq2seq``, ``greedy_decode``
- ``bleu``: ``bleu`` from scratch and ``corpus_bleu`` with sacrebleu
- ``translator``: chapter 13's configuration and ``trained_seq2seq``, a model trained once
  and then loaded from the cache of ``model_cache`` (where it is, a hash of the code, safe
  writing and reading)
- ``translate``: ``greedy_translate`` for one sentence, ``translate_pairs`` and
  ``evaluate_bleu`` for a whole part of the data, the translation widget
- ``attention_maps``: heat maps of attention weights and the attention widget (chapter 15)
- ``beam_search``: ``beam_search`` for one sentence, ``beam_search_batch`` for many at once, ``beam_text`` for chapter 14's widget
- ``numpy_rnn``: the NumPy code of chapters 6 and 9 (a tanh RNN and its backward pass;
  units, GRU, LSTM, Adam, the gradient check), for the second half of each chapter
  (not imported here: ``from utils.numpy_rnn import ...``)
- ``scratch_models``: the from-scratch RNN, GRU and LSTM of chapters 4-10 as modules, and
  ``FastGRU``, chapter 16's fast scratch GRU
- ``speed``: ``training_speed`` in tokens per second, and ``interleaved_speeds`` for several
  models in interleaved rounds (chapter 16)
- ``evaluation``: BLEU with all references, 13a BLEU and chrF on text, paired bootstrap
  resampling (not imported here: ``from utils.evaluation import ...``)
- ``benchmark``: ``python -m utils.benchmark``, every model of the book timed on this machine
  (not imported here: ``from utils import benchmark``)

Everything but the widgets works without ipywidgets (a script, a GPU machine
without it): the widget names are then placeholders that raise an
ImportError saying what to install.
"""

from .corpora import BOOKS, DATA_FILES, DataFileError, data_path, read_book, strip_gutenberg
from .generation import generate, words_of_the_book
from .progress import LivePlot, figure_png, in_notebook
from .sequences import (batches, num_batches, random_batches, sequential_batches,
                        train_valid_split)
from .text import Vocab, clean_text, load_corpus, tokenize
from .runtime import available_devices, choose_device, set_seed
from .verify import below, seed_outputs, seed_values
from .training import (History, clip_gradients, detach_state, evaluate_perplexity,
                       gradient_norm, model_parameters, train_language_model)
from .models import RNNModel
from .translation import (MAX_TOKENS, NUM_TEST, NUM_VALID, Encoded, TranslationData,
                          build_vocabs, encode, encode_sentences, filter_by_length,
                          group_references, load_translation_data, near_duplicate_key,
                          normalize, read_pairs, split_pairs,
                          tokenize_pair, translation_batches, truncate_pad)
from .seq2seq import (Decoded, EncoderDecoder, Seq2SeqDecoder, Seq2SeqEncoder, Seq2SeqHistory,
                      evaluate_loss, greedy_decode, init_seq2seq, masked_cross_entropy,
                      sequence_mask, teacher_forcing_input, train_seq2seq)
from .bleu import bleu, bleu_signature, corpus_bleu
from .model_cache import CacheError
from .translator import (CHAPTER13, Seq2SeqConfig, Translator, build_seq2seq, trained_seq2seq,
                         translation_data)
from .translate import (Translation, evaluate_bleu, greedy_translate, translate_pairs,
                        translation_box, translation_text)
from .attention_maps import attention_box, attention_view, plot_attention, translation_weights
from .beam_search import Hypothesis, beam_search, beam_search_batch, beam_text
from .speed import Speed, training_speed
from .scratch_models import FastGRU

try:
    import ipywidgets as _ipywidgets  # noqa: F401  (only to know whether it is there)
except ImportError:                    # the widgets need it; nothing else does
    def _needs_ipywidgets(name):
        def missing(*args, **kwargs):
            raise ImportError(f"utils.{name} is a widget and needs ipywidgets: "
                              f"pip install 'ipywidgets>=7.7'.")
        missing.__name__ = name
        return missing
    Explorer, explorer, Playground, playground, SpeedMeter, speed_meter = (
        _needs_ipywidgets(name) for name in
        ("Explorer", "explorer", "Playground", "playground", "SpeedMeter", "speed_meter"))
else:
    from .widgets import Explorer, SpeedMeter, explorer, speed_meter
    from .playground import Playground, playground

__version__ = "0.1.0"

__all__ = [
    "BOOKS", "DATA_FILES", "DataFileError", "data_path", "read_book", "strip_gutenberg",
    "Vocab", "clean_text", "load_corpus", "tokenize",
    "batches", "num_batches", "random_batches", "sequential_batches", "train_valid_split",
    "History", "available_devices", "choose_device", "clip_gradients", "detach_state", "evaluate_perplexity",
    "gradient_norm", "model_parameters", "set_seed", "train_language_model", "below",
    "seed_outputs",
    "seed_values",
    "generate", "words_of_the_book", "LivePlot", "figure_png", "in_notebook", "Explorer", "explorer",
    "RNNModel", "Playground", "playground",
    "MAX_TOKENS", "NUM_TEST", "NUM_VALID", "Encoded", "TranslationData", "build_vocabs", "encode",
    "encode_sentences", "filter_by_length", "group_references", "load_translation_data",
    "near_duplicate_key", "normalize", "read_pairs",
    "split_pairs", "tokenize_pair", "translation_batches", "truncate_pad",
    "Decoded", "EncoderDecoder", "Seq2SeqDecoder", "Seq2SeqEncoder", "Seq2SeqHistory",
    "evaluate_loss", "greedy_decode", "init_seq2seq", "masked_cross_entropy", "sequence_mask",
    "teacher_forcing_input", "train_seq2seq",
    "bleu", "bleu_signature", "corpus_bleu",
    "CHAPTER13", "CacheError", "Seq2SeqConfig", "Translation", "Translator", "build_seq2seq", "evaluate_bleu",
    "greedy_translate", "trained_seq2seq", "translate_pairs", "translation_box",
    "translation_data", "translation_text",
    "attention_box", "attention_view", "plot_attention", "translation_weights",
    "Hypothesis", "beam_search", "beam_search_batch", "beam_text",
    "Speed", "SpeedMeter", "speed_meter", "training_speed",
    "FastGRU",
]
