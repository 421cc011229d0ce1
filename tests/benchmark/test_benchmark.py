"""The single-pipeline benchmark, a comparison of one: what it measures and
reports, in the shape its readers know (never how fast: timings depend on the
machine, so no test asserts a speed)."""
import json
import os
from pathlib import Path

import pytest
import spacy
import srsly
from spacy.tokens import DocBin
from spacy.training import Example
from typer.testing import CliRunner

import spacy_clinkd.cli.benchmark  # noqa: F401  (attaches the command to the app)
from spacy_clinkd.benchmark import engine, resources
from spacy_clinkd.benchmark.engine import percentile, read_benchmark_texts
from spacy_clinkd.benchmark.report import benchmark_markdown, benchmark_pipeline
from spacy_clinkd.cli._app import app
from spacy_clinkd.errors import ClinkdError

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
    """Stands in for the `time` module of benchmark/engine.py: the n-th
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


@pytest.fixture
def fresh_in_process(monkeypatch) -> list[int]:
    """Runs the engine's fresh-process measurement in this process, where the
    scripted clock and RSS readings below reach it; RETURNS the batch sizes
    it was asked to run."""
    batch_sizes: list[int] = []

    def measure(spec, texts_json, *, batch_size, threads):
        batch_sizes.append(batch_size)
        return engine.measure_fresh(spec, srsly.read_json(texts_json), batch_size=batch_size, threads=threads)

    monkeypatch.setattr(engine, "fresh_process_measurements", measure)
    return batch_sizes


def test_benchmark_measures_one_pipeline(pipeline_dir, keep_threads, monkeypatch, fresh_in_process):
    texts = [*TEXTS, "Denies dyspnea ."]
    # load 1.5 s (in the fresh process); three timed passes (after the
    # untimed FLOP-count pass and one warm-up) of 0.5, 0.25 and 1 s; then 10,
    # 40 and 20 ms for the first three texts one by one
    clock = ScriptedClock([1.5, 0.5, 0.25, 1.0, 0.010, 0.040, 0.020])
    monkeypatch.setattr(engine, "time", clock)
    # RSS 100 MiB before loading, 150 MiB after, 140 MiB later; the kernel's
    # high-water mark says 120 MiB (it missed memory released with madvise)
    rss = iter([100.0, 150.0])
    for module in (engine, resources):
        monkeypatch.setattr(module, "current_rss_mib", lambda: next(rss, 140.0))
    monkeypatch.setattr(resources, "peak_rss_mib", lambda: 120.0)
    result = benchmark_pipeline(str(pipeline_dir), texts, repeats=3, warmup=1, latency_docs=3, threads=1)
    # neither the warm-up pass nor the fourth text was timed
    assert clock.exhausted
    # one fresh process, at the benchmark's batch size
    assert fresh_in_process == [8]
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
    assert set(settings) == {
        "batch_size", "repeats", "warmup", "latency_docs", "torch_threads", "cpu_count", "machine", "python",
        "torch", "spacy",
    }
    assert (settings["repeats"], settings["warmup"], settings["latency_docs"]) == (3, 1, 3)
    assert (settings["batch_size"], settings["torch_threads"]) == (8, 1)
    assert (settings["spacy"], settings["cpu_count"]) == (spacy.__version__, os.cpu_count())
    nlp = spacy.load(pipeline_dir)
    assert result["model"] == {
        "path": str(pipeline_dir),
        "name": "en_pipeline",  # lang and name of spacy.blank's meta
        "version": "0.0.0",
        "pipeline": ["clinkd_ner"],
        "parameters": resources.count_parameters(nlp),
        "disk_bytes": tree_bytes(pipeline_dir),
    }
    assert set(result) == {"model", "data", "load_seconds", "throughput", "memory_mib", "settings", "latency_ms"}


def test_benchmark_without_latency_docs(pipeline_dir, monkeypatch, fresh_in_process):
    clock = ScriptedClock([2.0, 0.5])
    monkeypatch.setattr(engine, "time", clock)
    result = benchmark_pipeline(str(pipeline_dir), TEXTS, batch_size=2, repeats=1, warmup=0, latency_docs=0)
    assert clock.exhausted
    assert "latency_ms" not in result and result["settings"]["latency_docs"] == 0
    assert result["throughput"]["passes"] == [pytest.approx(16 / 0.5)]
    assert result["settings"]["batch_size"] == 2 and fresh_in_process == [2]


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
    # memory from the fresh process, which loads the model (and transformers) after its baseline
    memory = data["memory_mib"]
    assert memory["rss_before_load"] < memory["rss_after_load"] <= memory["peak_rss"]
    assert data["load_seconds"] > 0 and len(data["throughput"]["passes"]) == 1
    assert md.read_text(encoding="utf8").startswith("## Benchmark:")
