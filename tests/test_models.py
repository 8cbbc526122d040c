"""Tests for utils/models.py: RNNModel."""

import pytest
import torch
from torch import nn

from utils import RNNModel, train_language_model


@pytest.mark.parametrize("layer", [nn.RNN, nn.GRU, nn.LSTM])
def test_shapes_for_every_layer_one_hot_and_embedding(layer):
    X = torch.randint(0, 28, (3, 7))                      # (n, T)
    for model in (RNNModel(layer(28, 16), 28), RNNModel(layer(8, 16), 28, embed_size=8)):
        logits, state = model(X)
        assert logits.shape == (7 * 3, 28)
        states = state if isinstance(state, tuple) else (state,)
        assert all(s.shape == (1, 3, 16) for s in states)


def test_logits_are_time_major():
    torch.manual_seed(0)
    model = RNNModel(nn.GRU(28, 16), 28)
    X = torch.randint(0, 28, (3, 7))
    logits, _ = model(X)
    # Row t * n + b scores the token after X[b, t]: running sequence b alone gives the same rows.
    alone, _ = model(X[1:2])
    torch.testing.assert_close(logits.reshape(7, 3, 28)[:, 1], alone)


def test_one_hot_input_equals_the_recurrent_layer_on_one_hot_vectors():
    torch.manual_seed(0)
    model = RNNModel(nn.RNN(5, 4), 5)
    X = torch.tensor([[0, 3, 1]])
    outputs, _ = model.rnn(torch.eye(5)[X.T])
    logits, _ = model(X)
    torch.testing.assert_close(logits, model.output(outputs.reshape(-1, 4)))


def test_state_is_carried_between_calls():
    torch.manual_seed(0)
    model = RNNModel(nn.LSTM(6, 8), 10, embed_size=6)
    X = torch.randint(0, 10, (2, 6))
    whole, _ = model(X)
    first, state = model(X[:, :3])
    second, _ = model(X[:, 3:], state)
    torch.testing.assert_close(torch.cat([first, second]), whole)


def test_bidirectional_and_stacked_layers():
    model = RNNModel(nn.GRU(28, 16, num_layers=2, bidirectional=True), 28)
    logits, state = model(torch.randint(0, 28, (3, 5)))
    assert logits.shape == (15, 28) and state.shape == (4, 3, 16)


def test_dropout_only_in_training_mode():
    torch.manual_seed(0)
    model = RNNModel(nn.RNN(8, 16), 28, embed_size=8, dropout=0.5)
    X = torch.randint(0, 28, (2, 5))
    model.eval()
    torch.testing.assert_close(model(X)[0], model(X)[0])
    model.train()
    assert not torch.equal(model(X)[0], model(X)[0])


@pytest.mark.parametrize("make, message", [
    (lambda: RNNModel(nn.Linear(28, 16), 28), "must be a recurrent layer"),
    (lambda: RNNModel(nn.RNN(28, 16, batch_first=True), 28), "batch_first=False"),
    (lambda: RNNModel(nn.RNN(32, 16), 28), "inputs of size 32.*vocab_size=28"),
    (lambda: RNNModel(nn.RNN(28, 16), 28, embed_size=8), "inputs of size 28.*embed_size=8"),
])
def test_bad_layers_are_explained(make, message):
    with pytest.raises((TypeError, ValueError), match=message):
        make()


def test_trains_with_the_training_function():
    torch.manual_seed(0)
    corpus = torch.tensor([0, 1, 2, 3] * 200)
    model = RNNModel(nn.GRU(4, 16), 4, embed_size=4)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    history = train_language_model(model, corpus[:600], corpus[600:], batch_size=4,
                                   num_steps=10, valid_batch_size=4, valid_num_steps=10,
                                   optimizer=optimizer, epochs=5,
                                   sampling="random", plot=False, verbose=False)
    assert history.valid_perplexity[-1] < min(1.5, history.valid_perplexity[0])
