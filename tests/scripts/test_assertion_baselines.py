"""scripts/assertion_baselines.py on a few synthetic notes: what ConText and
negspacy predict for gold entities, the mapping to present / absent /
possible, entities the tool's tokens cannot hold, and the fold summary.

The ConText tests need medspacy, which cannot go into the project's venv (it
pins spacy<3.8 on Python < 3.12; the script's docstring says how to install
it beside it): where it is missing they skip."""
import importlib.util
import sys

import pytest
from spacy.tokens import Doc

from spacy_clinkd.corpora.spans import ASSERTIONS
from spacy_clinkd.tokenizer import clinical_blank
from tests.util import ROOT

SCRIPT = ROOT / "scripts" / "assertion_baselines.py"
_spec = importlib.util.spec_from_file_location("assertion_baselines", SCRIPT)
baselines = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(baselines)

# (id, text, [(surface, label, gold assertion)]); each surface is found at its first occurrence
NOTES = [
    ("n1", "She denies fever. Possible pneumonia. He has cough.",
     [("fever", "SYMPTOM", "absent"), ("pneumonia", "DISEASE", "possible"), ("cough", "SYMPTOM", "present")]),
    ("n2", "No evidence of rash. Return if chest pain. History of asthma.",
     [("rash", "SYMPTOM", "absent"), ("chest pain", "SYMPTOM", "possible"), ("asthma", "DISEASE", "present")]),
    # our tokenizer splits at the zero-width space, medspaCy's does not: one of its tokens holds both entities
    ("n3", "No cough\u200bfever today.", [("cough", "SYMPTOM", "absent"), ("fever", "SYMPTOM", "absent")]),
    ("n4", "Family history of diabetes. Aspirin was given.",
     [("diabetes", "DISEASE", "present"), ("Aspirin", "MEDICATION", "present")]),
]


def gold_doc(nlp, note_id: str, text: str, ents) -> Doc:
    doc = nlp.make_doc(text)
    spans, triples = [], []
    for surface, label, assertion in ents:
        start = text.index(surface)
        spans.append(doc.char_span(start, start + len(surface), label=label, alignment_mode="strict"))
        triples.append([start, start + len(surface), assertion])
    doc.ents = spans
    doc.user_data["doc_id"] = note_id
    doc.user_data[ASSERTIONS] = triples
    return doc


@pytest.fixture(scope="module")
def gold_docs() -> list[Doc]:
    nlp = clinical_blank()
    return [gold_doc(nlp, *note) for note in NOTES]


def predicted(prediction) -> list[list[str]]:
    return [[p for _, p in pairs] for pairs in prediction["pairs_by_doc"]]


def test_negspacy_negates_and_never_says_possible(gold_docs):
    pytest.importorskip("negspacy")
    prediction = baselines.predict(baselines.negspacy_pipeline(), gold_docs, baselines.negspacy_assertion)
    assert predicted(prediction) == [
        ["absent", "present", "present"],
        ["absent", "present", "present"],
        ["absent", "absent"],  # our tokens: both entities are there, both negated
        ["present", "present"],
    ]
    assert prediction["pairs_by_doc"][0] == [("absent", "absent"), ("possible", "present"), ("present", "present")]
    alignment = prediction["alignment"]
    assert (alignment["gold_entities"], alignment["exact"], alignment["unaligned"]) == (10, 10, [])


def test_context_maps_its_categories_to_ours(gold_docs):
    pytest.importorskip("medspacy")
    prediction = baselines.predict(
        baselines.context_pipeline(), gold_docs, baselines.context_assertion, flags=baselines.CONTEXT_FLAGS
    )
    assert predicted(prediction) == [
        ["absent", "possible", "present"],
        # "Return if": HYPOTHETICAL, which maps to present; "History of": HISTORICAL, present
        ["absent", "present", "present"],
        # fever shares medspaCy's token "cough\u200bfever" with cough: unaligned, so present, but kept
        ["absent", "present"],
        ["present", "present"],
    ]
    flags = prediction["flags_by_doc"]
    assert flags[1] == [["is_negated"], ["is_hypothetical"], ["is_historical"]]
    assert flags[3][0] == ["is_historical", "is_family"]
    alignment = prediction["alignment"]
    assert alignment["gold_entities"] == 10 and alignment["overlap"] == 1
    # cough is expanded to medspaCy's token; fever's offsets are reported, not its text
    assert alignment["expanded"] == 1
    assert alignment["unaligned"] == [["n3", 9, 14, "overlap"]]


def test_the_summary_scores_every_gold_entity_on_the_folds(gold_docs):
    pytest.importorskip("negspacy")
    result = baselines.score_baselines(gold_docs, k=2, seed=0, n_samples=20, baselines=["negspacy"])
    assert sorted(result["folds"]) == ["n1", "n2", "n3", "n4"] and set(result["folds"].values()) == {0, 1}
    summary = result["candidates"]["negspacy"]
    assert (summary["n"], summary["n_docs"], len(summary["per_fold"])) == (10, 4, 2)
    confusion = summary["pooled"]["confusion"]
    # gold absent: fever, rash, cough, fever (all negated); gold possible: pneumonia, chest pain (present)
    assert confusion["absent"] == {"present": 0, "absent": 4, "possible": 0}
    assert confusion["possible"] == {"present": 2, "absent": 0, "possible": 0}
    assert summary["pooled"]["per_class"]["absent"]["f"] == 1.0
    assert result["details"]["negspacy"]["pipeline"] == ["sentencizer", "negex"]


def test_a_missing_package_is_named_with_its_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "medspacy", None)  # import medspacy now raises ImportError
    with pytest.raises(SystemExit, match=r"needs the package 'medspacy'[\s\S]*pip install --no-deps medspacy==1.3.1"):
        baselines.require("context")
