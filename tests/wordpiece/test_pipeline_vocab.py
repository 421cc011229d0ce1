"""A pipeline trained on an extended-vocabulary encoder carries the extended
tokenizer inside: after saving, deleting the encoder dir and loading, a new
clinical word is still one wordpiece."""
import shutil

import pytest
import spacy
from spacy.training import Example

from spacy_clinkd.wordpiece.embeddings import extend_model

pytestmark = pytest.mark.slow


def test_extended_tokenizer_ships_with_the_pipeline(tiny_bert, tmp_path):
    encoder = tmp_path / "extended"
    extend_model(tiny_bert, encoder, ["dyspnea", "##emia"])
    config = {"nlp": {"tokenizer": {"@tokenizers": "clinkd.clinical_tokenizer.v1"}}}
    nlp = spacy.blank("en", config=config)
    nlp.add_pipe("clinkd_ner", config={"model": {"tok2vec": {"name": str(encoder)}}})
    eg = Example.from_dict(nlp.make_doc("patient has dyspnea"), {"entities": [(12, 19, "SYMPTOM")]})
    nlp.initialize(lambda: [eg])
    nlp.to_disk(tmp_path / "pipeline")
    shutil.rmtree(encoder)  # nothing may be read from the encoder dir any more

    loaded = spacy.load(tmp_path / "pipeline")
    trf = loaded.get_pipe("clinkd_ner").model.get_ref("tok2vec").get_ref("transformer")
    assert trf.tokenizer.tokenize("dyspnea") == ["dyspnea"]
    assert trf.tokenizer.tokenize("anemia")[-1] == "##emia"
    assert len(loaded("patient has dyspnea")) == 3
