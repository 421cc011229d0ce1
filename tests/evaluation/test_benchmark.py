"""The efficiency benchmark: what it measures and reports (never how fast:
timings depend on the machine, so no test asserts a speed)."""
import json
import os
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
    current_rss_mib,
    directory_bytes,
    peak_rss_mib,
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


class ScriptedClock:
    """Stands in for the `time` module of evaluation/benchmark.py: the n-th
    interval it times lasts `durations[n]` seconds."""

    def __init__(self, durations: list[float]) -> None:
        self._stamps: list[float] = []
        now = 1000.0
        for duration in durations:
            self._stamps += [now, now + duration]
            now += duration + 1.0
        self._stamps.reverse()

    def perf_counter(self) -> float:
        assert self._stamps, "timed more intervals than scripted"
        return self._stamps.pop()

    @property
    def exhausted(self) -> bool:
        return not self._stamps


def tree_bytes(path: Path) -> int:
    return sum(os.path.getsize(os.path.join(folder, f)) for folder, _, files in os.walk(path) for f in files)


def test_benchmark_measures_one_pipeline(pipeline_dir, keep_threads, monkeypatch):
    texts = [*TEXTS, "Denies dyspnea ."]
    # load 1.5 s; three timed passes (after one untimed warm-up) of 0.5, 0.25
    # and 1 s; then 10, 40 and 20 ms for the first three texts one by one
    clock = ScriptedClock([1.5, 0.5, 0.25, 1.0, 0.010, 0.040, 0.020])
    monkeypatch.setattr("spacy_clinkd.evaluation.benchmark.time", clock)
    # RSS 100 MiB before loading, 150 MiB after, 140 MiB later; the kernel's
    # high-water mark says 120 MiB (it missed memory released with madvise)
    rss = iter([100.0, 150.0])
    monkeypatch.setattr("spacy_clinkd.evaluation.benchmark.current_rss_mib", lambda: next(rss, 140.0))
    monkeypatch.setattr("spacy_clinkd.evaluation.benchmark.peak_rss_mib", lambda: 120.0)
    result = benchmark_pipeline(str(pipeline_dir), texts, repeats=3, warmup=1, latency_docs=3, threads=1)
    # neither the warm-up pass nor the fourth text was timed
    assert clock.exhausted
    # words are non-space tokens of the pipeline's own tokenizer: the double space is not one
    assert result["data"] == {"docs": 4, "words": 7 + 6 + 3 + 3}
    assert result["load_seconds"] == pytest.approx(1.5)
    # words/s per pass, in pass order; the median of [38, 76, 19] is 38 (not the mean, not passes[1])
    assert result["throughput"] == {
        "passes": [pytest.approx(38.0), pytest.approx(76.0), pytest.approx(19.0)],
        "words_per_second_median": pytest.approx(38.0),
        "words_per_second_min": pytest.approx(19.0),
        "words_per_second_max": pytest.approx(76.0),
    }
    # milliseconds; sorted [10, 20, 40]: p50 20, p95 20 + 0.9 * (40 - 20) = 38
    assert result["latency_ms"] == {
        "p50": pytest.approx(20.0),
        "p95": pytest.approx(38.0),
        "max": pytest.approx(40.0),
        "mean_words_per_doc": pytest.approx((7 + 6 + 3) / 3),
    }
    # the peak is never below an RSS sampled earlier
    assert result["memory_mib"] == {"rss_before_load": 100.0, "rss_after_load": 150.0, "peak_rss": 150.0}
    settings = result["settings"]
    assert (settings["repeats"], settings["warmup"], settings["latency_docs"]) == (3, 1, 3)
    assert (settings["batch_size"], settings["torch_threads"]) == (8, 1)
    nlp = spacy.load(pipeline_dir)
    assert result["model"]["pipeline"] == ["clinkd_ner"]
    assert result["model"]["disk_bytes"] == tree_bytes(pipeline_dir)
    encoder = next(node.transformer for node in nlp.get_pipe("clinkd_ner").model.walk() if hasattr(node, "transformer"))
    n_encoder = sum(p.numel() for p in encoder.parameters())
    head = nlp.get_pipe("clinkd_ner").model.get_ref("output_layer")
    n_head = head.get_param("W").size + head.get_param("b").size
    assert result["model"]["parameters"] == count_parameters(nlp) == n_encoder + n_head


def test_benchmark_without_latency_docs(pipeline_dir, monkeypatch):
    clock = ScriptedClock([2.0, 0.5])
    monkeypatch.setattr("spacy_clinkd.evaluation.benchmark.time", clock)
    result = benchmark_pipeline(str(pipeline_dir), TEXTS, repeats=1, warmup=0, latency_docs=0)
    assert clock.exhausted
    assert "latency_ms" not in result and result["settings"]["latency_docs"] == 0
    assert result["throughput"]["passes"] == [pytest.approx(16 / 0.5)]


def test_rss_is_measured_in_mib():
    before = current_rss_mib()
    block = b"\x01" * (64 * 2**20)  # written, so resident
    after = current_rss_mib()
    assert 60 <= after - before <= 72
    # the high-water mark is at least the current RSS, in the same unit
    assert peak_rss_mib() >= after - 1
    del block


def test_directory_bytes_counts_nested_files(tmp_path):
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / "a.bin").write_bytes(b"x" * 3)
    (tmp_path / "sub" / "b.bin").write_bytes(b"x" * 5)
    (tmp_path / "sub" / "deeper" / "c.bin").write_bytes(b"x" * 7)
    assert directory_bytes(tmp_path) == 15
    assert directory_bytes(tmp_path / "sub") == 12


def test_benchmark_markdown_row_and_footer():
    result = {
        "model": {"path": "training/student/model-best", "parameters": 22_713_216, "disk_bytes": 91 * 2**20},
        "load_seconds": 1.46,
        "throughput": {"words_per_second_median": 2345.6, "words_per_second_min": 1200.4, "words_per_second_max": 3400.5},
        "latency_ms": {"p50": 20.4, "p95": 38.6, "max": 41.0},
        "memory_mib": {"rss_after_load": 150.2, "peak_rss": 160.7},
        "data": {"docs": 4, "words": 19},
        "settings": {
            "batch_size": 8, "warmup": 1, "repeats": 3, "latency_docs": 3, "torch_threads": 1,
            "cpu_count": 2, "machine": "x86_64", "torch": "2.5.1", "spacy": "3.8.2",
        },
    }
    unmeasured = {
        **result,
        "model": {"path": "pkg", "parameters": 0, "disk_bytes": None},
        "memory_mib": {"rss_after_load": None, "peak_rss": 99.0},
    }
    del unmeasured["latency_ms"]
    lines = benchmark_markdown([result, unmeasured], title="Toy").splitlines()
    assert lines[0] == "## Toy"
    assert lines[4] == (
        "| `training/student/model-best` | 22.7 M | 91 MiB | 1.5 | 2,346 [1,200, 3,400] | 20 / 39 | 150 | 161 |"
    )
    assert lines[5] == "| `pkg` | 0.0 M | ? | 1.5 | 2,346 [1,200, 3,400] | - | ? | 99 |"
    assert lines[-1] == (
        "4 docs, 19 words; batch size 8, 1 warm-up + 3 timed passes, latency over 3 single docs; "
        "1 torch threads on 2 CPUs (x86_64), torch 2.5.1, spaCy 3.8.2."
    )


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
