"""`benchmark-compare`: pipelines measured side by side, on tiny random-weight
pipelines saved to tmp dirs. What is measured and how it is reported, never
how fast (machines differ, so no timing value is asserted)."""
import json
import statistics
from pathlib import Path

import pytest
import spacy
from spacy.tokens import DocBin
from spacy.training import Example

from spacy_clinkd.benchmark.engine import (
    PipelineSpec,
    join_long_documents,
    key_batch_size,
    load_spec,
    parse_pipeline_spec,
    prepare_int8,
    rotated,
)
from spacy_clinkd.benchmark.resources import directory_bytes
from spacy_clinkd.cli import main
from spacy_clinkd.evaluation.evaluate import evaluate_pipeline
from tests.util import NOTE_TEXTS, TRAIN_DATA, random_head_pipeline, run_cli

TOKENIZER_CONFIG = {"nlp": {"tokenizer": {"@tokenizers": "clinkd.clinical_tokenizer.v1"}}}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run_compare(*args) -> int:
    """`python -m spacy_clinkd benchmark-compare ARGS` in-process (module
    fixtures cannot use run_cli's function-scoped fixtures); the exit code."""
    import torch

    threads = torch.get_num_threads()
    try:
        main(["benchmark-compare", *(str(a) for a in args)])
        return 0
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 0
    finally:
        torch.set_num_threads(threads)


# -- small parts ---------------------------------------------------------------


def test_parse_pipeline_spec():
    assert parse_pipeline_spec("kd=training/student") == PipelineSpec("kd", "training/student", None)
    assert parse_pipeline_spec("kd8=en_clinkd@int8") == PipelineSpec("kd8", "en_clinkd", "int8")
    assert parse_pipeline_spec("kd=en_clinkd@fp32") == PipelineSpec("kd", "en_clinkd", "fp32")
    for bad in ["training/student", "=training/student", "kd=", "kd=@int8", "kd=@fp32"]:
        with pytest.raises(ValueError):
            parse_pipeline_spec(bad)


def test_long_documents_join_texts_in_order():
    texts = ["a b c", "d e", "f g h i", "j"]
    # 5 words close the first document, 4 the second; "j" (1 < 4 / 2) joins the one before
    assert join_long_documents(texts, 4) == ["a b c\n\nd e", "f g h i\n\nj"]
    # a remainder of at least half the target stays a document of its own
    assert join_long_documents(["a b c", "d", "e f", "g h"], 3) == ["a b c", "d\n\ne f", "g h"]
    assert join_long_documents(texts, 100) == ["a b c\n\nd e\n\nf g h i\n\nj"]
    assert join_long_documents(texts, 0) == []


def test_rotation_and_key_batch_size():
    assert [rotated(["a", "b", "c"], p) for p in range(4)] == [
        ["a", "b", "c"], ["b", "c", "a"], ["c", "a", "b"], ["a", "b", "c"],
    ]
    assert key_batch_size([1, 8, 32]) == 8
    assert key_batch_size([32, 1]) == 32
    assert key_batch_size([1, 2, 16]) == 2


# -- the command on saved tiny pipelines ----------------------------------------


@pytest.fixture(scope="module")
def saved(tiny_bert, tmp_path_factory) -> dict[str, Path]:
    """Two clinkd_ner pipelines (random heads, seeds 0 and 1), a spaCy CNN
    `ner` pipeline (same tokenizer), and gold docs that are pipeline a's
    own entities on NOTE_TEXTS (so a's F1 is 1 and b's is what it shares)."""
    root = tmp_path_factory.mktemp("compare")
    paths = {name: root / name for name in ("a", "b", "cnn")}
    nlp_a = random_head_pipeline(tiny_bert, seed=0, scale=3.0)
    nlp_a.to_disk(paths["a"])
    random_head_pipeline(tiny_bert, seed=1, scale=3.0).to_disk(paths["b"])
    cnn = spacy.blank("en", config=TOKENIZER_CONFIG)
    cnn.add_pipe("ner")
    cnn.initialize(lambda: [Example.from_dict(cnn.make_doc(t), {"entities": e}) for t, e in TRAIN_DATA])
    cnn.to_disk(paths["cnn"])
    gold = list(nlp_a.pipe(NOTE_TEXTS))
    assert sum(len(doc.ents) for doc in gold) > 0
    paths["gold"] = root / "gold.spacy"
    DocBin(docs=gold).to_disk(paths["gold"])
    return paths


