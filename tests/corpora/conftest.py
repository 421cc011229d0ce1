import pytest

from spacy_clinkd.tokenizer import clinical_blank


@pytest.fixture(scope="module")
def nlp():
    """A blank pipeline with the clinical tokenizer, as conversion uses."""
    return clinical_blank()
