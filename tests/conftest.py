"""Shared fixtures: tiny random-weight transformers built from configs, so no
test downloads anything."""
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

TEST_DIR = Path(__file__).parent
DATA_DIR = TEST_DIR / "data"

# A toy WordPiece vocabulary: specials, letters (so every word tokenizes),
# a few whole words and continuation pieces.
TOY_WORDS = [
    "the", "patient", "has", "fever", "and", "cough", "took", "aspirin",
    "pain", "chest", "no", "was", "given", "mg", "of", "with", "denies",
    "dys", "##pnea", "##s", "##ing", "##ed", "diabetes", "insulin",
]


def toy_vocab(lowercase: bool = True) -> list[str]:
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)]
    if not lowercase:
        letters += [chr(c) for c in range(ord("A"), ord("Z") + 1)]
    digits = [str(d) for d in range(10)]
    punct = list(".,;:()/-%")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocab += letters + digits + punct + ["##" + ch for ch in letters + digits]
    for word in TOY_WORDS:
        if word not in vocab:
            vocab.append(word)
    return vocab


def write_tiny_model(path: Path, model_type: str = "bert", lowercase: bool = True) -> Path:
    """Save a tiny random-weight BERT or DistilBERT with a toy vocabulary."""
    import torch
    from transformers import (
        BertConfig,
        BertModel,
        BertTokenizerFast,
        DistilBertConfig,
        DistilBertModel,
        DistilBertTokenizerFast,
    )

    torch.manual_seed(0)
    path.mkdir(parents=True, exist_ok=True)
    vocab = toy_vocab(lowercase)
    vocab_file = path / "vocab.txt"
    vocab_file.write_text("\n".join(vocab) + "\n", encoding="utf8")
    if model_type == "bert":
        config = BertConfig(
            vocab_size=len(vocab), hidden_size=16, num_hidden_layers=4,
            num_attention_heads=2, intermediate_size=32, max_position_embeddings=512,
        )
        model = BertModel(config)
        tokenizer = BertTokenizerFast(str(vocab_file), do_lower_case=lowercase)
    elif model_type == "distilbert":
        config = DistilBertConfig(
            vocab_size=len(vocab), dim=16, n_layers=4, n_heads=2, hidden_dim=32,
            max_position_embeddings=512,
        )
        model = DistilBertModel(config)
        tokenizer = DistilBertTokenizerFast(str(vocab_file), do_lower_case=lowercase)
    else:
        raise ValueError(model_type)
    model.save_pretrained(str(path))
    tokenizer.save_pretrained(str(path))
    return path


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> Path:
    return write_tiny_model(tmp_path_factory.mktemp("tiny_bert"), "bert")


@pytest.fixture(scope="session")
def tiny_distilbert(tmp_path_factory) -> Path:
    return write_tiny_model(tmp_path_factory.mktemp("tiny_distilbert"), "distilbert")


@pytest.fixture(scope="session", params=["bert", "distilbert"])
def tiny_encoder(request, tiny_bert, tiny_distilbert) -> Path:
    return tiny_bert if request.param == "bert" else tiny_distilbert


@pytest.fixture
def keep_threads():
    """Restore torch's process-wide thread count after a test that sets it."""
    import torch

    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)
