"""Shared fixtures: tiny random-weight transformers built from configs, so no
test downloads anything."""
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from tests.util import write_tiny_model


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> Path:
    return write_tiny_model(tmp_path_factory.mktemp("tiny_bert"), "bert")


@pytest.fixture(scope="session")
def tiny_distilbert(tmp_path_factory) -> Path:
    return write_tiny_model(tmp_path_factory.mktemp("tiny_distilbert"), "distilbert")


@pytest.fixture(scope="session")
def tiny_mpnet(tmp_path_factory) -> Path:
    return write_tiny_model(tmp_path_factory.mktemp("tiny_mpnet"), "mpnet")


@pytest.fixture(scope="session", params=["bert", "distilbert", "mpnet"])
def tiny_encoder(request, tiny_bert, tiny_distilbert, tiny_mpnet) -> Path:
    return {"bert": tiny_bert, "distilbert": tiny_distilbert, "mpnet": tiny_mpnet}[request.param]


@pytest.fixture
def keep_threads():
    """Restore torch's process-wide thread count after a test that sets it."""
    import torch

    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_pipeline(tmp_path_factory, tiny_bert) -> Path:
    """A saved clinkd_ner + sentencizer + clinkd_assertion pipeline that finds entities."""
    from tests.util import write_tiny_pipeline

    return write_tiny_pipeline(tmp_path_factory.mktemp("tiny_pipeline") / "model", tiny_bert)
