"""The efficiency benchmark: what it measures and reports (never how fast:
timings depend on the machine, so no test asserts a speed)."""
import json
from pathlib import Path

import pytest
import spacy
from spacy.tokens import DocBin
from spacy.training import Example
from typer.testing import CliRunner

import spacy_clinkd.cli.benchmark  # noqa: F401  (attaches the command to the app)
from spacy_clinkd.cli._app import app
from spacy_clinkd.errors import ClinkdError
from spacy_clinkd.evaluation.benchmark import (
    benchmark_markdown,
    benchmark_pipeline,
    count_parameters,
    directory_bytes,
    percentile,
    read_benchmark_texts,
)

TEXTS = ["The patient has fever and cough .", "Took aspirin  for chest pain .", "No findings ."]


@pytest.fixture(scope="module")
def pipeline_dir(tiny_bert, tmp_path_factory) -> Path:
    config = {"nlp": {"tokenizer": {"@tokenizers": "clinkd.clinical_tokenizer.v1"}}}
    nlp = spacy.blank("en", config=config)
    nlp.add_pipe("clinkd_ner", config={"model": {"tok2vec": {"name": str(tiny_bert)}}})
    doc = nlp.make_doc(TEXTS[0])
    nlp.initialize(lambda: [Example.from_dict(doc, {"entities": [(16, 21, "SYMPTOM")]})])
    path = tmp_path_factory.mktemp("bench") / "model"
    nlp.to_disk(path)
    return path


@pytest.fixture
def docbin(tmp_path) -> Path:
    nlp = spacy.blank("en")
    path = tmp_path / "texts.spacy"
    DocBin(docs=[nlp.make_doc(t) for t in TEXTS]).to_disk(path)
    return path


def test_percentile_interpolates():
    assert percentile([3.0], 95) == 3.0
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5
    assert percentile(list(range(11)), 95) == pytest.approx(9.5)
    with pytest.raises(ValueError):
        percentile([], 50)


def test_read_texts_from_docbin_and_folder(docbin, tmp_path):
    assert read_benchmark_texts(docbin) == TEXTS
    assert read_benchmark_texts(docbin, limit=2) == TEXTS[:2]
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "b.txt").write_text("second note", encoding="utf8")
    (folder / "a.txt").write_text("first note", encoding="utf8")
    (folder / "empty.txt").write_text("  \n", encoding="utf8")
    assert read_benchmark_texts(folder) == ["first note", "second note"]
    (tmp_path / "none").mkdir()
    with pytest.raises(ClinkdError, match="No texts to benchmark"):
        read_benchmark_texts(tmp_path / "none")
    (folder / "c.txt").write_bytes(b"caf\xe9")
    with pytest.raises(ClinkdError, match=r"c\.txt: cannot read texts"):
        read_benchmark_texts(folder)
    (tmp_path / "broken.spacy").write_bytes(b"not a docbin")
    with pytest.raises(ClinkdError, match=r"broken\.spacy: cannot read texts"):
        read_benchmark_texts(tmp_path / "broken.spacy")


def test_benchmark_measures_one_pipeline(pipeline_dir, keep_threads):
    result = benchmark_pipeline(str(pipeline_dir), TEXTS, repeats=2, warmup=0, latency_docs=2, threads=1)
    # words are non-space tokens of the pipeline's own tokenizer: the double space is not one
    nlp = spacy.load(pipeline_dir)
    assert result["data"] == {"docs": 3, "words": sum(len([t for t in nlp(x) if not t.is_space]) for x in TEXTS)}
    assert len(result["throughput"]["passes"]) == 2
    tp = result["throughput"]
    assert 0 < tp["words_per_second_min"] <= tp["words_per_second_median"] <= tp["words_per_second_max"]
    assert result["settings"]["latency_docs"] == 2 and result["settings"]["torch_threads"] == 1
    assert 0 < result["latency_ms"]["p50"] <= result["latency_ms"]["p95"] <= result["latency_ms"]["max"]
    assert result["model"]["disk_bytes"] == directory_bytes(pipeline_dir) > 0
    encoder = next(node.transformer for node in nlp.get_pipe("clinkd_ner").model.walk() if hasattr(node, "transformer"))
    n_encoder = sum(p.numel() for p in encoder.parameters())
    head = nlp.get_pipe("clinkd_ner").model.get_ref("output_layer")
    n_head = head.get_param("W").size + head.get_param("b").size
    assert result["model"]["parameters"] == count_parameters(nlp) == n_encoder + n_head
    memory = result["memory_mib"]
    assert memory["peak_rss"] >= memory["rss_after_load"] > 0
    table = benchmark_markdown([result])
    assert f"`{pipeline_dir}`" in table and "| model |" in table


def test_benchmark_rejects_bad_settings(pipeline_dir):
    with pytest.raises(ClinkdError, match="Bad benchmark settings"):
        benchmark_pipeline(str(pipeline_dir), TEXTS, repeats=0)


def test_benchmark_cli_writes_json_and_markdown(pipeline_dir, docbin, tmp_path, keep_threads):
    out, md = tmp_path / "bench.json", tmp_path / "bench.md"
    args = ["benchmark", str(pipeline_dir), str(docbin), "--output", str(out), "--markdown", str(md),
            "--repeats", "1", "--warmup", "0", "--latency-docs", "1", "--threads", "1"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf8"))
    assert data["data"]["path"] == str(docbin) and data["data"]["docs"] == 3
    assert md.read_text(encoding="utf8").startswith("## Benchmark:")