@pytest.fixture(scope="module")
def compared(saved, tmp_path_factory) -> tuple[dict, str, Path]:
    """One run of the command: (JSON, markdown, PNG path)."""
    out = tmp_path_factory.mktemp("compare_out")
    code = run_compare(
        saved["gold"], "--pipeline", f"a={saved['a']}", "--pipeline", f"b={saved['b']}", "-p", f"cnn={saved['cnn']}",
        "--reference", "a", "--output", out / "bench.json", "--markdown", out / "bench.md", "--plot", out / "bench.png",
        "--batch-sizes", "1,8", "--passes", "2", "--warmup", "0", "--latency-docs", "3", "--long-doc-words", "10",
        "--threads", "1",
    )
    assert code == 0
    result = json.loads((out / "bench.json").read_text(encoding="utf8"))
    return result, (out / "bench.md").read_text(encoding="utf8"), out / "bench.png"


def is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def test_json_schema(compared, saved):
    result, _, _ = compared
    assert set(result) == {"machine", "reference", "settings", "pipelines", "ratios"}
    machine = result["machine"]
    assert isinstance(machine["cpu"], str) and machine["torch_threads"] == 1
    assert is_number(machine["fp32_matmul_gflops"]) and machine["fp32_matmul_gflops"] > 0
    assert result["reference"] == "a"
    settings = result["settings"]
    assert (settings["batch_sizes"], settings["key_batch_size"], settings["passes"], settings["warmup"]) == ([1, 8], 8, 2, 0)
    assert (settings["docs"], settings["gold_docs"], settings["latency_docs"]) == (len(NOTE_TEXTS), len(NOTE_TEXTS), 3)
    assert settings["gold"] == settings["data"] == str(saved["gold"])  # DATA is a DocBin: it is the gold too
    assert [p["name"] for p in result["pipelines"]] == ["a", "b", "cnn"]
    assert [p["model"] for p in result["pipelines"]] == [str(saved[n]) for n in ("a", "b", "cnn")]
    for row in result["pipelines"]:
        assert set(row["throughput"]) == {"1", "8"}
        for rates in row["throughput"].values():
            assert set(rates) == {"median", "min", "max", "passes"}
            assert len(rates["passes"]) == 2 and all(is_number(x) for x in rates["passes"])
            assert rates["median"] == pytest.approx(statistics.median(rates["passes"]))
        assert set(row["latency_ms"]) == {"p50", "p95", "max", "docs", "mean_words_per_doc"}
        assert row["latency_ms"]["docs"] == 3
        assert len(row["long_docs"]["passes"]) == 2
        for key in ("load_seconds", "rss_before_load_mib", "rss_after_load_mib", "peak_rss_mib", "f1"):
            assert is_number(row[key]), key
        # measured in the fresh process: loading the model (and transformers) there grows it
        assert row["rss_before_load_mib"] < row["rss_after_load_mib"] <= row["peak_rss_mib"]
        # spacy.blank's meta, saved with each pipeline: lang "en", name "pipeline"
        assert (row["meta_name"], row["meta_version"]) == ("en_pipeline", "0.0.0")
        assert row["disk_bytes"] == directory_bytes(saved[row["name"]])
        assert isinstance(row["parameters"], int) and row["parameters"] > 0
        assert row["precision"] == "fp32" and row["quantize_seconds"] is None
    assert set(result["ratios"]) == {"a", "b", "cnn"}
    assert set(result["ratios"]["b"]) == {"words_per_s_b1", "words_per_s_b8", "long_docs_words_per_s", "f1"}
    # the reference divided by itself
    assert set(result["ratios"]["a"].values()) == {1.0}
    b = result["pipelines"][1]
    assert result["ratios"]["b"]["words_per_s_b8"] == pytest.approx(
        b["throughput"]["8"]["median"] / result["pipelines"][0]["throughput"]["8"]["median"]
    )


