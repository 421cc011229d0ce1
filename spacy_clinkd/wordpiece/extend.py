"""Extend a WordPiece vocabulary in place of `add_tokens`.

`tokenizer.add_tokens` makes "added tokens" that are matched on raw text
before WordPiece runs, so they never act as pieces inside a word. Here the
new tokens are appended to vocab.txt and the fast tokenizer is rebuilt from
it, so longest-match-first WordPiece uses them like any other piece: a
word-initial token ("dyspnea") at the start of a word and a `##` token
("##cholesterol") inside one. The rebuilt tokenizer keeps the source's
class (BertTokenizerFast, DistilBertTokenizerFast), casing and accent
settings, and is checked against the source's normalizer and pre-tokenizer.
"""
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import ClinkdError, Errors

# Copied from the source model dir when present (provenance of the student).
EXTRA_FILES = ("clinkd_student.json",)


def load_tokenizer(path: str | Path) -> Any:
    """Load a fast WordPiece tokenizer.

    path (Union[str, Path]): a local Hugging Face model directory.
    RETURNS (PreTrainedTokenizerFast): the tokenizer.
    RAISES ClinkdError: not loadable, not fast, or not WordPiece.
    """
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(str(path), use_fast=True, trust_remote_code=False)
    except Exception as err:  # noqa: BLE001 - any loader failure is the user's path
        raise ClinkdError(Errors.E308.format(path=path, reason=err)) from None
    if not getattr(tokenizer, "is_fast", False):
        raise ClinkdError(Errors.E309.format(path=path, cls=type(tokenizer).__name__))
    model_type = tokenizer_json(tokenizer)["model"]["type"]
    if model_type != "WordPiece":
        raise ClinkdError(Errors.E307.format(path=path, model=model_type))
    return tokenizer


def tokenizer_json(tokenizer: Any) -> dict[str, Any]:
    """RETURNS (Dict[str, Any]): the fast tokenizer's tokenizer.json content."""
    return json.loads(tokenizer.backend_tokenizer.to_str())


def wordpiece_vocab(tokenizer: Any) -> list[str]:
    """The WordPiece vocabulary in id order (what vocab.txt holds).

    tokenizer (PreTrainedTokenizerFast): a WordPiece tokenizer.
    RETURNS (List[str]): token at index i has id i.
    """
    vocab: dict[str, int] = tokenizer_json(tokenizer)["model"]["vocab"]
    ordered = sorted(vocab, key=vocab.__getitem__)
    if [vocab[t] for t in ordered] != list(range(len(ordered))):
        raise ClinkdError(Errors.E310.format(what="vocabulary ids", old="0..n-1", new="gaps"))
    return ordered


def extend_tokenizer(tokenizer: Any, new_tokens: Sequence[str], output_dir: str | Path) -> Any:
    """Append tokens to the WordPiece vocabulary, rebuild and save the tokenizer.

    tokenizer (PreTrainedTokenizerFast): the source (BERT or DistilBERT) tokenizer.
    new_tokens (Sequence[str]): tokens to append, in order; `##x` for
        continuation pieces.
    output_dir (Union[str, Path]): where vocab.txt, tokenizer.json and the
        tokenizer config are written.
    RETURNS (PreTrainedTokenizerFast): the rebuilt tokenizer (same class).
    """
    old_vocab = wordpiece_vocab(tokenizer)
    known = set(old_vocab)
    for token in new_tokens:
        if token in known or not token or token.isspace():
            raise ClinkdError(Errors.E311.format(token=token))
        known.add(token)
    old_json = tokenizer_json(tokenizer)
    n_old = len(old_vocab)
    for added in old_json.get("added_tokens", []):
        if added["id"] >= n_old:
            # An id past vocab.txt would collide with the appended tokens.
            raise ClinkdError(
                Errors.E310.format(what="added tokens", old=f"ids < {n_old}", new=added)
            )
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    vocab_file = output_dir / "vocab.txt"
    vocab_file.write_text("\n".join([*old_vocab, *new_tokens]) + "\n", encoding="utf8")
    normalizer = old_json.get("normalizer") or {}
    kwargs = {
        k: v
        for k, v in tokenizer.init_kwargs.items()
        if k not in ("name_or_path", "vocab_file", "tokenizer_file", "added_tokens_decoder")
    }
    if normalizer.get("type") == "BertNormalizer":
        # The normalizer is what actually runs: trust it over tokenizer_config.
        kwargs["do_lower_case"] = normalizer["lowercase"]
        kwargs["strip_accents"] = normalizer["strip_accents"]
        kwargs["tokenize_chinese_chars"] = normalizer["handle_chinese_chars"]
    new = type(tokenizer)(vocab_file=str(vocab_file), **kwargs)
    new_json = tokenizer_json(new)
    for part in ("normalizer", "pre_tokenizer"):
        if new_json.get(part) != old_json.get(part):
            raise ClinkdError(
                Errors.E310.format(what=part, old=old_json.get(part), new=new_json.get(part))
            )
    for key in ("continuing_subword_prefix", "max_input_chars_per_word", "unk_token"):
        old_value, new_value = old_json["model"].get(key), new_json["model"].get(key)
        if old_value != new_value:
            raise ClinkdError(Errors.E310.format(what=key, old=old_value, new=new_value))
    if wordpiece_vocab(new) != [*old_vocab, *new_tokens]:
        raise ClinkdError(Errors.E310.format(what="vocabulary", old=n_old, new=len(new)))
    new.save_pretrained(str(output_dir))
    return new
