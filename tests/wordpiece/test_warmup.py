"""The optional masked-LM warm-up: only the new rows move, deterministically,
on tiny BERT and DistilBERT models."""
import random

import pytest
import torch

from spacy_clinkd.errors import ClinkdError
from spacy_clinkd.wordpiece.embeddings import extend_model
from spacy_clinkd.wordpiece.warmup import mask_batch, warmup_chunks
from tests.util import write_tiny_model

NEW = ["dyspnea", "##itis", "tachy"]
TEXTS = [
    "the patient has dyspnea and tachycardia with arthritis",
    "no dyspnea today , mild gastritis",
    "the weather was calm",  # no new token: never a chunk
] * 4


def _load(path):
    from transformers import AutoModel, AutoTokenizer

    return AutoModel.from_pretrained(str(path)), AutoTokenizer.from_pretrained(str(path))


@pytest.mark.parametrize("model_type", ["bert", "distilbert"])
def test_warmup_moves_only_new_rows(model_type, tmp_path):
    source = write_tiny_model(tmp_path / "source", model_type, True)
    extend_model(source, tmp_path / "plain", NEW, init="mean")
    summary = extend_model(
        source, tmp_path / "warm", NEW, init="mean", warmup_texts=TEXTS, warmup_steps=8, warmup_lr=0.05
    )
    plain, _ = _load(tmp_path / "plain")
    warm, _ = _load(tmp_path / "warm")
    n_old = summary["old_vocab_size"]
    e_plain = plain.get_input_embeddings().weight
    e_warm = warm.get_input_embeddings().weight
    assert torch.equal(e_plain[:n_old], e_warm[:n_old])
    assert not torch.allclose(e_plain[n_old:], e_warm[n_old:])
    for (name, p), (_, q) in zip(plain.named_parameters(), warm.named_parameters()):
        if "word_embeddings" not in name:
            assert torch.equal(p, q), name
    assert summary["mlm_warmup"]["steps"] == 8 and summary["mlm_warmup"]["mean_row_change"] > 0
    again = extend_model(
        source, tmp_path / "warm2", NEW, init="mean", warmup_texts=TEXTS, warmup_steps=8, warmup_lr=0.05
    )
    assert again["mlm_warmup"] == summary["mlm_warmup"]
    assert (tmp_path / "warm" / "model.safetensors").read_bytes() == (tmp_path / "warm2" / "model.safetensors").read_bytes()


def test_warmup_is_off_by_default(tmp_path):
    source = write_tiny_model(tmp_path / "source", "bert", True)
    assert extend_model(source, tmp_path / "out", NEW)["mlm_warmup"] is None


def test_chunks_hold_a_new_token_and_fit(tmp_path):
    source = write_tiny_model(tmp_path / "source", "bert", True)
    extend_model(source, tmp_path / "out", NEW)
    _, tokenizer = _load(tmp_path / "out")
    n_old = len(tokenizer) - len(NEW)
    chunks = warmup_chunks(TEXTS, tokenizer, n_old, max_length=6)
    assert chunks and all(len(c) <= 6 for c in chunks)
    assert all(c[0] == tokenizer.cls_token_id and c[-1] == tokenizer.sep_token_id for c in chunks)
    assert all(any(i >= n_old for i in c[1:-1]) for c in chunks)
    assert len(warmup_chunks(TEXTS, tokenizer, n_old, max_length=6, max_chunks=2)) == 2
    with pytest.raises(ClinkdError, match="no text holds a new token"):
        extend_model(source, tmp_path / "x", NEW, warmup_texts=["the weather was calm"], warmup_steps=2)


def test_mask_batch_never_masks_special_tokens_and_pads():
    rng = random.Random(0)
    inputs, attention, labels = mask_batch(
        [[1, 50, 51, 2], [1, 60, 2]], n_old=55, vocab_size=70, mask_id=3, special_ids={0, 1, 2, 3},
        mask_prob=1.0, new_mask_prob=1.0, rng=rng,
    )
    assert attention.tolist() == [[1, 1, 1, 1], [1, 1, 1, 0]]
    assert labels.tolist() == [[-100, 50, 51, -100], [-100, 60, -100, -100]]
    assert inputs[:, 0].tolist() == [1, 1] and inputs[1, 3] == 0
    none = mask_batch([[1, 50, 60, 2]], n_old=55, vocab_size=70, mask_id=3, special_ids={1, 2},
                      mask_prob=0.0, new_mask_prob=0.0, rng=rng)[2]
    assert (none == -100).all()


def test_warmup_rejects_bad_settings(tmp_path):
    source = write_tiny_model(tmp_path / "source", "bert", True)
    for kwargs, message in (({"warmup_steps": 2, "warmup_lr": 0.0}, "learning rate must be > 0"),):
        with pytest.raises(ClinkdError, match=message):
            extend_model(source, tmp_path / "x", NEW, warmup_texts=TEXTS, **kwargs)


def test_cli_mlm_steps_warms_up_on_running_text_only(tmp_path):
    import json

    from typer.testing import CliRunner

    import spacy_clinkd.cli.vocab  # noqa: F401  (attaches the command to the app)
    from spacy_clinkd.cli._app import app
    from tests.util import WORDPIECE_DATA as DATA
    from tests.util import write_gold_docs

    source = write_tiny_model(tmp_path / "source", "bert", True)
    gold = write_gold_docs(tmp_path / "gold.spacy")
    args = [
        "extend-vocab", str(source), str(tmp_path / "out"),
        "--clinical", f"txt:{DATA}/clinical/note_*.txt", "--clinical", f"ents*3:{gold}",
        "--general", f"wikitext:{DATA}/general/wiki.raw",
        "--size", "4", "--min-count", "2", "--mlm-steps", "3", "--mlm-lr", "0.01",
        "--report-dir", str(tmp_path / "report"), "--no-progress",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output + repr(result.exception)
    warm = json.loads((tmp_path / "out" / "clinkd_vocab.json").read_text(encoding="utf8"))["mlm_warmup"]
    assert warm["steps"] == 3 and warm["learn_rate"] == 0.01
    # chunks come from the notes only: the mention lists (ents) are left out
    from spacy_clinkd.wordpiece.extend import load_tokenizer
    from spacy_clinkd.wordpiece.text_specs import iter_texts, parse_specs
    from spacy_clinkd.wordpiece.warmup import warmup_chunks

    tokenizer = load_tokenizer(tmp_path / "out")
    n_old = len(tokenizer) - 4
    notes = (t for t, _ in iter_texts(parse_specs([f"txt:{DATA}/clinical/note_*.txt"])))
    assert warm["chunks"] == len(warmup_chunks(notes, tokenizer, n_old, max_chunks=3 * 16))
    settings = json.dumps(json.loads((tmp_path / "report" / "fragmentation.json").read_text(encoding="utf8")))
    assert '"mlm_lr": 0.01' in settings
