"""Embedding rows for new vocabulary entries, and the extended model dir.

A new token's row is the mean of the rows of the pieces the *old* tokenizer
split it into (Sachidananda et al. 2021): "dyspnea" → mean(d, ##ys, ##p,
##nea). A `##x` token is split as the inside of a word, so "##cholesterol" →
mean(##cho, ##les, ##terol), never the word-initial "cho". `init="random"`
draws N(0, initializer_range) rows instead, for the ablation. Plain torch /
transformers code: no spaCy here.
"""
import json
import shutil
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from ..errors import ClinkdError, Errors
from .counting import CONTINUATION, wordpiece
from .extend import EXTRA_FILES, extend_tokenizer, load_tokenizer, wordpiece_vocab

INIT_OPTIONS = ("mean", "random")


def old_pieces(token: str, vocab: Mapping[str, int]) -> list[str] | None:
    """The pieces the old vocabulary splits a new token into.

    token (str): a new token, "word" or "##piece".
    vocab (Mapping[str, int]): the old vocabulary.
    RETURNS (Optional[List[str]]): the pieces, or None if WordPiece fails.
    """
    if token.startswith(CONTINUATION):
        return wordpiece(token[len(CONTINUATION):], vocab, continuation=True)
    return wordpiece(token, vocab)


def init_new_rows(
    model: torch.nn.Module,
    old_vocab: Mapping[str, int],
    new_tokens: Sequence[str],
    *,
    init: str = "mean",
    seed: int = 0,
    unk_token: str = "[UNK]",
) -> dict[str, int]:
    """Resize the input embeddings and fill the rows of the new tokens.

    model (torch.nn.Module): a Hugging Face model (BERT, DistilBERT, ...).
    old_vocab (Mapping[str, int]): the vocabulary before extension; new token
        i gets id len(old_vocab) + i.
    new_tokens (Sequence[str]): the appended tokens, in vocab order.
    init (str): "mean" (of the old pieces' rows) or "random".
    seed (int): seed of the random rows.
    unk_token (str): its row is used for a token the old vocab cannot split.
    RETURNS (Dict[str, int]): counts: rows set, and fallbacks to unk.
    """
    if init not in INIT_OPTIONS:
        raise ClinkdError(Errors.E306.format(init=init, options=list(INIT_OPTIONS)))
    n_old = len(old_vocab)
    n_new = n_old + len(new_tokens)
    n_rows = model.get_input_embeddings().weight.shape[0]
    if n_new > n_rows:
        model.resize_token_embeddings(n_new, mean_resizing=False)
    weight = model.get_input_embeddings().weight  # (n_rows, hidden)
    n_unk = 0
    with torch.no_grad():
        if init == "random":
            std = float(getattr(model.config, "initializer_range", 0.02))
            generator = torch.Generator().manual_seed(seed)
            rows = torch.randn(
                (len(new_tokens), weight.shape[1]), generator=generator
            ) * std  # (n_tokens, hidden)
            weight[n_old:n_new] = rows.to(weight.dtype)
        else:
            for i, token in enumerate(new_tokens):
                pieces = old_pieces(token, old_vocab)
                if not pieces:
                    pieces = [unk_token]
                    n_unk += 1
                ids = torch.tensor([old_vocab[p] for p in pieces])
                weight[n_old + i] = weight[ids].mean(dim=0)  # (hidden,)
    return {"rows_set": len(new_tokens), "unk_fallbacks": n_unk}


def extend_model(
    source_dir: str | Path,
    output_dir: str | Path,
    new_tokens: Sequence[str],
    *,
    init: str = "mean",
    seed: int = 0,
    warmup_texts: Iterable[str] | None = None,
    warmup_steps: int = 0,
    warmup_lr: float = 1e-3,
) -> dict[str, Any]:
    """Write a Hugging Face model dir with an extended vocabulary.

    source_dir (Union[str, Path]): the source model (weights + fast tokenizer).
    output_dir (Union[str, Path]): the output dir; `AutoModel` and
        `AutoTokenizer.from_pretrained` (so spacy-transformers) load it.
    new_tokens (Sequence[str]): tokens to append.
    init (str): "mean" or "random" initialisation of the new rows.
    seed (int): seed of the random rows and of the warm-up.
    warmup_texts (Optional[Iterable[str]]): clinical texts for the optional
        masked-LM warm-up of the new rows (`warmup.mlm_warmup`).
    warmup_steps (int): warm-up steps; 0 (default) skips it.
    warmup_lr (float): warm-up learning rate.
    RETURNS (Dict[str, Any]): a summary (sizes, settings), also written to
        OUTPUT_DIR/clinkd_vocab.json.
    """
    from transformers import AutoModel

    if init not in INIT_OPTIONS:
        raise ClinkdError(Errors.E306.format(init=init, options=list(INIT_OPTIONS)))
    source_dir, output_dir = Path(source_dir), Path(output_dir)
    tokenizer = load_tokenizer(source_dir)
    try:
        model = AutoModel.from_pretrained(str(source_dir), use_safetensors=True, trust_remote_code=False)
    except Exception as err:  # noqa: BLE001 - any loader failure is the user's path
        raise ClinkdError(Errors.E308.format(path=source_dir, reason=err)) from None
    old_list = wordpiece_vocab(tokenizer)
    old_vocab = {token: i for i, token in enumerate(old_list)}
    new_tokenizer = extend_tokenizer(tokenizer, new_tokens, output_dir)
    counts = init_new_rows(
        model, old_vocab, new_tokens, init=init, seed=seed, unk_token=tokenizer.unk_token
    )
    warmup = None
    if warmup_steps > 0:
        from .warmup import mlm_warmup

        warmup = mlm_warmup(
            model, new_tokenizer, warmup_texts or [], len(old_list),
            steps=warmup_steps, learn_rate=warmup_lr, seed=seed,
        )
    model.save_pretrained(str(output_dir))
    for name in EXTRA_FILES:
        if (source_dir / name).exists():
            shutil.copyfile(source_dir / name, output_dir / name)
    summary: dict[str, Any] = {
        "source": str(source_dir),
        "model_type": model.config.model_type,
        "tokenizer_class": type(new_tokenizer).__name__,
        "old_vocab_size": len(old_list),
        "new_vocab_size": len(new_tokenizer),
        "added_tokens": len(new_tokens),
        "embedding_rows": int(model.get_input_embeddings().weight.shape[0]),
        "init": init,
        "seed": seed,
        "mlm_warmup": warmup,
        **counts,
    }
    (output_dir / "clinkd_vocab.json").write_text(
        json.dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf8"
    )
    return summary
