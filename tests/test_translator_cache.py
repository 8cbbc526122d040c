"""utils.translator's cache with bad inputs: damaged files, odd paths, edited code, bad configs.

Each damaged cache entry must give a ``CacheError`` that names the file and
says how to retrain, never a raw unpickling error (and never the advice to
load with ``weights_only=False``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

import utils
from utils import model_cache
from utils import translator as TR

TINY = utils.Seq2SeqConfig(train_max_tokens=3, embed_size=8, num_hiddens=8, num_layers=1,
                           dropout=0.0, batch_size=64, epochs=1)
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("RNN_BOOK_CACHE", str(tmp_path))
    return tmp_path


@pytest.fixture
def trained(cache):
    """A cached TINY model: its two files."""
    utils.trained_seq2seq(TINY, plot=False, verbose=False)
    (weights,), (record,) = cache.glob("*.pt"), cache.glob("*.json")
    return weights, record


def _load():
    return utils.trained_seq2seq(TINY, plot=False, verbose=False)


@pytest.mark.parametrize("damage", ["truncated", "empty", "garbage", "other shapes", "nan"])
def test_a_damaged_weights_file_is_named_with_the_fix(trained, damage):
    weights, _ = trained
    if damage == "truncated":
        weights.write_bytes(weights.read_bytes()[:200])
    elif damage == "empty":
        weights.write_bytes(b"")
    elif damage == "garbage":
        weights.write_bytes(b"this is not a model" * 10)
    elif damage == "other shapes":
        state = torch.load(weights, weights_only=True)
        name = next(iter(state))
        state[name] = torch.zeros(3, 3)
        torch.save(state, weights)
    else:
        state = torch.load(weights, weights_only=True)
        next(iter(state.values())).fill_(float("nan"))
        torch.save(state, weights)
    with pytest.raises(utils.CacheError) as caught:
        _load()
    message = str(caught.value)
    assert weights.name in message and "retrain=True" in message and "Delete" in message
    assert "weights_only=False" not in message
    assert not utils.trained_seq2seq(TINY, retrain=True, plot=False, verbose=False).from_cache
    assert _load().from_cache                       # retraining repaired the entry


@pytest.mark.parametrize("edit", ["not json", "no history", "unknown field"])
def test_a_damaged_record_is_named_with_the_fix(trained, edit):
    _, record = trained
    saved = json.loads(record.read_text())
    if edit == "not json":
        record.write_text("{ half a file")
    elif edit == "no history":
        del saved["history"]
        record.write_text(json.dumps(saved))
    else:
        saved["history"]["colour"] = "red"
        record.write_text(json.dumps(saved))
    with pytest.raises(utils.CacheError, match=rf"{record.name}.*retrain=True"):
        _load()


def test_the_cache_path_expands_home_and_must_be_a_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("RNN_BOOK_CACHE", "~/models")
    assert model_cache.cache_dir() == tmp_path / "models"
    (tmp_path / "file").write_text("x")
    monkeypatch.setenv("RNN_BOOK_CACHE", str(tmp_path / "file"))
    with pytest.raises(NotADirectoryError, match="is a file, not a folder"):
        _load()                                     # before training, not after


def test_two_threads_training_the_same_config_do_not_collide(cache):
    errors = []

    def train():
        try:
            utils.trained_seq2seq(TINY, retrain=True, plot=False, verbose=False)
        except Exception as error:                  # pragma: no cover - the failure shown
            errors.append(error)
    threads = [threading.Thread(target=train) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(p.suffix for p in cache.iterdir()) == [".json", ".pt"]   # no stray temp file
    assert _load().from_cache


def test_the_key_follows_the_code_not_only_the_shapes(monkeypatch):
    before = TR.config_key(TINY)
    import utils.seq2seq as S

    def other_loss(logits, targets, valid_len):       # same shapes, other training
        return S.masked_cross_entropy.__wrapped_original__(logits, targets, valid_len) * 2
    original = S.masked_cross_entropy
    other_loss.__wrapped_original__ = original
    monkeypatch.setattr(S, "masked_cross_entropy", other_loss)
    assert TR.config_key(TINY) != before
    monkeypatch.setattr(S, "masked_cross_entropy", original)
    assert TR.config_key(TINY) == before


def _decoder_from_source(source: str):
    namespace = {"__name__": "a_notebook"}
    exec(compile(source, "<notebook cell>", "exec"), namespace)
    return namespace["Decoder"]


DECODER = """
import utils

