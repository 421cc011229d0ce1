"""GET /v1/model's headline scores are read from the model card that
`model-card` writes (report/model_card.py), so the card is made here by
that code: a change of the card's format that the reader misses fails."""
import shutil

import srsly

from spacy_clinkd.pipeline.loading import load_pipeline
from spacy_clinkd.report.card_data import read_facts
from spacy_clinkd.report.model_card import model_card_markdown
from spacy_clinkd.serve.model_info import card_scores
from tests.util import ROOT

FACTS = read_facts(ROOT / "configs" / "model_card.yml")

META = {
    "lang": "en",
    "name": "clinkd_ner",
    "version": "0.3.1",
    "description": "A test card.",
    "license": "CC BY 4.0",
    "sources": [{"name": "MACCROBAT2020", "license": "CC BY 4.0", "author": "Caufield et al."}],
}


def scores(p, r, f, support):
    return {"p": p, "r": r, "f": f, "support": support, "tp": 0, "fp": 0, "fn": 0}


def card_input(with_bootstrap=True, with_assertion=True):
    """An `evaluate` output on 3 docs (the shape model_card_markdown reads)."""
    result = {
        "per_label": {"DISEASE": scores(0.5, 0.25, 0.333, 4), "SYMPTOM": scores(0.75, 0.625, 0.682, 8)},
        "micro": scores(0.625, 0.5, 0.5556, 12),
        "lenient": {
            "per_label": {"DISEASE": scores(0.875, 0.5, 0.636, 4), "SYMPTOM": scores(0.9, 0.75, 0.818, 8)},
            "micro": scores(0.875, 0.625, 0.729, 12),
        },
        "n_docs": 3,
        "data": {"path": "corpus/maccrobat/test.spacy"},
    }
    if with_bootstrap:
        interval = {"p": [0.55, 0.7], "r": [0.4, 0.6], "f": [0.3, 0.7]}
        result["bootstrap"] = {
            "confidence": 0.95, "n_samples": 50, "seed": 0, "n_docs": 3,
            "strict": {"per_label": {}, "micro": interval},
            "lenient": {"per_label": {}, "micro": interval},
        }
    if with_assertion:
        result["assertion"] = {
            "on_gold_entities": {
                "per_class": {"present": scores(0.9, 0.95, 0.925, 9), "absent": scores(0.8, 0.6, 0.686, 3)},
                "accuracy": 0.833,
                "n": 12,
            }
        }
    return result



def test_card_scores_are_the_cards_test_micro_rows():
    card = model_card_markdown(META, card_input(), facts=FACTS)
    assert card_scores(card) == {
        "source": "model card (README.md)",
        "test_set": "MACCROBAT test",
        # the card rounds scores to 3 decimals and intervals to 2
        "strict": {"p": 0.625, "r": 0.5, "f": 0.556, "f_interval": [0.3, 0.7], "support": 12},
        "lenient": {"p": 0.875, "r": 0.625, "f": 0.729, "f_interval": [0.3, 0.7], "support": 12},
        "assertion_accuracy": 0.833,
    }


def test_card_scores_without_intervals_or_assertion():
    found = card_scores(model_card_markdown(META, card_input(with_bootstrap=False, with_assertion=False), facts=FACTS))
    assert found["strict"] == {"p": 0.625, "r": 0.5, "f": 0.556, "f_interval": None, "support": 12}
    assert found["assertion_accuracy"] is None


def test_a_card_without_test_scores_has_none():
    assert card_scores("# en_clinkd_ner\n\nVersion 0.1.0.\n\n## Install and use\n\n```bash\n# Test scores\n```\n") is None
    assert card_scores("") is None


def test_the_model_endpoint_reports_meta_and_card(tiny_pipeline, tmp_path, make_client):
    model = tmp_path / "model"
    shutil.copytree(tiny_pipeline, model)
    meta = srsly.read_json(model / "meta.json")
    srsly.write_json(model / "meta.json", {**meta, "name": "clinkd_ner", "version": "0.3.1", "license": "CC BY 4.0"})
    (model / "README.md").write_text(model_card_markdown(META, card_input(), facts=FACTS), encoding="utf8")
    info = make_client(load_pipeline(model)).get("/v1/model").json()
    assert (info["name"], info["version"], info["licence"]) == ("en_clinkd_ner", "0.3.1", "CC BY 4.0")
    assert info["scores"]["strict"]["f"] == 0.556 and info["scores"]["test_set"] == "MACCROBAT test"



class _Pipe:
    def __init__(self, labels, output_labels=None):
        self.labels = tuple(labels)
        if output_labels is not None:
            self.output_labels = tuple(output_labels)


class _Nlp:
    def __init__(self, pipe):
        self.pipe_names = ["clinkd_ner"]
        self._pipe = pipe

    def get_pipe(self, name):
        return self._pipe


def test_the_labels_are_those_written_to_doc_ents(tiny_pipeline):
    from spacy_clinkd.serve.model_info import pipeline_labels

    nlp = load_pipeline(tiny_pipeline)
    assert pipeline_labels(nlp) == sorted(nlp.get_pipe("clinkd_ner").output_labels)
    # a teacher trained on auxiliary types writes only its output labels
    aux = _Pipe(["Age", "DISEASE", "Dosage", "SYMPTOM"], output_labels=["SYMPTOM", "DISEASE"])
    assert pipeline_labels(_Nlp(aux)) == ["DISEASE", "SYMPTOM"]
    assert pipeline_labels(_Nlp(_Pipe(["B", "A"]))) == ["A", "B"]
