"""The learned assertion classifier: its input text, and saving it without pickles."""
import pytest
import torch
from spacy.tokens import Span

from spacy_clinkd.errors import ClinkdError
from spacy_clinkd.models.assertion import AssertionClassifier, marked_context
from spacy_clinkd.tokenizer import clinical_blank


def test_marked_context_carries_rule_label_window_and_markers():
    nlp = clinical_blank()
    doc = nlp.make_doc("one two three denies chest pain or fever today .")
    ent = Span(doc, 4, 6, label="SYMPTOM")
    text = marked_context(doc, ent, "absent", (0, len(doc)), window=2)
    assert text == "absent symptom : three denies [E] chest pain [/E] or fever"
    # the scope bounds the window: nothing before the scope's start
    assert marked_context(doc, ent, "absent", (3, 8), window=5).startswith("absent symptom : denies [E]")
    # a classifier that does not read the rules gets the label alone
    assert marked_context(doc, ent, None, (3, 8), window=1) == "symptom : denies [E] chest pain [/E] or"


def test_saved_classifier_reloads_to_the_same_probabilities(tiny_bert, tmp_path):
    torch.manual_seed(0)
    model = AssertionClassifier.from_encoder(tiny_bert, window=8, max_length=32, rule_input=False)
    texts = ["absent symptom : no [E] fever [/E]", "present disease : [E] asthma [/E] noted"]
    before = model.probabilities(texts)
    model.save(tmp_path / "clf")
    assert not list((tmp_path / "clf").rglob("*.bin")) and not list((tmp_path / "clf").rglob("*.pt"))
    loaded = AssertionClassifier.load(tmp_path / "clf")
    assert (loaded.window, loaded.max_length, loaded.rule_input) == (8, 32, False)
    assert torch.allclose(loaded.probabilities(texts), before, atol=1e-6)
    assert before.shape == (2, 3) and torch.allclose(before.sum(-1), torch.ones(2))


def test_a_folder_without_a_classifier_is_refused(tmp_path):
    with pytest.raises(ClinkdError, match="No trained assertion classifier"):
        AssertionClassifier.load(tmp_path)
