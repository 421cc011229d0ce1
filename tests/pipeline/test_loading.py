"""The one pipeline loader: names, precision suffixes, the one load error."""
import pytest
import spacy

from spacy_clinkd.errors import ClinkdError
from spacy_clinkd.pipeline.loading import (
    load_pipeline,
    pipeline_config,
    precision_of,
    split_precision,
)


@pytest.mark.parametrize(
    "name,expected",
    [
        ("en_clinkd_ner", ("en_clinkd_ner", None)),
        ("en_clinkd_ner@int8", ("en_clinkd_ner", "int8")),
        ("training/model-best@fp32", ("training/model-best", "fp32")),
        ("odd@name", ("odd@name", None)),
    ],
)
def test_split_precision(name, expected):
    assert split_precision(name) == expected


def test_a_suffix_with_no_name_is_refused():
    with pytest.raises(ClinkdError, match="no pipeline before @int8"):
        split_precision("@int8")


def test_a_pipeline_loads_as_saved_and_at_a_precision(tiny_pipeline):
    nlp = load_pipeline(str(tiny_pipeline))
    assert nlp.pipe_names == ["clinkd_ner", "sentencizer", "clinkd_assertion"]
    assert precision_of(nlp) == "fp32"
    # the precision is a load-time setting, from the suffix or the argument
    assert precision_of(load_pipeline(f"{tiny_pipeline}@int8")) == "int8"
    assert precision_of(load_pipeline(tiny_pipeline, "int8")) == "int8"
    assert load_pipeline(str(tiny_pipeline), exclude=["clinkd_assertion"]).pipe_names == ["clinkd_ner", "sentencizer"]


def test_other_settings_and_the_precision_go_together(tiny_pipeline):
    nlp = load_pipeline(tiny_pipeline, "int8", config={"components": {"clinkd_ner": {"batch_by_length": False}}})
    ner = nlp.get_pipe("clinkd_ner")
    assert ner.inference == "int8" and ner.batch_by_length is False


def test_a_suffix_and_a_different_argument_conflict(tiny_pipeline):
    with pytest.raises(ClinkdError, match="Unknown inference precision"):
        load_pipeline(f"{tiny_pipeline}@int8", "fp32")
    with pytest.raises(ClinkdError, match="Unknown inference precision 'int4'"):
        load_pipeline(tiny_pipeline, "int4")


def test_a_precision_for_a_pipeline_without_clinkd_ner_is_refused_before_loading(tmp_path):
    path = tmp_path / "blank"
    spacy.blank("en").to_disk(path)
    assert pipeline_config(path)["nlp"]["lang"] == "en"
    assert load_pipeline(path).pipe_names == []
    with pytest.raises(ClinkdError, match="has no component 'clinkd_ner'"):
        load_pipeline(f"{path}@int8")


def test_every_failure_is_one_error_naming_the_pipeline(tmp_path):
    with pytest.raises(ClinkdError, match=r"E011|Could not load the pipeline 'no_such_pipeline_xyz'"):
        load_pipeline("no_such_pipeline_xyz")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.cfg").write_text('[nlp]\nlang = "xx_not_a_language"\n', encoding="utf8")
    with pytest.raises(ClinkdError, match=f"Could not load the pipeline '{broken}'"):
        load_pipeline(broken)
