"""Every registered name is reachable through the entry points in setup.py."""
import importlib.metadata as md
import re

import pytest
import spacy
from spacy.util import registry
from spacy_transformers.util import registry as trf_registry

CAMEL_READERS = {"clinkd.DistillationCorpus.v1"}
REGISTERED = [
    ("architectures", "clinkd.TokenTagger.v1"),
    ("architectures", "clinkd.TransformerEncoder.v1"),
    ("tokenizers", "clinkd.clinical_tokenizer.v1"),
    ("tokenizers", "clinkd.clinical_tokenizer.v2"),
    ("scorers", "clinkd.ner_scorer.v1"),
    ("misc", "clinkd.pipeline_targets.v1"),
    ("misc", "clinkd.span_file_targets.v1"),
    ("misc", "clinkd.matcher_targets.v1"),
    ("misc", "clinkd.ensemble_targets.v1"),
    ("readers", "clinkd.transfer_corpus.v1"),
    ("readers", "clinkd.DistillationCorpus.v1"),
]
# spacy-transformers' registry, not spaCy's
SPAN_GETTERS = [("span_getters", "clinkd.line_windows.v1")]
FACTORIES = [("factories", "clinkd_ner"), ("factories", "clinkd_assertion")]


def clinkd_entry_points() -> list[md.EntryPoint]:
    """Every spaCy entry point that the spacy-clinkd distribution installs."""
    return [ep for ep in md.distribution("spacy-clinkd").entry_points if ep.group.startswith("spacy_")]


def entry_point(registry_name: str, name: str) -> md.EntryPoint:
    matches = [ep for ep in md.entry_points(group=f"spacy_{registry_name}") if ep.name == name]
    assert len(matches) == 1, f"{len(matches)} entry points spacy_{registry_name}:{name}"
    return matches[0]


def snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@pytest.mark.parametrize("registry_name,func_name", REGISTERED + SPAN_GETTERS)
def test_registered_name_resolves_to_its_entry_point(registry_name, func_name):
    reg = trf_registry if (registry_name, func_name) in SPAN_GETTERS else registry
    func = getattr(reg, registry_name).get(func_name)
    assert func is entry_point(registry_name, func_name).load()
    # the entry point names the function of that name, not a neighbour's
    # (clinkd.TokenTagger.v1 -> build_token_tagger, clinkd.ner_scorer.v1 -> make_ner_scorer)
    assert func.__module__.startswith("spacy_clinkd.")
    # (a later version carries its number: clinkd.clinical_tokenizer.v2 -> create_clinical_tokenizer_v2)
    _, name, version = func_name.split(".")
    suffix = "" if version == "v1" else f"_{version}"
    assert re.fullmatch(rf"(build|create|make)_{snake_case(name)}{suffix}", func.__name__), (func_name, func.__name__)


def test_factory_builds_the_clinkd_ner_component():
    factory = entry_point("factories", "clinkd_ner").load()
    assert registry.factories.get("clinkd_ner") is factory
    assert factory.__name__ == "make_clinkd_ner"
    nlp = spacy.blank("en")
    assert spacy.Language.has_factory("clinkd_ner")
    meta = nlp.get_factory_meta("clinkd_ner")
    assert "doc.ents" in meta.assigns
    # the defaults use the registered names, and build without loading weights
    default = meta.default_config
    assert default["model"]["@architectures"] == "clinkd.TokenTagger.v1"
    assert default["model"]["tok2vec"]["@architectures"] == "clinkd.TransformerEncoder.v1"
    assert default["model"]["tok2vec"]["get_spans"]["@span_getters"] == "clinkd.line_windows.v1"
    assert default["scorer"] == {"@scorers": "clinkd.ner_scorer.v1"}
    pipe = nlp.add_pipe("clinkd_ner")
    from spacy_clinkd.pipeline.ner import ClinkdNER

    assert type(pipe) is ClinkdNER
    assert nlp.pipe_names == ["clinkd_ner"] and pipe.name == "clinkd_ner"
    assert pipe.cfg["spans_key"] == default["spans_key"] == "clinkd_ner"


def test_entry_points_are_exactly_the_registered_names():
    # every group, so a name added to setup.py but not to REGISTERED (or put
    # in the wrong group) fails here; duplicates show up in the sorted list
    expected = sorted((f"spacy_{reg}", name) for reg, name in REGISTERED + SPAN_GETTERS + FACTORIES)
    assert sorted((ep.group, ep.name) for ep in clinkd_entry_points()) == expected
    assert all(ep.value.startswith("spacy_clinkd.") for ep in clinkd_entry_points())


@pytest.mark.parametrize("registry_name,func_name", REGISTERED + SPAN_GETTERS)
def test_names_follow_convention(registry_name, func_name):
    # clinkd.CamelName.vN for architectures and for readers that build a class
    # (as spaCy's own spacy.Corpus.v1), clinkd.snake_name.vN for functions
    camel = registry_name == "architectures" or func_name in CAMEL_READERS
    middle = r"[A-Z][A-Za-z0-9]*" if camel else r"[a-z][a-z0-9_]*"
    assert re.fullmatch(rf"clinkd\.{middle}\.v[1-9][0-9]*", func_name), func_name


def test_factory_builds_the_clinkd_assertion_component():
    factory = entry_point("factories", "clinkd_assertion").load()
    assert registry.factories.get("clinkd_assertion") is factory
    assert factory.__name__ == "make_clinkd_assertion"
    nlp = spacy.blank("en")
    meta = nlp.get_factory_meta("clinkd_assertion")
    assert "span._.assertion" in meta.assigns and "doc.ents" in meta.requires
    from spacy_clinkd.pipeline.assertion import ClinkdAssertion

    assert type(nlp.add_pipe("clinkd_assertion")) is ClinkdAssertion