def test_every_pipeline_processed_the_same_words(compared):
    result, _, _ = compared
    tokenizer = spacy.blank("en", config=TOKENIZER_CONFIG).tokenizer
    words = sum(1 for doc in tokenizer.pipe(NOTE_TEXTS) for t in doc if not t.is_space)
    assert [p["words"] for p in result["pipelines"]] == [words] * 3
    assert result["settings"]["words"] == words
    # latency over the first 3 notes (--latency-docs 3): their mean words, by each pipeline's tokenizer
    first = sum(1 for doc in tokenizer.pipe(NOTE_TEXTS[:3]) for t in doc if not t.is_space)
    assert [p["latency_ms"]["mean_words_per_doc"] for p in result["pipelines"]] == [pytest.approx(first / 3)] * 3
    assert first / 3 != words / len(NOTE_TEXTS)  # the first three, not all the notes
    # long documents: 10-word groups of the notes, counted the same way
    long_docs = join_long_documents(NOTE_TEXTS, 10)
    assert result["settings"]["long_docs"] == len(long_docs) > 1
    assert result["settings"]["long_docs_words"] == sum(1 for doc in tokenizer.pipe(long_docs) for t in doc if not t.is_space)


def test_f1_is_the_evaluate_commands_strict_micro_f1(compared, saved):
    result, _, _ = compared
    f1 = {row["name"]: row["f1"] for row in result["pipelines"]}
    assert f1["a"] == 1.0  # the gold is a's own output
    expected_b = evaluate_pipeline(str(saved["b"]), saved["gold"], bootstrap=0)["micro"]["f"]
    assert f1["b"] == pytest.approx(expected_b) and f1["b"] < 1.0
    assert result["ratios"]["b"]["f1"] == pytest.approx(f1["b"])
    assert result["ratios"]["cnn"]["f1"] == pytest.approx(f1["cnn"])


def test_encoder_flops_of_the_transformer_pipelines(compared):
    result, _, _ = compared
    a, b, cnn = result["pipelines"]
    assert cnn["encoder"] is None
    # same encoder shape, same texts and windows: the same work
    for key in ("flops_per_pass", "pieces_computed", "pieces_real", "forwards"):
        assert a["encoder"][key] == b["encoder"][key], key
    enc = a["encoder"]
    assert (enc["hidden"], enc["intermediate"], enc["layers"], enc["batch_size"]) == (16, 32, 4, 8)
    # five notes in one batch of 8: padded to the longest
    assert enc["forwards"] == 1 and enc["pieces_computed"] > enc["pieces_real"]
    # GFLOP/s over the median pass time at batch 8 (not over the median words/s)
    seconds = [a["words"] / w for w in a["throughput"]["8"]["passes"]]
    assert enc["gflops_achieved"] == pytest.approx(enc["flops_per_pass"] / statistics.median(seconds) / 1e9)
    assert enc["fraction_of_peak"] == pytest.approx(enc["gflops_achieved"] / result["machine"]["fp32_matmul_gflops"])


def test_markdown_leads_with_the_ratios(compared):
    _, markdown, _ = compared
    lines = markdown.splitlines()
    assert lines[0] == "## Benchmark: 3 pipelines against `a`"
    header = [cell.strip() for cell in lines[2].strip("|").split("|")]
    assert header[:5] == ["pipeline", "words/s b1 ÷ ref", "words/s b8 ÷ ref", "F1 ÷ ref", "precision"]
    reference_row = [cell.strip() for cell in lines[4].strip("|").split("|")]
    assert reference_row[:4] == ["**a**", "1.00×", "1.00×", "1.000×"]
    assert [line.split("|")[1].strip() for line in lines[5:7]] == ["b", "cnn"]


def test_plot_is_a_png(compared):
    _, _, png = compared
    assert png.read_bytes()[:8] == PNG_MAGIC


# -- refused before any work ---------------------------------------------------


