"""utils/scratch_models.py: every from-scratch model computes what its PyTorch layer computes.

Same weights -> same logits and final states (to 1e-5) and the same gradients, against
nn.RNN, nn.GRU (one and two layers), nn.LSTM; chapter 7's own GRU form (reset before the
product), which no PyTorch layer computes, against a direct evaluation of its equations
and against finite differences.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.func import functional_call
from torch.nn import functional as F

from utils import FastGRU, RNNModel
from utils.scratch_models import BenchmarkGRU, BenchmarkLSTM, BenchmarkRNN

V, H, N, T = 11, 8, 3, 6          # vocabulary, hidden units, batch, steps
TOL = dict(atol=1e-5, rtol=1e-5)


def _batch(seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, V, (N, T), generator=g), torch.randint(0, V, (N, T), generator=g)


def _loss(logits, Y):
    return F.cross_entropy(logits, Y.T.reshape(-1))


def _copy(pairs):
    """Copy torch values into scratch parameters: pairs of (scratch parameter, value)."""
    with torch.no_grad():
        for param, value in pairs:
            param.copy_(value)


def _check_grads(pairs):
    """pairs of (scratch gradient, the torch gradient it must equal)."""
    for ours, theirs in pairs:
        torch.testing.assert_close(ours, theirs, **TOL)


def _run_both(scratch, torch_model, state, scratch_state=None):
    X, Y = _batch()
    ours, our_state = scratch(X, scratch_state if scratch_state is not None else state)
    theirs, their_state = torch_model(X, state)
    torch.testing.assert_close(ours, theirs, **TOL)
    for a, b in zip(our_state if isinstance(our_state, tuple) else (our_state,),
                    their_state if isinstance(their_state, tuple) else (their_state,)):
        torch.testing.assert_close(a, b, **TOL)
    _loss(ours, Y).backward()
    _loss(theirs, Y).backward()


def _output_pairs(scratch, model):
    return [(scratch.W_hq, model.output.weight.T), (scratch.b_q, model.output.bias)]


def _output_grads(scratch, model):
    return [(scratch.W_hq.grad, model.output.weight.grad.T), (scratch.b_q.grad, model.output.bias.grad)]


def test_rnn_scratch_equals_nn_rnn():
    torch.manual_seed(0)
    model, scratch = RNNModel(nn.RNN(V, H), V), BenchmarkRNN(V, H)
    rnn = model.rnn
    _copy([(scratch.W_xh, rnn.weight_ih_l0.T), (scratch.W_hh, rnn.weight_hh_l0.T),
           (scratch.b_h, rnn.bias_ih_l0 + rnn.bias_hh_l0), *_output_pairs(scratch, model)])
    _run_both(scratch, model, torch.randn(1, N, H))
    _check_grads([(scratch.W_xh.grad, rnn.weight_ih_l0.grad.T),
                  (scratch.W_hh.grad, rnn.weight_hh_l0.grad.T),
                  (scratch.b_h.grad, rnn.bias_ih_l0.grad), *_output_grads(scratch, model)])


def _gru_layer_pairs(layer, rnn, l):
    """nn.GRU layer l's weights in chapter 7's names (reset_after form); order r, z, n."""
    W_ir, W_iz, W_in = getattr(rnn, f"weight_ih_l{l}").chunk(3)
    W_hr, W_hz, W_hn = getattr(rnn, f"weight_hh_l{l}").chunk(3)
    b_ir, b_iz, b_in = getattr(rnn, f"bias_ih_l{l}").chunk(3)
    b_hr, b_hz, b_hn = getattr(rnn, f"bias_hh_l{l}").chunk(3)
    return [(layer.W_xz, W_iz.T), (layer.W_hz, W_hz.T), (layer.b_z, b_iz + b_hz),
            (layer.W_xr, W_ir.T), (layer.W_hr, W_hr.T), (layer.b_r, b_ir + b_hr),
            (layer.W_xh, W_in.T), (layer.W_hh, W_hn.T), (layer.b_h, b_in), (layer.b_hh, b_hn)]


def _gru_layer_grads(layer, rnn, l):
    W_ir, W_iz, W_in = getattr(rnn, f"weight_ih_l{l}").grad.chunk(3)
    W_hr, W_hz, W_hn = getattr(rnn, f"weight_hh_l{l}").grad.chunk(3)
    b_ir, b_iz, b_in = getattr(rnn, f"bias_ih_l{l}").grad.chunk(3)
    _, _, b_hn = getattr(rnn, f"bias_hh_l{l}").grad.chunk(3)
    return [(layer.W_xz.grad, W_iz.T), (layer.W_hz.grad, W_hz.T), (layer.b_z.grad, b_iz),
            (layer.W_xr.grad, W_ir.T), (layer.W_hr.grad, W_hr.T), (layer.b_r.grad, b_ir),
            (layer.W_xh.grad, W_in.T), (layer.W_hh.grad, W_hn.T), (layer.b_h.grad, b_in),
            (layer.b_hh.grad, b_hn)]


@pytest.mark.parametrize("num_layers", [1, 2])
def test_gru_scratch_in_pytorch_form_equals_nn_gru(num_layers):
    torch.manual_seed(0)
    # dropout between layers is off in eval mode, for both
    model = RNNModel(nn.GRU(V, H, num_layers=num_layers, dropout=0.3 if num_layers > 1 else 0), V)
    scratch = BenchmarkGRU(V, H, num_layers=num_layers, dropout=0.3, reset_after=True)
    model.eval(), scratch.eval()
    pairs = [p for l, layer in enumerate(scratch.layers) for p in _gru_layer_pairs(layer, model.rnn, l)]
    _copy(pairs + _output_pairs(scratch, model))
    _run_both(scratch, model, torch.randn(num_layers, N, H))
    grads = [p for l, layer in enumerate(scratch.layers) for p in _gru_layer_grads(layer, model.rnn, l)]
    _check_grads(grads + _output_grads(scratch, model))


def test_deep_gru_scratch_drops_between_layers_only():
    torch.manual_seed(0)
    scratch = BenchmarkGRU(V, H, num_layers=2, dropout=0.5).train()
    X, _ = _batch()
    state = torch.randn(2, N, H)
    dropped, dropped_state = scratch(X, state)
    clean, clean_state = scratch.eval()(X, state)
    torch.testing.assert_close(dropped_state[0], clean_state[0])   # layer 1 reads no dropout
    assert not torch.allclose(dropped_state[1], clean_state[1])
    assert not torch.allclose(dropped, clean)


def _cho_gru_reference(X, H0, scratch):
    """Chapter 7's equations, one sequence and one step at a time, in float64."""
    layer = scratch.layers[0]
    p = {name: value.detach().double() for name, value in layer.named_parameters()}
    W_hq, b_q = scratch.W_hq.detach().double(), scratch.b_q.detach().double()
    sigmoid = lambda v: 1 / (1 + torch.exp(-v))                      # noqa: E731
    logits = torch.zeros(T, N, V, dtype=torch.float64)
    last = torch.zeros(N, H, dtype=torch.float64)
    for b in range(N):
        h = H0[0, b].double()
        for t in range(T):
            x = torch.zeros(V, dtype=torch.float64)
            x[X[b, t]] = 1.0
            z = sigmoid(x @ p["W_xz"] + h @ p["W_hz"] + p["b_z"])
            r = sigmoid(x @ p["W_xr"] + h @ p["W_hr"] + p["b_r"])
            h_tilde = torch.tanh(x @ p["W_xh"] + (r * h) @ p["W_hh"] + p["b_h"])
            h = z * h + (1 - z) * h_tilde
            logits[t, b] = h @ W_hq + b_q
        last[b] = h
    return logits.reshape(T * N, V), last


