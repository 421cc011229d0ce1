"""Every registered name is reachable through the entry points in setup.py."""
import pytest
import spacy
from spacy.util import registry
from spacy_transformers.util import registry as trf_registry

REGISTERED = [
    ("architectures", "clinkd.TokenTagger.v1"),
    ("architectures", "clinkd.TransformerEncoder.v1"),
    ("tokenizers", "clinkd.clinical_tokenizer.v1"),
    ("scorers", "clinkd.ner_scorer.v1"),
    ("misc", "clinkd.pipeline_targets.v1"),
    ("misc", "clinkd.span_file_targets.v1"),
    ("misc", "clinkd.matcher_targets.v1"),
    ("readers", "clinkd.transfer_corpus.v1"),
]


@pytest.mark.parametrize("registry_name,func_name", REGISTERED)
def test_registered(registry_name, func_name):
    assert callable(getattr(registry, registry_name).get(func_name))


def test_span_getter_registered():
    assert callable(trf_registry.span_getters.get("clinkd.line_windows.v1"))


def test_factory_registered():
    nlp = spacy.blank("en")
    assert "clinkd_ner" in nlp.factory_names or nlp.get_factory_meta("clinkd_ner")


def test_names_follow_convention():
    import importlib.metadata as md

    names = [
        ep.name
        for group in (
            "spacy_architectures", "spacy_tokenizers", "spacy_scorers",
            "spacy_span_getters", "spacy_misc", "spacy_readers",
        )
        for ep in md.entry_points(group=group)
        if ep.value.startswith("spacy_clinkd")
    ]
    assert sorted(names) == sorted([name for _, name in REGISTERED] + ["clinkd.line_windows.v1"])
    assert all(name.startswith("clinkd.") and name.endswith(".v1") for name in names)
