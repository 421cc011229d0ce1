"""WordPiece extension and embedding initialisation on tiny random-weight
BERT and DistilBERT models, cased and uncased."""
import json

import pytest
import torch

from spacy_clinkd.errors import ClinkdError
from spacy_clinkd.wordpiece.embeddings import extend_model, init_new_rows, old_pieces
from spacy_clinkd.wordpiece.extend import load_tokenizer, wordpiece_vocab
from tests.util import write_tiny_model

NEW_UNCASED = ["dyspnea", "##itis", "tachy"]
NEW_CASED = ["Dyspnea", "##itis", "tachy"]


@pytest.fixture(scope="module", params=[("bert", True), ("bert", False), ("distilbert", True), ("distilbert", False)],
                ids=["bert-uncased", "bert-cased", "distilbert-uncased", "distilbert-cased"])
def extended(request, tmp_path_factory):
    model_type, lowercase = request.param
    root = tmp_path_factory.mktemp(f"{model_type}_{lowercase}")
    source = write_tiny_model(root / "source", model_type, lowercase)
    new = NEW_UNCASED if lowercase else NEW_CASED
    summary = extend_model(source, root / "out", new, init="mean")
    return {"source": source, "out": root / "out", "new": new, "lowercase": lowercase,
            "model_type": model_type, "summary": summary}


def _load(path):
    from transformers import AutoModel, AutoTokenizer

    return AutoModel.from_pretrained(str(path)), AutoTokenizer.from_pretrained(str(path))


def test_vocab_grows_by_exactly_k(extended):
    _, old_tok = _load(extended["source"])
    model, tok = _load(extended["out"])
    n_old = len(wordpiece_vocab(old_tok))
    assert len(tok) == n_old + len(extended["new"])
    assert model.get_input_embeddings().weight.shape[0] == n_old + len(extended["new"])
    assert model.config.vocab_size == n_old + len(extended["new"])
    assert model.config.model_type == extended["model_type"]
    assert type(tok).__name__ == type(old_tok).__name__
    summary = json.loads((extended["out"] / "clinkd_vocab.json").read_text())
    assert summary["added_tokens"] == len(extended["new"])


def test_vocab_txt_and_tokenizer_json_agree(extended):
    lines = (extended["out"] / "vocab.txt").read_text(encoding="utf8").splitlines()
    data = json.loads((extended["out"] / "tokenizer.json").read_text(encoding="utf8"))
    vocab = data["model"]["vocab"]
    assert [t for t, _ in sorted(vocab.items(), key=lambda kv: kv[1])] == lines
    assert lines[-len(extended["new"]):] == extended["new"]
    assert data["normalizer"]["lowercase"] is extended["lowercase"]


def test_new_word_is_one_piece_and_continuation_is_used(extended):
    _, tok = _load(extended["out"])
    word = extended["new"][0]
    assert tok.tokenize(word) == [word]
    # "##itis" is used inside a word: dys + ##itis
    assert tok.tokenize("dysitis") == ["dys", "##itis"]
    assert tok.tokenize("tachyitis") == ["tachy", "##itis"]
    _, old_tok = _load(extended["source"])
    assert len(old_tok.tokenize(word)) > 1
    assert old_tok.tokenize("dysitis") != ["dys", "##itis"]
    ids = tok(word)["input_ids"]
    assert ids[1] == len(tok) - len(extended["new"])


def test_casing_is_kept(extended):
    _, tok = _load(extended["out"])
    if extended["lowercase"]:
        assert tok.tokenize("DYSPNEA") == ["dyspnea"]
    else:
        assert tok.tokenize("Dyspnea") == ["Dyspnea"]
        assert tok.tokenize("dyspnea") == ["dys", "##pnea"]


def test_new_rows_are_mean_of_old_pieces(extended):
    old_model, old_tok = _load(extended["source"])
    model, _ = _load(extended["out"])
    old_w = old_model.get_input_embeddings().weight.detach()  # (n_old, hidden)
    new_w = model.get_input_embeddings().weight.detach()  # (n_new, hidden)
    n_old = old_w.shape[0]
    assert torch.equal(new_w[:n_old], old_w)
    vocab = old_tok.get_vocab()
    expected_pieces = {
        "dyspnea": ["dys", "##pnea"],
        "Dyspnea": ["D", "##y", "##s", "##pnea"],
        "##itis": ["##i", "##t", "##i", "##s"],  # split as the inside of a word
        "tachy": ["t", "##a", "##c", "##h", "##y"],
    }
    for i, token in enumerate(extended["new"]):
        pieces = old_pieces(token, vocab)
        assert pieces == expected_pieces[token]
        mean = old_w[[vocab[p] for p in pieces]].mean(dim=0)  # (hidden,)
        assert torch.allclose(new_w[n_old + i], mean, atol=1e-6)
        assert not torch.allclose(new_w[n_old + i], old_w[vocab[pieces[0]]])


def test_random_init(tmp_path):
    source = write_tiny_model(tmp_path / "src", "bert", True)
    extend_model(source, tmp_path / "mean", NEW_UNCASED, init="mean")
    extend_model(source, tmp_path / "r1", NEW_UNCASED, init="random", seed=1)
    extend_model(source, tmp_path / "r1b", NEW_UNCASED, init="random", seed=1)
    extend_model(source, tmp_path / "r2", NEW_UNCASED, init="random", seed=2)
    mean, _ = _load(tmp_path / "mean")
    r1, _ = _load(tmp_path / "r1")
    r1b, _ = _load(tmp_path / "r1b")
    r2, _ = _load(tmp_path / "r2")
    n = len(NEW_UNCASED)

    def rows(m):
        return m.get_input_embeddings().weight.detach()[-n:]  # (n, hidden)

    assert not torch.allclose(rows(mean), rows(r1))
    assert torch.equal(rows(r1), rows(r1b))
    assert not torch.equal(rows(r1), rows(r2))
    assert torch.equal(mean.get_input_embeddings().weight[:-n], r1.get_input_embeddings().weight[:-n])


def test_errors(tmp_path):
    source = write_tiny_model(tmp_path / "src", "distilbert", True)
    with pytest.raises(ClinkdError):
        extend_model(source, tmp_path / "a", ["fever"])  # already in the vocabulary
    with pytest.raises(ClinkdError):
        extend_model(source, tmp_path / "b", ["dyspnea", "dyspnea"])
    with pytest.raises(ClinkdError):
        extend_model(source, tmp_path / "c", ["dyspnea"], init="zeros")
    with pytest.raises(ClinkdError):
        load_tokenizer(tmp_path / "missing")
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(source))
    with pytest.raises(ClinkdError):
        init_new_rows(model, {}, ["x"], init="zeros")