def test_gru_scratch_in_chapter_7_form_follows_its_equations():
    torch.manual_seed(0)
    scratch = BenchmarkGRU(V, H, sigma=0.5)             # large weights: every term matters
    X, _ = _batch()
    H0 = torch.randn(1, N, H)
    logits, state = scratch(X, H0)
    ref_logits, ref_state = _cho_gru_reference(X, H0, scratch)
    torch.testing.assert_close(logits.double(), ref_logits, **TOL)
    torch.testing.assert_close(state[0].double(), ref_state, **TOL)
    # and it is not PyTorch's form: the same weights with reset_after give other numbers
    other = BenchmarkGRU(V, H, reset_after=True)
    other.load_state_dict({**scratch.state_dict(), "layers.0.b_hh": torch.zeros(H)})
    assert (other(X, H0)[0] - logits).abs().max() > 1e-3


def test_gru_scratch_in_chapter_7_form_has_the_gradients_of_finite_differences():
    torch.manual_seed(0)
    scratch = BenchmarkGRU(5, 3, sigma=0.5).double()
    X = torch.randint(0, 5, (2, 4))
    H0 = torch.randn(1, 2, 3, dtype=torch.float64)
    names = [name for name, _ in scratch.named_parameters()]

    def logits_of(*values):
        return functional_call(scratch, dict(zip(names, values)), (X, H0))[0]

    values = tuple(p.detach().clone().requires_grad_() for p in scratch.parameters())
    assert torch.autograd.gradcheck(logits_of, values)


