"""The shared plumbing of the book: data, text, sequences, training, plots, widgets.

Each chapter defines the model it teaches; what two or more chapters share
lives here, one small module per idea:

- ``corpora``: the shipped data files, loaded by name and checked by SHA-1
- ``text``: cleaning, tokenizing, ``Vocab``, ``load_corpus``
- ``sequences``: the train/validation split and the two minibatch iterators
- ``runtime``: ``set_seed`` and ``choose_device``
- ``verify``: ``below``, how a check prints the bound a difference meets
- ``training``: gradient clipping, ``train_language_model``, ``evaluate_perplexity``
- ``generation``: text from a language model (greedy or with temperature)
- ``progress``: a live training plot for notebooks
- ``widgets``: small interactive views
- ``models``: ``RNNModel``, a language model around nn.RNN, nn.GRU or nn.LSTM
- ``playground``: the training playground of the language-model chapters
- ``translation``: English-French pairs: ``normalize``, the split, vocabularies, ``encode``
- ``seq2seq``: the encoder-decoder, ``masked_cross_entropy``, ``train_seq2seq``, ``greedy_decode``
- ``bleu``: ``bleu`` from scratch and ``corpus_bleu`` with sacrebleu
- ``translator``: ``trained_seq2seq`` (a cache of trained models), ``greedy_translate``,
  ``evaluate_bleu``, the translation widget
- ``attention_maps``: heat maps of attention weights and the attention widget (chapter 15)
- ``beam_search``: ``beam_search`` for one sentence, ``beam_text`` for chapter 14's widget
- ``scratch_models``: the from-scratch RNN, GRU and LSTM of chapters 4-10 as modules, and
  ``FastGRU``, chapter 16's fast scratch GRU
- ``speed``: ``training_speed`` in tokens per second and the ``speed_meter`` widget (chapter 16)
- ``benchmark``: ``python -m utils.benchmark``, every model of the book timed on this machine
  (not imported here: ``from utils import benchmark``)
"""

from .corpora import BOOKS, DATA_FILES, DataFileError, data_path, read_book, strip_gutenberg
from .generation import generate
from .progress import LivePlot, figure_png, in_notebook
from .sequences import (batches, num_batches, random_batches, sequential_batches,
                        train_valid_split)
from .text import Vocab, clean_text, load_corpus, tokenize
from .runtime import choose_device, set_seed
from .verify import below
from .training import (History, clip_gradients, detach_state, evaluate_perplexity,
                       gradient_norm, model_parameters, train_language_model)
from .widgets import Explorer, explorer
from .models import RNNModel
from .playground import Playground, playground
from .translation import (MAX_TOKENS, NUM_TEST, NUM_VALID, Encoded, TranslationData,
                          build_vocabs, encode, encode_sentences, filter_by_length,
                          load_translation_data, normalize, read_pairs, split_pairs,
                          tokenize_pair, translation_batches, truncate_pad)
from .seq2seq import (Decoded, EncoderDecoder, Seq2SeqDecoder, Seq2SeqEncoder, Seq2SeqHistory,
                      evaluate_loss, greedy_decode, init_seq2seq, masked_cross_entropy,
                      sequence_mask, teacher_forcing_input, train_seq2seq)
from .bleu import bleu, bleu_signature, corpus_bleu
from .translator import (CHAPTER13, Seq2SeqConfig, Translation, Translator, build_seq2seq,
                         evaluate_bleu, greedy_translate, trained_seq2seq, translate_pairs,
                         translation_box, translation_text)
from .attention_maps import attention_box, attention_view, plot_attention, translation_weights
from .beam_search import Hypothesis, beam_search, beam_text
from .speed import Speed, SpeedMeter, speed_meter, training_speed
from .scratch_models import FastGRU, GRUScratch, LSTMScratch, RNNScratch

__version__ = "0.1.0"

__all__ = [
    "BOOKS", "DATA_FILES", "DataFileError", "data_path", "read_book", "strip_gutenberg",
    "Vocab", "clean_text", "load_corpus", "tokenize",
    "batches", "num_batches", "random_batches", "sequential_batches", "train_valid_split",
    "History", "choose_device", "clip_gradients", "detach_state", "evaluate_perplexity",
    "gradient_norm", "model_parameters", "set_seed", "train_language_model", "below",
    "generate", "LivePlot", "figure_png", "in_notebook", "Explorer", "explorer",
    "RNNModel", "Playground", "playground",
    "MAX_TOKENS", "NUM_TEST", "NUM_VALID", "Encoded", "TranslationData", "build_vocabs", "encode",
    "encode_sentences", "filter_by_length", "load_translation_data", "normalize", "read_pairs",
    "split_pairs", "tokenize_pair", "translation_batches", "truncate_pad",
    "Decoded", "EncoderDecoder", "Seq2SeqDecoder", "Seq2SeqEncoder", "Seq2SeqHistory",
    "evaluate_loss", "greedy_decode", "init_seq2seq", "masked_cross_entropy", "sequence_mask",
    "teacher_forcing_input", "train_seq2seq",
    "bleu", "bleu_signature", "corpus_bleu",
    "CHAPTER13", "Seq2SeqConfig", "Translation", "Translator", "build_seq2seq", "evaluate_bleu",
    "greedy_translate", "trained_seq2seq", "translate_pairs", "translation_box",
    "translation_text",
    "attention_box", "attention_view", "plot_attention", "translation_weights",
    "Hypothesis", "beam_search", "beam_text",
    "Speed", "SpeedMeter", "speed_meter", "training_speed",
    "FastGRU", "GRUScratch", "LSTMScratch", "RNNScratch",
]