@pytest.mark.parametrize(
    "args, message",
    [
        (["-p", "a", "--reference", "a"], "expected NAME=MODEL"),
        (["-p", "a=A", "-p", "a=B", "--reference", "a"], "names given more than once: a"),
        (["-p", "a=A", "--reference", "z"], "'z' is none of the pipelines"),
        (["-p", "a=A", "--reference", "a", "--batch-sizes", "1,x"], "distinct positive integers"),
        (["-p", "a=A", "--reference", "a", "--batch-sizes", "8,8"], "distinct positive integers"),
        (["-p", "a=A", "--reference", "a", "--batch-sizes", "0"], "distinct positive integers"),
        (["-p", "a=A", "--reference", "a", "--plot", "{tmp}/x.png"], "needs gold docs"),
    ],
)
def test_bad_arguments_are_usage_errors(args, message, tmp_path, monkeypatch, capsys):
    texts = tmp_path / "texts"
    texts.mkdir()
    (texts / "a.txt").write_text("the patient has fever", encoding="utf8")
    out = tmp_path / "bench.json"
    args = [a.format(tmp=tmp_path) for a in args]
    code, _, err = run_cli(monkeypatch, capsys, "benchmark-compare", texts, *args, "--output", out)
    assert code == 2
    assert message in " ".join(err.split())
    assert not out.exists()


def test_int8_of_a_pipeline_without_clinkd_ner_is_refused(saved, tmp_path, monkeypatch, capsys):
    out = tmp_path / "bench.json"
    code, _, err = run_cli(
        monkeypatch, capsys, "benchmark-compare", saved["gold"], "-p", f"a={saved['a']}",
        "-p", f"cnn={saved['cnn']}@int8", "--reference", "a", "--output", out,
    )
    assert code == 1
    assert "has no component 'clinkd_ner'" in err and "['ner']" in err
    assert not out.exists()


def test_an_output_folder_is_refused_before_any_work(saved, tmp_path, monkeypatch, capsys):
    (tmp_path / "bench.json").mkdir()
    code, _, err = run_cli(
        monkeypatch, capsys, "benchmark-compare", saved["gold"], "-p", "a=no/such/model",
        "--reference", "a", "--output", tmp_path / "bench.json",
    )
    # the output is checked first: the unloadable model is never reached
    assert code == 1 and "it is a folder" in err


# -- int8 (exports the encoder: slow) --------------------------------------------


@pytest.fixture(scope="module")
def int8_saved(saved, tmp_path_factory) -> tuple[float | None, bool, Path]:
    """Pipeline a loaded as a@int8, its int8 encoder made by `prepare_int8`
    (one export for the module), saved with it: (seconds, had int8 before, path)."""
    pytest.importorskip("onnxruntime")
    nlp = load_spec(PipelineSpec("a8", str(saved["a"]), "int8"))
    had_int8 = nlp.get_pipe("clinkd_ner").has_int8
    seconds = prepare_int8(nlp)
    path = tmp_path_factory.mktemp("int8") / "a8"
    nlp.to_disk(path)
    return seconds, had_int8, path


@pytest.mark.slow
def test_int8_is_made_before_timing_when_the_pipeline_has_none(int8_saved):
    seconds, had_int8, path = int8_saved
    assert not had_int8 and is_number(seconds)
    assert (path / "clinkd_ner" / "int8.onnx").is_file()


@pytest.mark.slow
def test_int8_variant_runs_int8_on_the_same_windows(int8_saved, saved, tmp_path):
    _, _, int8_dir = int8_saved
    out = tmp_path / "bench.json"
    code = run_compare(
        saved["gold"], "-p", f"fp32={saved['a']}", "-p", f"int8={int8_dir}@int8", "--reference", "fp32",
        "--output", out, "--batch-sizes", "8", "--passes", "2", "--warmup", "0", "--latency-docs", "1",
        "--long-doc-words", "0", "--threads", "1",
    )
    assert code == 0
    result = json.loads(out.read_text(encoding="utf8"))
    fp32, int8 = result["pipelines"]
    assert (fp32["precision"], int8["precision"]) == ("fp32", "int8")
    # stored with the pipeline: nothing was quantized, here or in the fresh process
    assert int8["quantize_seconds"] is None and int8["fresh_quantize_seconds"] is None
    assert int8["encoder"]["flops_per_pass"] == fp32["encoder"]["flops_per_pass"] > 0
    assert int8["words"] == fp32["words"]
    assert int8["long_docs"] is None and "long_docs_words_per_s" not in result["ratios"]["int8"]
    assert set(result["ratios"]["fp32"].values()) == {1.0}
