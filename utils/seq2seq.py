"""The RNN encoder-decoder of chapter 13, its loss, training loop and greedy decoding.

Shapes: n sentences in a batch, T time steps, V words in a vocabulary, e the
embedding size, h hidden units, L layers. Batches are batch-first, (n, T), as
``utils.translation.encode`` makes them; the recurrent layers run time-major.

The decoder interface (chapters 14 and 15 plug other decoders in):

* ``decoder.init_state(enc_outputs, enc_state, src_valid_len)`` -> a state,
  from the encoder's outputs (T, n, h), its final state (L, n, h) and the
  source lengths (n,);
* ``decoder(X, state)`` -> ``(logits, state)`` with X (n, T') target-side
  tokens and logits (n, T', V_tgt); ``decoder.attention_weights``, if the
  decoder has it, holds the last call's weights, (n, T', T) (see ``greedy_decode``);
* ``decoder.reorder_state(state, index)`` -> the state of the batch rows
  ``index``, in that order (needed by ``utils.beam_search`` only).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn import functional as F

from .checks import (evaluating, lengths_tensor, model_device, non_negative_int, positive_float,
                     positive_int, real_number)
from .progress import LivePlot
from .translation import Encoded, _encoded, translation_batches
from .training import INDEX_ERRORS, TrainingHistory, clip_gradients, gradient_norm


def sequence_mask(valid_len: torch.Tensor, num_steps: int) -> torch.Tensor:
    """(n, num_steps) bool: True where the position is a real token, t < valid_len[i].

    ``valid_len`` is a 1-D integer tensor with values in [0, num_steps]; a
    (n, 1) or float tensor, or a length outside that range, is an error rather
    than a mask of another shape or meaning.
    """
    num_steps = non_negative_int("num_steps", num_steps)
    if isinstance(valid_len, torch.Tensor) and valid_len.dim() != 1:
        raise ValueError(f"valid_len must be 1-D, one length per row, got shape "
                         f"{tuple(valid_len.shape)}.")
    rows = len(valid_len) if isinstance(valid_len, torch.Tensor) else 0
    valid_len = lengths_tensor("valid_len", valid_len, rows, num_steps)
    return torch.arange(num_steps, device=valid_len.device) < valid_len[:, None]


def masked_cross_entropy(logits: torch.Tensor, targets: torch.Tensor,
                         valid_len: torch.Tensor) -> torch.Tensor:
    """Cross-entropy averaged over the real target tokens only (padding is ignored).

    logits (n, T, V), targets (n, T) indices, valid_len (n,): the number of real
    tokens (words and '<eos>') at the start of each row. Returns a scalar.
    """
    for name, value in (("logits", logits), ("targets", targets), ("valid_len", valid_len)):
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"{name} must be a tensor, got a {type(value).__name__}.")
    if logits.dim() != 3 or logits.shape[:2] != targets.shape:
        raise ValueError(f"logits must be (n, T, V) and targets (n, T); got "
                         f"{tuple(logits.shape)} and {tuple(targets.shape)}.")
    if not logits.dtype.is_floating_point:
        raise TypeError(f"logits must be floating point, got dtype {logits.dtype}.")
    if targets.dtype != torch.long:
        raise TypeError(f"targets must hold int64 word indices, got dtype {targets.dtype}.")
    n, T, V = logits.shape
    # (n,) exactly: an (n, 1) or (1,) valid_len would broadcast and weigh the loss wrongly
    valid_len = lengths_tensor("valid_len", valid_len, n, T)
    if targets.numel() and (int(targets.min()) < 0 or int(targets.max()) >= V):
        raise ValueError(f"targets hold index {int(targets.max())} (or a negative one) but the "
                         f"logits score {V} words: the model's output size must be the "
                         f"target vocabulary's size.")
    mask = sequence_mask(valid_len.to(logits.device), T)                     # (n, T)
    if not mask.any():
        raise ValueError("valid_len is zero for every row: there is no token to score.")
    # Cross-entropy row by row over (tokens, V): torch's log-softmax is about four times
    # faster on contiguous rows than over the middle axis of (n, V, T). The decoders
    # compute their logits as (T, n, V) and hand back a transposed view, so the rows are
    # taken in that order when it needs no copy.
    if logits.transpose(0, 1).is_contiguous():
        losses = F.cross_entropy(logits.transpose(0, 1).reshape(-1, V), targets.t().reshape(-1),
                                 reduction="none").view(T, n).t()                # (n, T)
    else:
        losses = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1),
                                 reduction="none").view(n, T)
    return (losses * mask).sum() / mask.sum()


def init_seq2seq(module: nn.Module) -> None:
    """Xavier-uniform initial weights for ``nn.Linear`` and ``nn.GRU`` (use with ``.apply``)."""
    if not isinstance(module, nn.Module):
        raise TypeError(f"init_seq2seq initializes an nn.Module (model.apply(init_seq2seq)), "
                        f"got a {type(module).__name__}.")
    if isinstance(module, nn.Linear):
        nn.init.xavier_uniform_(module.weight)
    if isinstance(module, nn.GRU):
        for name, param in module.named_parameters():
            if name.startswith("weight"):
                nn.init.xavier_uniform_(param)


def _sizes(vocab_size, embed_size, num_hiddens, num_layers, dropout):
    """The sizes of an encoder or decoder as positive ints, dropout in [0, 1), or a clear error."""
    sizes = [positive_int(name, value) for name, value in
             (("vocab_size", vocab_size), ("embed_size", embed_size),
              ("num_hiddens", num_hiddens), ("num_layers", num_layers))]
    dropout = real_number("dropout", dropout, 0, 1)
    if dropout == 1:
        raise ValueError("dropout must be below 1 (1 drops every unit), got 1.")
    return (*sizes, dropout)


def _embedded(embedding: nn.Embedding, tokens: torch.Tensor, name: str, side: str):
    """``embedding(tokens.T)`` for (n, T) integer tokens, with a clear error for bad ones."""
    if not isinstance(tokens, torch.Tensor) or tokens.dim() != 2:
        raise ValueError(f"{name} must be a tensor of shape (batch, steps) of token indices, got "
                         f"{tuple(tokens.shape) if isinstance(tokens, torch.Tensor) else type(tokens).__name__}.")
    try:
        return embedding(tokens.T)
    except (IndexError, RuntimeError) as error:
        if tokens.dtype.is_floating_point or tokens.dtype == torch.bool:
            raise TypeError(f"{name} must hold integer token indices, got dtype "
                            f"{tokens.dtype}.") from None
        if not any(sign in str(error) for sign in INDEX_ERRORS):
            raise
        raise ValueError(f"The model cannot read {side} token index {int(tokens.max())} (or a "
                         f"negative one): its embedding has {embedding.num_embeddings} rows. "
                         f"Encode the sentences with the vocabulary the model was built for "
                         f"(its size must equal len(vocab)).") from None


class Seq2SeqEncoder(nn.Module):
    """Embedding + multi-layer GRU. src (n, T) -> outputs (T, n, h), state (L, n, h)."""

    def __init__(self, vocab_size: int, embed_size: int, num_hiddens: int, num_layers: int,
                 dropout: float = 0.0):
        super().__init__()
        vocab_size, embed_size, num_hiddens, num_layers, dropout = _sizes(
            vocab_size, embed_size, num_hiddens, num_layers, dropout)
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = nn.GRU(embed_size, num_hiddens, num_layers, dropout=dropout)
        self.apply(init_seq2seq)

    def forward(self, src: torch.Tensor, src_valid_len: torch.Tensor | None = None):
        """src (n, T) -> outputs (T, n, h), state (L, n, h).

        With ``src_valid_len`` (n,), the GRU reads each sentence only up to its
        last real token (a packed sequence): the state is the one after that
        token, and the outputs at padded positions are zeros. Without it, the GRU
        reads every position, padding included.
        """
        embs = _embedded(self.embedding, src, "src", "source")   # (T, n, e)
        if src_valid_len is None:
            return self.rnn(embs)                  # (T, n, h), (L, n, h)
        return packed_rnn(self.rnn, embs, src_valid_len)


def packed_rnn(rnn: nn.Module, embs: torch.Tensor, valid_len: torch.Tensor):
    """Run ``rnn`` (time-major, as nn.GRU) over each column of ``embs`` (T, n, e) up to its length.

    Returns (outputs (T, n, h) with zeros after each sequence's end, final state
    taken after each sequence's last real step): a packed sequence
    (``pack_padded_sequence``), which every layer and direction reads only up to
    each sequence's length.
    """
    T, n = embs.shape[0], embs.shape[1]
    valid_len = lengths_tensor("src_valid_len", valid_len, n, T)
    if n and int(valid_len.min()) < 1:
        raise ValueError(f"src_valid_len must be at least 1 for every sentence (every source "
                         f"ends with '<eos>'), got {int(valid_len.min())}.")
    packed = nn.utils.rnn.pack_padded_sequence(embs, valid_len.cpu(), enforce_sorted=False)
    outputs, state = rnn(packed)
    outputs, _ = nn.utils.rnn.pad_packed_sequence(outputs, total_length=T)
    return outputs, state


class Seq2SeqDecoder(nn.Module):
    """Embedding, the encoder's context concatenated at every step, GRU, dense layer.

    The context is the encoder's final top-layer state; the decoder's GRU starts
    from the encoder's final state. Its state is ``(context, hidden)``.
    """

    def __init__(self, vocab_size: int, embed_size: int, num_hiddens: int, num_layers: int,
                 dropout: float = 0.0):
        super().__init__()
        vocab_size, embed_size, num_hiddens, num_layers, dropout = _sizes(
            vocab_size, embed_size, num_hiddens, num_layers, dropout)
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = nn.GRU(embed_size + num_hiddens, num_hiddens, num_layers, dropout=dropout)
        self.dense = nn.Linear(num_hiddens, vocab_size)
        self.apply(init_seq2seq)

    def init_state(self, enc_outputs, enc_state, src_valid_len=None):
        """(context (n, h), hidden (L, n, h)) from the encoder's final state."""
        return enc_state[-1], enc_state

    def reorder_state(self, state, index: torch.Tensor):
        """The state of the rows ``index`` (n',) of a batch, in that order (beam search)."""
        context, hidden = state
        return context[index], hidden[:, index]

    def forward(self, X: torch.Tensor, state):
        """X (n, T) target-side tokens -> logits (n, T, V) and the new state."""
        context, hidden = state
        embs = _embedded(self.embedding, X, "X", "target")          # (T, n, e)
        context_t = context.expand(embs.shape[0], -1, -1)          # (T, n, h)
        outputs, hidden = self.rnn(torch.cat((embs, context_t), -1), hidden)  # (T, n, h)
        return self.dense(outputs).transpose(0, 1), (context, hidden)         # (n, T, V)


class EncoderDecoder(nn.Module):
    """An encoder and a decoder that follow the interface in this module's docstring."""

    def __init__(self, encoder: nn.Module, decoder: nn.Module):
        super().__init__()
        self.encoder, self.decoder = encoder, decoder

    def forward(self, src, dec_input, src_valid_len=None):
        """src (n, T), dec_input (n, T') -> logits (n, T', V_tgt)."""
        enc_outputs, enc_state = self.encoder(src, src_valid_len)
        state = self.decoder.init_state(enc_outputs, enc_state, src_valid_len)
        return self.decoder(dec_input, state)[0]


def teacher_forcing_input(tgt: torch.Tensor, bos: int) -> torch.Tensor:
    """'<bos>' followed by the target without its last token: (n, T) -> (n, T)."""
    if not isinstance(tgt, torch.Tensor) or tgt.dim() != 2:
        raise ValueError(f"tgt must be a tensor of shape (batch, steps), got "
                         f"{tuple(tgt.shape) if isinstance(tgt, torch.Tensor) else type(tgt).__name__}.")
    if tgt.dtype.is_floating_point or tgt.dtype.is_complex or tgt.dtype == torch.bool:
        raise TypeError(f"tgt must hold integer token indices, got dtype {tgt.dtype}.")
    bos = non_negative_int("bos", bos)
    return torch.cat((torch.full_like(tgt[:, :1], bos), tgt[:, :-1]), dim=1)


@torch.no_grad()
def evaluate_loss(model: nn.Module, data: Encoded, bos: int, batch_size: int = 1000) -> float:
    """The masked cross-entropy per real target token over all of ``data``, teacher-forced.

    Each batch is moved to the model's device.
    """
    data = _encoded("data", data)
    bos = non_negative_int("bos", bos)
    device = model_device(model)
    total, tokens = 0.0, 0
    with evaluating(model):
        for batch in translation_batches(data, batch_size, shuffle=False):
            batch = _to(batch, device)
            logits = model(batch.src, teacher_forcing_input(batch.tgt, bos), batch.src_valid_len)
            n = int(batch.tgt_valid_len.sum())
            total += masked_cross_entropy(logits, batch.tgt, batch.tgt_valid_len).item() * n
            tokens += n
    return total / tokens


def _to(batch: Encoded, device: torch.device) -> Encoded:
    """``batch`` with its four tensors on ``device``."""
    return Encoded(*(part.to(device) for part in batch))


@dataclass
class Seq2SeqHistory(TrainingHistory):
    """What ``train_seq2seq`` saw: losses per target token per epoch (see ``TrainingHistory``)."""
    train_loss: list[float] = field(default_factory=list)
    valid_loss: list[float] = field(default_factory=list)

    def summary(self) -> str:
        if not self.epochs:
            return self.message or "No epoch finished."
        line = (f"after {self.epochs[-1]:.3g} epochs: train loss {self.train_loss[-1]:.3f}, "
                f"validation loss {self.valid_loss[-1]:.3f}; {self.train_seconds:.1f} s of "
                f"training, {self.tokens_per_second:,.0f} target tokens/s")
        return line + (f"\n{self.message}" if self.message else "")


def train_seq2seq(model: nn.Module, train: Encoded, valid: Encoded, *, bos: int, epochs: int,
                  batch_size: int = 128, lr: float | None = None, clip: float | None = 1.0,
                  optimizer: torch.optim.Optimizer | None = None,
                  generator: torch.Generator | None = None, plot: bool = True,
                  verbose: bool = True, on_epoch=None, stop=None,
                  time_budget: float | None = None, lr_decay: bool = False,
                  by_length: bool = False) -> Seq2SeqHistory:
    """Train ``model`` (an ``EncoderDecoder``) with teacher forcing for ``epochs`` epochs.

    Every step feeds '<bos>' + target[:-1] (``teacher_forcing_input``) and
    minimises ``masked_cross_entropy`` against the target, with Adam at ``lr``
    (0.005 if neither ``lr`` nor ``optimizer`` is given; pass ``optimizer`` for
    another one) and the global gradient norm clipped to ``clip``; with
    ``lr_decay`` the learning rate falls linearly to 0 over the ``epochs``. The
    minibatches come shuffled from ``generator`` (seed it for repeatable runs);
    ``by_length`` groups them by target length (see ``translation_batches``).
    Each batch is moved to the model's device. After each epoch the validation
    loss is computed, and with ``plot=True`` a live plot shows both.

    The hooks and the ways training ends are those of ``train_language_model``
    (see ``utils.training.TrainingHistory``): ``on_epoch(history)`` after every
    epoch, True to stop; ``stop()`` after every batch; a non-finite loss or
    gradient skips that update and ends training with ``stop_reason ==
    'diverged'``; an interrupt ends it with 'interrupted'. ``time_budget``
    (seconds) ends training after the first batch that exceeds it, mid-epoch
    if need be (for experiments; the chapters train for a number of epochs,
    which gives the same result on every machine).
    """
    epochs, batch_size = positive_int("epochs", epochs), positive_int("batch_size", batch_size)
    if optimizer is not None and lr is not None:
        raise ValueError("Give lr or optimizer, not both: the optimizer has its own learning rate.")
    if optimizer is not None and not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer over the model's parameters, "
                        f"e.g. torch.optim.Adam(model.parameters(), lr=0.005); got {optimizer!r}.")
    lr = positive_float("lr", 0.005 if lr is None else lr)
    if clip is not None:
        clip = positive_float("clip", clip)
    train, valid = _encoded("train", train), _encoded("valid", valid)
    bos = non_negative_int("bos", bos)
    for name, hook in (("on_epoch", on_epoch), ("stop", stop)):
        if hook is not None and not callable(hook):
            raise TypeError(f"{name} must be a function, got {hook!r}.")
    if time_budget is not None:
        time_budget = positive_float("time_budget (seconds)", time_budget)
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("The model has no trainable parameters.")
    device = model_device(model)
    optimizer = optimizer or torch.optim.Adam(params, lr=lr)
    num_batches = -(-len(train.src) // batch_size)       # also with by_length
    total_steps = epochs * num_batches
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: 1 - step / total_steps if lr_decay else 1.0)
    history = Seq2SeqHistory(settings=dict(epochs=epochs, batch_size=batch_size, lr=lr, clip=clip,
                                           lr_decay=lr_decay, by_length=by_length,
                                           optimizer=type(optimizer).__name__))
    live = LivePlot("epoch", "loss per token", ["train", "validation"],
                    xlim=(0, epochs)) if plot else None
    was_training = model.training
    model.train()
    try:
        for epoch in range(1, epochs + 1):
            tic, loss_sum, tokens, done = time.perf_counter(), 0.0, 0, 0
            for batch in translation_batches(train, batch_size, generator=generator,
                                             by_length=by_length):
                batch = _to(batch, device)
                logits = model(batch.src, teacher_forcing_input(batch.tgt, bos),
                               batch.src_valid_len)
                loss = masked_cross_entropy(logits, batch.tgt, batch.tgt_valid_len)
                optimizer.zero_grad()
                loss.backward()
                norm = clip_gradients(params, clip) if clip else gradient_norm(params)
                if not torch.isfinite(loss) or not math.isfinite(norm):
                    history.stop_reason = "diverged"
                    history.message = (f"Stopped: the loss became {loss.item()} (gradient norm "
                                       f"{norm}) in epoch {epoch}, batch {done + 1}; that update "
                                       f"was skipped. Training diverged: lower lr={lr} or "
                                       f"clip={clip}.")
                    break
                optimizer.step()
                scheduler.step()
                n = int(batch.tgt_valid_len.sum())
                loss_sum, tokens, done = loss_sum + loss.item() * n, tokens + n, done + 1
                if stop is not None and stop():
                    history.stop_reason = "stopped"
                    history.message = ("Stopped: the model keeps what it learned so far; "
                                       "the history holds every epoch up to the stop.")
                    break
                if (time_budget is not None
                        and history.train_seconds + time.perf_counter() - tic >= time_budget):
                    if done < num_batches or epoch < epochs:
                        history.stop_reason = "time budget"
                    break
            history.train_seconds += time.perf_counter() - tic
            history.tokens += tokens
            if done:
                history.epochs.append(epoch - 1 + done / num_batches)
                history.train_loss.append(loss_sum / tokens)
                history.valid_loss.append(evaluate_loss(model, valid, bos))
                history.seconds.append(history.train_seconds)
                if live:
                    live.add(history.epochs[-1], [history.train_loss[-1],
                                                  history.valid_loss[-1]])
                    live.show(f"epoch {epoch}/{epochs}, {history.train_seconds:.0f} s")
                if (on_epoch is not None and on_epoch(history)
                        and history.stop_reason in ("", "time budget")):
                    history.stop_reason = "stopped"
                    history.message = "Stopped by on_epoch after this epoch."
            if history.stop_reason:
                break
        else:
            history.stop_reason = "epochs"
    except KeyboardInterrupt:
        history.stop_reason = "interrupted"
        history.message = ("Interrupted: the model keeps what it learned so far; "
                           "the history holds every finished epoch.")
    finally:
        model.train(was_training)
        if live and history.epochs:
            # no seconds in the final title: the saved figure is then the same on every run
            live.show(f"epoch {history.epochs[-1]:.3g}/{epochs}", final=True)
    if verbose:
        print(history.summary())
    return history


