"""The shared plumbing of the book: data, text, sequences, training, plots, widgets.

Each chapter defines the model it teaches; what two or more chapters share
lives here, one small module per idea:

- ``corpora``: the shipped data files, loaded by name and checked by SHA-1
- ``text``: cleaning, tokenizing, ``Vocab``, ``load_corpus``
- ``sequences``: the train/validation split and the two minibatch iterators
- ``runtime``: ``set_seed`` and ``choose_device``
- ``training``: gradient clipping, ``train_language_model``, ``evaluate_perplexity``
- ``generation``: text from a language model (greedy or with temperature)
- ``progress``: a live training plot for notebooks
- ``widgets``: small interactive views
- ``models``: ``RNNModel``, a language model around nn.RNN, nn.GRU or nn.LSTM
- ``playground``: the training playground of the language-model chapters
"""

from .corpora import BOOKS, DATA_FILES, DataFileError, data_path, read_book, strip_gutenberg
from .generation import generate
from .progress import LivePlot, figure_png, in_notebook
from .sequences import (batches, num_batches, random_batches, sequential_batches,
                        train_valid_split)
from .text import Vocab, clean_text, load_corpus, tokenize
from .runtime import choose_device, set_seed
from .training import (History, clip_gradients, detach_state, evaluate_perplexity,
                       gradient_norm, model_parameters, train_language_model)
from .widgets import Explorer, explorer
from .models import RNNModel
from .playground import Playground, playground

__version__ = "0.1.0"

__all__ = [
    "BOOKS", "DATA_FILES", "DataFileError", "data_path", "read_book", "strip_gutenberg",
    "Vocab", "clean_text", "load_corpus", "tokenize",
    "batches", "num_batches", "random_batches", "sequential_batches", "train_valid_split",
    "History", "choose_device", "clip_gradients", "detach_state", "evaluate_perplexity",
    "gradient_norm", "model_parameters", "set_seed", "train_language_model",
    "generate", "LivePlot", "figure_png", "in_notebook", "Explorer", "explorer",
    "RNNModel", "Playground", "playground",
]