def test_lstm_scratch_equals_nn_lstm():
    torch.manual_seed(0)
    model, scratch = RNNModel(nn.LSTM(V, H), V), BenchmarkLSTM(V, H)
    rnn = model.rnn
    W_ii, W_if, W_ig, W_io = rnn.weight_ih_l0.chunk(4)               # order i, f, g, o
    W_hi, W_hf, W_hg, W_ho = rnn.weight_hh_l0.chunk(4)
    b_i, b_f, b_g, b_o = (rnn.bias_ih_l0 + rnn.bias_hh_l0).chunk(4)
    _copy([(scratch.W_xi, W_ii.T), (scratch.W_hi, W_hi.T), (scratch.b_i, b_i),
           (scratch.W_xf, W_if.T), (scratch.W_hf, W_hf.T), (scratch.b_f, b_f),
           (scratch.W_xo, W_io.T), (scratch.W_ho, W_ho.T), (scratch.b_o, b_o),
           (scratch.W_xc, W_ig.T), (scratch.W_hc, W_hg.T), (scratch.b_c, b_g),
           *_output_pairs(scratch, model)])
    _run_both(scratch, model, (torch.randn(1, N, H), torch.randn(1, N, H)))
    gW_i, gW_f, gW_g, gW_o = rnn.weight_ih_l0.grad.chunk(4)
    gU_i, gU_f, gU_g, gU_o = rnn.weight_hh_l0.grad.chunk(4)
    gb_i, gb_f, gb_g, gb_o = rnn.bias_ih_l0.grad.chunk(4)
    _check_grads([(scratch.W_xi.grad, gW_i.T), (scratch.W_hi.grad, gU_i.T), (scratch.b_i.grad, gb_i),
                  (scratch.W_xf.grad, gW_f.T), (scratch.W_hf.grad, gU_f.T), (scratch.b_f.grad, gb_f),
                  (scratch.W_xo.grad, gW_o.T), (scratch.W_ho.grad, gU_o.T), (scratch.b_o.grad, gb_o),
                  (scratch.W_xc.grad, gW_g.T), (scratch.W_hc.grad, gU_g.T), (scratch.b_c.grad, gb_g),
                  *_output_grads(scratch, model)])


@pytest.mark.parametrize("embed_size", [None, 5])
def test_fast_gru_equals_nn_gru(embed_size):
    torch.manual_seed(0)
    model = RNNModel(nn.GRU(embed_size or V, H), V, embed_size)
    fast = FastGRU.from_rnn_model(model)
    rnn = model.rnn
    _run_both(fast, model, torch.randn(1, N, H))
    grads = [(fast.W_x.grad, rnn.weight_ih_l0.grad.T), (fast.W_h.grad, rnn.weight_hh_l0.grad.T),
             (fast.b_x.grad, rnn.bias_ih_l0.grad), (fast.b_h.grad, rnn.bias_hh_l0.grad),
             (fast.output.weight.grad, model.output.weight.grad),
             (fast.output.bias.grad, model.output.bias.grad)]
    if embed_size:
        grads.append((fast.embedding.weight.grad, model.embedding.weight.grad))
    _check_grads(grads)


def test_fast_gru_starts_from_zeros_and_copies_are_independent():
    torch.manual_seed(0)
    model = RNNModel(nn.GRU(4, H), V, embed_size=4)
    fast = FastGRU.from_rnn_model(model)
    X, _ = _batch()
    torch.testing.assert_close(fast(X)[0], model(X)[0], **TOL)       # None state means zeros
    with torch.no_grad():
        fast.W_h.zero_()
    assert model.rnn.weight_hh_l0.abs().sum() > 0


def test_every_model_starts_from_zeros_and_has_chapter_shapes():
    torch.manual_seed(0)
    X, _ = _batch()
    for model in (BenchmarkRNN(V, H), BenchmarkGRU(V, H), BenchmarkGRU(V, H, num_layers=2),
                  BenchmarkLSTM(V, H), FastGRU(V, H), FastGRU(V, H, embed_size=4)):
        logits, state = model(X)
        again, _ = model(X, model.begin_state(N))
        torch.testing.assert_close(logits, again)
        assert logits.shape == (T * N, V)
        states = state if isinstance(state, tuple) else (state,)
        assert all(s.shape == (getattr(model, "num_layers", 1), N, H) for s in states)


def test_chapter_initialization():
    torch.manual_seed(0)
    model = BenchmarkGRU(28, 256)
    layer = model.layers[0]
    assert abs(layer.W_xz.std().item() - 0.01) < 1e-3 and layer.b_z.abs().sum() == 0
    assert layer.b_hh is None
    # chapter 7 draws W_xz, W_hz, W_xr, ... in that order from the seeded generator
    torch.manual_seed(0)
    torch.testing.assert_close(layer.W_xz, torch.randn(28, 256) * 0.01)
    torch.testing.assert_close(layer.W_hz, torch.randn(256, 256) * 0.01)


def test_bad_arguments_name_the_value():
    with pytest.raises(ValueError, match="num_hiddens"):
        BenchmarkRNN(28, 0)
    with pytest.raises(ValueError, match="one-layer"):
        FastGRU.from_rnn_model(RNNModel(nn.GRU(V, H, num_layers=2), V))
    with pytest.raises(ValueError, match="nn.GRU"):
        FastGRU.from_rnn_model(RNNModel(nn.LSTM(V, H), V))


def test_fast_gru_runs_under_bfloat16_autocast():
    # Chapter 16 trains under torch.autocast; the state starts in float32 and the
    # gates come out in bfloat16, which torch.lerp refuses to mix.
    torch.manual_seed(0)
    model = FastGRU(28, 16, 8)
    X = torch.randint(0, 28, (4, 5))
    expected, _ = model(X)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits, state = model(X)
    logits.float().sum().backward()
    assert logits.dtype == torch.bfloat16 and state.shape == (1, 4, 16)
    torch.testing.assert_close(logits.float(), expected, rtol=0, atol=0.05)