class Decoder(utils.Seq2SeqDecoder):
    def forward(self, X, state):
        {doc}
        logits, state = super().forward(X, state)
        return logits * {scale}, state
"""


def test_the_key_ignores_docstrings_comments_and_line_numbers_but_not_code():
    plain = TR.code_fingerprint(_decoder_from_source(DECODER.format(doc="", scale=1.0)))
    documented = TR.code_fingerprint(_decoder_from_source(
        "# a comment\n\n" + DECODER.format(doc='"""Scaled logits."""', scale=1.0)))
    scaled = TR.code_fingerprint(_decoder_from_source(DECODER.format(doc="", scale=2.0)))
    assert plain == documented
    assert scaled != plain


def test_the_key_is_the_same_under_another_hash_seed_and_cpu_code_path():
    script = ("import utils, utils.translator as TR; "
              "print(TR.config_key(utils.CHAPTER13))")
    keys = set()
    for env in ({"PYTHONHASHSEED": "1"}, {"PYTHONHASHSEED": "2", "ATEN_CPU_CAPABILITY": "default"}):
        out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                             text=True, env={**os.environ, **env}, check=True)
        keys.add(out.stdout.strip())
    assert len(keys) == 1 and TR.config_key(utils.CHAPTER13) in keys


@pytest.mark.parametrize("field, value, message", [
    ("embed_size", 0, "embed_size must be a positive integer, got 0"),
    ("dropout", 1.5, "dropout must be a finite number between 0 and 1, got 1.5"),
    ("dropout", 1, "dropout must be below 1"),
    ("lr", -0.1, "lr must be a positive finite number, got -0.1"),
    ("clip", float("nan"), "clip must be a finite number"),
    ("by_length", "yes", "by_length must be True or False"),
    ("seed", -1, "seed must be a non-negative integer"),
])
def test_seq2seq_config_checks_every_field(field, value, message):
    with pytest.raises(ValueError, match=message):
        utils.Seq2SeqConfig(**{field: value})


def test_seq2seq_config_takes_numpy_numbers_and_stores_python_ones():
    config = utils.Seq2SeqConfig(epochs=np.int64(2), lr=np.float32(0.01), by_length=np.bool_(True))
    assert type(config.epochs) is int and type(config.lr) is float and config.by_length is True
    assert TR.config_key(config) == TR.config_key(utils.Seq2SeqConfig(epochs=2, lr=float(np.float32(0.01)),
                                                                      by_length=True))


def test_translate_pairs_checks_batch_size(cache):
    tiny = _load()
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got 0"):
        utils.translate_pairs(tiny.model, tiny.data, batch_size=0)


def test_a_function_default_enters_the_key_by_name_and_code_not_address(monkeypatch):
    # split_pairs(key=near_duplicate_key): the repr of a function holds its address
    assert "0x" not in model_cache._stable_repr(utils.split_pairs.__defaults__)
    before = TR.code_fingerprint()
    original = utils.translation.near_duplicate_key

    def other_key(tokens):
        return " ".join(tokens)

    other_key.__qualname__ = original.__qualname__
    monkeypatch.setattr(utils.translation.split_pairs, "__defaults__",
                        utils.translation.split_pairs.__defaults__[:-1] + (other_key,))
    assert TR.code_fingerprint() != before