@dataclass
class Decoded:
    """Greedy translations of a batch: word indices per sentence (stopped before '<eos>')."""
    indices: list[list[int]]
    attention: list | None = None   # per sentence: (steps, T) weights, if the decoder has them


@torch.no_grad()
def greedy_decode(model: EncoderDecoder, src: torch.Tensor, src_valid_len: torch.Tensor, *,
                  bos: int, eos: int, max_steps: int) -> Decoded:
    """Translate a batch greedily: at each step feed the most likely word of the last step.

    src (n, T), src_valid_len (n,). A sentence ends at its first '<eos>' (not
    included in the result) or after ``max_steps`` words. ``src`` is moved to
    the model's device; the attention weights come back on the CPU.
    """
    max_steps = positive_int("max_steps", max_steps)
    bos, eos = non_negative_int("bos", bos), non_negative_int("eos", eos)
    if not isinstance(src, torch.Tensor) or src.dim() != 2 or src.shape[0] == 0:
        raise ValueError(f"src must be an (n, T) tensor of word indices with n >= 1, got "
                         f"{tuple(src.shape) if isinstance(src, torch.Tensor) else type(src).__name__}.")
    device = model_device(model)
    src_valid_len = lengths_tensor("src_valid_len", src_valid_len, src.shape[0],
                                   src.shape[1]).to(device)
    src = src.to(device)
    with evaluating(model):
        enc_outputs, enc_state = model.encoder(src, src_valid_len)
        state = model.decoder.init_state(enc_outputs, enc_state, src_valid_len)
        X = torch.full((src.shape[0], 1), bos, dtype=torch.long, device=device)
        steps, weights = [], []
        for _ in range(max_steps):
            logits, state = model.decoder(X, state)          # (n, 1, V)
            X = logits.argmax(dim=2)                         # (n, 1)
            steps.append(X[:, 0])
            if getattr(model.decoder, "attention_weights", None) is not None:
                weights.append(model.decoder.attention_weights[:, -1].cpu())   # (n, T)
            if bool((torch.stack(steps, 1) == eos).any(1).all()):
                break
    predicted = torch.stack(steps, 1).tolist()               # (n, steps)
    indices, attention = [], [] if weights else None
    for i, row in enumerate(predicted):
        length = row.index(eos) if eos in row else len(row)
        indices.append(row[:length])
        if weights:
            # the weights of every step that produced a word, and of the '<eos>' step
            attention.append(torch.stack([w[i] for w in weights[:length + 1]]))
    return Decoded(indices, attention)
