"""Optional masked-LM warm-up of the new embedding rows only (off by default).

Mean-of-pieces rows are a good start, but a new row has never been seen by the
encoder as a token of its own. A short masked-LM pass on clinical text lets
the frozen encoder pull each new row towards what its contexts predict,
without touching any pretrained weight.

With E the input embedding matrix (tied as the output matrix), M the masked
positions and h_i the encoder's last hidden state at position i,

    z_i = LayerNorm(GELU(W h_i + c))
    L   = −(1/|M|) Σ_{i∈M} log softmax(z_i Eᵀ + b)[x_i]

Only the rows E[n_old:] and the throw-away head (W, c, LayerNorm, b) are
trained; the head is dropped afterwards and the old rows are restored bit for
bit (the encoder is frozen and run without dropout). Positions are masked
BERT-style (80% [MASK], 10% random token, 10% unchanged) with probability
`mask_prob`, raised to `new_mask_prob` where the token is a new one, so the
new rows get trained as targets as well as as inputs. Chunks come from the
clinical texts in corpus order, only those holding at least one new token,
and are shuffled with `seed`: same inputs and settings, same rows.
"""
import random
from collections.abc import Iterable, Sequence
from typing import Any

import torch

from ..errors import ClinkdError, Errors


def warmup_chunks(
    texts: Iterable[str],
    tokenizer: Any,
    n_old: int,
    *,
    max_length: int = 128,
    max_chunks: int = 4096,
) -> list[list[int]]:
    """Token-id chunks ([CLS] ... [SEP], at most `max_length` ids) that hold a
    new token (id >= n_old), in corpus order, at most `max_chunks`."""
    body = max_length - 2
    chunks: list[list[int]] = []
    for text in texts:
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        for start in range(0, len(ids), body):
            piece = ids[start:start + body]
            if any(i >= n_old for i in piece):
                chunks.append([tokenizer.cls_token_id, *piece, tokenizer.sep_token_id])
                if len(chunks) >= max_chunks:
                    return chunks
    return chunks


def mask_batch(
    batch: Sequence[Sequence[int]],
    *,
    n_old: int,
    vocab_size: int,
    mask_id: int,
    special_ids: set[int],
    mask_prob: float,
    new_mask_prob: float,
    rng: random.Random,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Pad and mask a batch of chunks.

    RETURNS (Tuple[Tensor, Tensor, Tensor]): input ids (B, L), attention mask
        (B, L), and labels (B, L): the original id at masked positions, -100
        elsewhere.
    """
    length = max(len(chunk) for chunk in batch)
    inputs = torch.zeros((len(batch), length), dtype=torch.long)
    attention = torch.zeros((len(batch), length), dtype=torch.long)
    labels = torch.full((len(batch), length), -100, dtype=torch.long)
    for row, chunk in enumerate(batch):
        for col, token in enumerate(chunk):
            inputs[row, col] = token
            attention[row, col] = 1
            if token in special_ids:
                continue
            if rng.random() >= (new_mask_prob if token >= n_old else mask_prob):
                continue
            labels[row, col] = token
            roll = rng.random()
            if roll < 0.8:
                inputs[row, col] = mask_id
            elif roll < 0.9:
                inputs[row, col] = rng.randrange(vocab_size)
    return inputs, attention, labels


def mlm_warmup(
    model: torch.nn.Module,
    tokenizer: Any,
    texts: Iterable[str],
    n_old: int,
    *,
    steps: int,
    batch_size: int = 16,
    max_length: int = 128,
    learn_rate: float = 1e-3,
    mask_prob: float = 0.15,
    new_mask_prob: float = 0.5,
    seed: int = 0,
) -> dict[str, Any]:
    """Train the embedding rows n_old.. with the masked-LM loss above.

    model (torch.nn.Module): a Hugging Face encoder whose input embeddings
        already hold the new rows (BERT, DistilBERT, ...).
    tokenizer (Any): the extended fast tokenizer.
    texts (Iterable[str]): clinical texts (never dev or test text).
    n_old (int): rows below this are the pretrained vocabulary: kept as is.
    steps (int): optimizer steps (> 0).
    RETURNS (Dict[str, Any]): steps requested and run (a step whose batch
        drew no masked position is skipped), chunks, first and last loss, mean
        change of the new rows.
    RAISES ClinkdError: no chunk holds a new token.
    """
    if steps < 1:
        raise ClinkdError(Errors.E315.format(what=f"steps must be >= 1, got {steps}"))
    if not learn_rate > 0:
        raise ClinkdError(Errors.E315.format(what=f"the learning rate must be > 0, got {learn_rate}"))
    chunks = warmup_chunks(texts, tokenizer, n_old, max_length=max_length, max_chunks=steps * batch_size)
    if not chunks:
        raise ClinkdError(Errors.E315.format(what="no text holds a new token"))
    rng = random.Random(seed)
    rng.shuffle(chunks)
    torch.manual_seed(seed)
    embeddings = model.get_input_embeddings().weight  # (V, H)
    vocab_size, hidden = embeddings.shape
    old_rows = embeddings.detach()[:n_old].clone()
    start_rows = embeddings.detach()[n_old:].clone()
    states = {name: p.requires_grad for name, p in model.named_parameters()}
    for param in model.parameters():
        param.requires_grad_(False)
    embeddings.requires_grad_(True)
    keep_old = torch.ones((vocab_size, 1))
    keep_old[n_old:] = 0.0
    hook = embeddings.register_hook(lambda grad: grad * (1.0 - keep_old).to(grad.dtype))
    head = torch.nn.Sequential(
        torch.nn.Linear(hidden, hidden), torch.nn.GELU(), torch.nn.LayerNorm(hidden)
    )
    bias = torch.nn.Parameter(torch.zeros(vocab_size))
    optimizer = torch.optim.Adam([embeddings, bias, *head.parameters()], lr=learn_rate)
    special = set(tokenizer.all_special_ids)
    was_training = model.training
    model.eval()  # no dropout: the frozen encoder is a fixed function
    losses: list[float] = []
    try:
        for step in range(steps):
            batch = [chunks[(step * batch_size + j) % len(chunks)] for j in range(batch_size)]
            inputs, attention, labels = mask_batch(
                batch, n_old=n_old, vocab_size=vocab_size, mask_id=tokenizer.mask_token_id,
                special_ids=special, mask_prob=mask_prob, new_mask_prob=new_mask_prob, rng=rng,
            )
            masked = labels != -100  # (B, L)
            if not masked.any():
                continue
            states_out = model(input_ids=inputs, attention_mask=attention).last_hidden_state  # (B, L, H)
            z = head(states_out[masked])  # (n_masked, H)
            logits = z @ embeddings.T + bias  # (n_masked, V)
            loss = torch.nn.functional.cross_entropy(logits, labels[masked])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(round(float(loss.detach()), 4))
    finally:
        hook.remove()
        with torch.no_grad():
            embeddings[:n_old] = old_rows
        for name, param in model.named_parameters():
            param.requires_grad_(states[name])
        model.train(was_training)
    change = (embeddings.detach()[n_old:] - start_rows).norm(dim=1).mean()
    return {
        "steps": steps,
        "steps_run": len(losses),
        "chunks": len(chunks),
        "first_loss": losses[0] if losses else None,
        "last_loss": losses[-1] if losses else None,
        "mean_row_change": float(change),
        "learn_rate": learn_rate,
        "batch_size": batch_size,
        "seed": seed,
    }
