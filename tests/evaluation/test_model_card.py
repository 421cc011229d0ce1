"""The model card: README.md and plots from tiny synthetic metrics, shaped
like the files `evaluate`, `benchmark-compare`, `extend-vocab` and
`transfer-set --report` write."""
import json
import re

import pytest
from typer.testing import CliRunner

import spacy_clinkd.cli.model_card  # noqa: F401  (attaches the command)
from spacy_clinkd.cli._app import app
from spacy_clinkd.errors import ClinkdError
from spacy_clinkd.evaluation.model_card import (
    PLOT_F1,
    PLOT_FRAGMENTATION,
    PLOT_SPEED,
    model_card_markdown,
    non_commercial_licences,
    teacher_ratio,
    write_model_card,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
runner = CliRunner()


def scores(p, r, f, support):
    return {"p": p, "r": r, "f": f, "support": support, "tp": 0, "fp": 0, "fn": 0}


def intervals(p, r, f):
    return {"p": p, "r": r, "f": f}


def metrics(micro_f=0.5, *, path="corpus/maccrobat/test.spacy", assertion=True):
    """An `evaluate` output on 3 docs with 2 types (DISEASE, SYMPTOM)."""
    result = {
        "per_label": {"DISEASE": scores(0.5, 0.25, 0.333, 4), "SYMPTOM": scores(0.75, 0.625, 0.682, 8)},
        "micro": scores(0.625, 0.5, micro_f, 12),
        "lenient": {
            "per_label": {"DISEASE": scores(0.875, 0.5, 0.636, 4), "SYMPTOM": scores(0.9, 0.75, 0.818, 8)},
            "micro": scores(0.875, 0.625, 0.729, 12),
        },
        "bootstrap": {
            "confidence": 0.95,
            "n_samples": 50,
            "seed": 0,
            "n_docs": 3,
            "strict": {
                "per_label": {
                    "DISEASE": intervals([0.4, 0.6], [0.1, 0.35], [0.2, 0.45]),
                    "SYMPTOM": intervals([0.65, 0.85], [0.5, 0.7], [0.55, 0.75]),
                },
                "micro": intervals([0.55, 0.7], [0.4, 0.6], [0.3, 0.7]),
            },
            "lenient": {
                "per_label": {
                    "DISEASE": intervals([0.8, 0.95], [0.35, 0.65], [0.5, 0.7]),
                    "SYMPTOM": intervals([0.85, 0.95], [0.7, 0.8], [0.75, 0.85]),
                },
                "micro": intervals([0.8, 0.9], [0.55, 0.7], [0.65, 0.8]),
            },
        },
        "n_docs": 3,
        "data": {"path": path},
    }
    if assertion:
        result["assertion"] = {
            "on_gold_entities": {
                "per_class": {
                    "present": scores(0.9, 0.95, 0.925, 9),
                    "absent": scores(0.8, 0.6, 0.686, 2),
                    "possible": scores(0.25, 0.5, 0.333, 1),
                },
                "accuracy": 0.833,
                "macro_f": 0.648,
                "n": 12,
            },
            "end_to_end": {"per_class": {}, "micro": scores(0.5, 0.4, 0.444, 12)},
        }
    return result


META = {
    "lang": "en",
    "name": "clinkd_ner",
    "version": "9.8.7",
    "description": "A synthetic test pipeline.",
    "license": "CC BY 4.0",
    "sources": [{"name": "MACCROBAT2020", "url": "https://example.org/m", "license": "CC BY 4.0", "author": "C."}],
}


def bench_row(name, model, wps, f1, precision="fp32"):
    return {
        "name": name,
        "model": model,
        "precision": precision,
        "f1": f1,
        "throughput": {"8": {"median": wps, "min": wps, "max": wps, "passes": [wps]}},
        "latency_ms": {"p50": 10.0, "p95": 20.0, "max": 30.0, "docs": 3},
    }


BENCHMARK = {
    "pipelines": [
        bench_row("teacher", "training/teacher/model-best", 1000.0, 0.6),
        bench_row("distilled-int8", "en_clinkd_ner", 3000.0, 0.5, precision="int8"),
        bench_row("cnn-ner", "training/cnn/model-best", 6000.0, 0.4),
    ],
    "reference": "teacher",
    "ratios": {},
    "machine": {"cpu": "Toy CPU", "cpu_count": 2, "torch_threads": 2, "torch": "2.0", "spacy": "3.8"},
    "settings": {"key_batch_size": 8, "batch_sizes": [8], "docs": 3, "words": 300, "passes": 1, "warmup": 1},
}

FRAGMENTATION = {
    "entity_words": {
        "DISEASE": {"before": {"mean_pieces": 2.5, "words": 4}, "after": {"mean_pieces": 1.5, "words": 4}},
        "SYMPTOM": {"before": {"mean_pieces": 2.0, "words": 8}, "after": {"mean_pieces": 1.25, "words": 8}},
        "ALL": {"before": {"mean_pieces": 2.25, "words": 12}, "after": {"mean_pieces": 1.5, "words": 12}},
    },
    "documents": {"docs": 3},
    "tokens_added": 10,
    "vocab_size": {"before": 100, "after": 110},
}


def transfer(licences):
    return {"licences": [], "read": {"a.jsonl": 9}, "dropped": {}, "written": sum(licences.values()),
            "licences_written": licences}


def write_json(path, data):
    path.write_text(json.dumps(data), encoding="utf8")
    return path


def inputs(tmp_path, **extra):
    """The required inputs on disk, plus the named optional ones."""
    files = {"test": write_json(tmp_path / "package.json", metrics()), "meta": write_json(tmp_path / "meta.json", META)}
    for key, data in extra.items():
        files[key] = write_json(tmp_path / f"{key}.json", data)
    return files


def test_strict_and_lenient_rows_with_intervals():
    card = model_card_markdown(META, metrics())
    strict = card.index("### Strict")
    lenient = card.index("### Lenient")
    assert strict < lenient
    rows = {
        "| DISEASE | 0.500 [0.40, 0.60] | 0.250 [0.10, 0.35] | 0.333 [0.20, 0.45] | 4 |": (strict, lenient),
        "| **micro** | 0.625 [0.55, 0.70] | 0.500 [0.40, 0.60] | 0.500 [0.30, 0.70] | 12 |": (strict, lenient),
        "| DISEASE | 0.875 [0.80, 0.95] | 0.500 [0.35, 0.65] | 0.636 [0.50, 0.70] | 4 |": (lenient, len(card)),
        "| SYMPTOM | 0.900 [0.85, 0.95] | 0.750 [0.70, 0.80] | 0.818 [0.75, 0.85] | 8 |": (lenient, len(card)),
    }
    for row, (start, end) in rows.items():
        assert start < card.index(row) < end, row
    assert "MACCROBAT test: 3 documents, 12 gold entities" in card
    assert "95% percentile bootstrap intervals over documents (50 samples)" in card


def test_without_bootstrap_no_interval_is_shown():
    test = metrics()
    del test["bootstrap"]
    card = model_card_markdown(META, test)
    assert "| DISEASE | 0.500 | 0.250 | 0.333 | 4 |" in card
    assert "No bootstrap intervals were computed" in card


def test_sections_in_order():
    card = model_card_markdown(META, metrics(), benchmark=BENCHMARK)
    headings = [line for line in card.splitlines() if line.startswith("## ") or line.startswith("# ")]
    assert headings == [
        "# en_clinkd_ner",
        "## Install and use",
        "## Test scores",
        "## External validation",
        "## Assertion status",
        "## Speed on CPU",
        "## Training data and licences",
        "## Intended use and known limits",
        "## Plots",
    ]
    assert "Version 9.8.7." in card
    assert 'nlp = spacy.load("en_clinkd_ner")' in card
    assert '{"components": {"clinkd_ner": {"inference": "fp32"}}}' in card


def test_teacher_ratio():
    assert teacher_ratio(metrics(0.45), metrics(0.6)) == pytest.approx(0.75)
    assert teacher_ratio(metrics(0.45), metrics(0.0)) is None
    card = model_card_markdown(META, metrics(0.45), teacher=metrics(0.6))
    assert "strict micro F1 0.450 against the teacher's 0.600, a ratio of **0.750**" in card
    assert "other documents" not in card
    other = model_card_markdown(META, metrics(0.45), teacher=metrics(0.6, path="corpus/other.spacy"))
    assert "The teacher was scored on other documents (corpus/other.spacy" in other


def test_missing_optional_inputs_are_not_measured():
    card = model_card_markdown(META, metrics())
    for line in [
        "Teacher ratio: not measured (no teacher metrics given).",
        "External validation: not measured (no external metrics given).",
        "Assertion on dev: not measured (no dev metrics given).",
        "Speed: not measured (no benchmark given).",
        "The transfer set's licences: not measured (no transfer report given).",
        "F1 against speed: not measured (no benchmark given).",
        "Fragmentation of entity words: not measured (no fragmentation report given).",
    ]:
        assert line in card
    assert "words/s" not in card
    assert "ratio of" not in card


def test_assertion_per_class_on_test_and_dev():
    dev = metrics()
    dev["assertion"]["on_gold_entities"]["per_class"]["absent"] = scores(1.0, 0.5, 0.667, 2)
    card = model_card_markdown(META, metrics(), dev=dev)
    test_at, dev_at = card.index("### Test (12 gold entities, accuracy 0.833)"), card.index("### Dev (12 gold")
    assert test_at < card.index("| absent | 0.800 | 0.600 | 0.686 | 2 |") < dev_at
    assert dev_at < card.index("| absent | 1.000 | 0.500 | 0.667 | 2 |")
    assert "macro F1 0.648 on the test gold entities" in card


def test_speed_ratios_to_teacher_and_cnn():
    card = model_card_markdown(META, metrics(), benchmark=BENCHMARK, default_inference="int8")
    assert "| **distilled-int8** (this pipeline) | int8 | 3,000 | 3.00× | 0.50× | 0.500 | 10 / 20 |" in card
    assert "| teacher | fp32 | 1,000 | 1.00× | 0.17× |" in card
    assert "- distilled-int8 (int8 (the default)): 3,000 words/s, 3.00× the teacher's 1,000 and 0.50× the CNN baseline's 6,000." in card
    assert "Machine: 2 CPUs (Toy CPU); 2 torch threads" in card
    assert "The encoder runs in **int8** by default" in card


def test_speed_names_a_missing_baseline():
    card = model_card_markdown(META, metrics(), benchmark=BENCHMARK, speed_baseline="spacy-cnn")
    assert "Speed against the CNN baseline: not measured (no pipeline named `spacy-cnn` in the benchmark)." in card
    assert "| **distilled-int8** (this pipeline) | int8 | 3,000 | 3.00× | – |" in card


@pytest.mark.parametrize(
    "licences,caveat",
    [
        ({"CC BY 4.0": 5, "CC BY-NC 4.0": 2}, True),
        ({"CC-BY-NC-SA-4.0": 1}, True),
        ({"CC BY 4.0": 5, "unstated": 2}, False),
        ({"unclear": 3, "CC0": 1}, False),
    ],
)
def test_non_commercial_caveat_exactly_with_an_nc_licence(licences, caveat):
    card = model_card_markdown(META, metrics(), transfer=transfer(licences))
    assert ("**This model was trained on CC BY-NC text" in card) is caveat
    assert "licence-filtered variant" in card if caveat else "licence-filtered variant" not in card
    assert bool(non_commercial_licences(transfer(licences))) is caveat
    for licence, n in licences.items():
        assert f"| {licence} | {n} |" in card


def test_write_model_card_writes_readme_and_plots(tmp_path):
    files = inputs(tmp_path, benchmark=BENCHMARK, fragmentation=FRAGMENTATION, teacher=metrics(0.625))
    out = tmp_path / "en_clinkd_ner"
    result = write_model_card(
        out, test=files["test"], meta=files["meta"], benchmark=files["benchmark"],
        fragmentation=files["fragmentation"], teacher=files["teacher"],
    )
    for name in (PLOT_F1, PLOT_SPEED, PLOT_FRAGMENTATION):
        data = (out / name).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 1000
    assert sorted(p.name for p in result["plots"]) == sorted([PLOT_F1, PLOT_SPEED, PLOT_FRAGMENTATION])
    card = (out / "README.md").read_text(encoding="utf8")
    for name in (PLOT_F1, PLOT_SPEED, PLOT_FRAGMENTATION):
        assert f"]({name})" in card
    assert "a ratio of **0.800**" in card
    assert "2.25 → 1.50 wordpieces" in card
    assert set(result["not_measured"]) == {"dev", "external", "transfer"}


@pytest.mark.parametrize(
    "vocab_size,says",
    [
        (110, "**This model uses the extended vocabulary** (110 WordPieces)."),
        (100, "**This model does not use the extension**: its vocabulary is the base one (100 WordPieces)"),
        (105, "This model's vocabulary has 105 WordPieces: neither the base nor the extended one"),
    ],
)
def test_card_says_whether_the_model_uses_the_vocabulary_extension(tmp_path, vocab_size, says):
    files = inputs(tmp_path, fragmentation=FRAGMENTATION)
    encoder = tmp_path / "student_encoder"
    encoder.mkdir()
    write_json(encoder / "config.json", {"model_type": "bert", "vocab_size": vocab_size})
    out = tmp_path / "card"
    write_model_card(out, test=files["test"], meta=files["meta"], fragmentation=files["fragmentation"], encoder=encoder)
    card = (out / "README.md").read_text(encoding="utf8")
    assert says in card
    assert card.index("2.25 → 1.50 wordpieces") < card.index(says)
    assert sum(claim in card for claim in ("uses the extended", "does not use the extension", "neither the base")) == 1


def test_card_without_encoder_makes_no_vocabulary_claim():
    card = model_card_markdown(META, metrics(), fragmentation=FRAGMENTATION, plots=[PLOT_FRAGMENTATION])
    assert "2.25 → 1.50 wordpieces" in card
    assert "This model" not in card.split("## Plots")[1]


def test_encoder_without_a_vocab_size_is_an_error_naming_its_config(tmp_path):
    files = inputs(tmp_path, fragmentation=FRAGMENTATION)
    encoder = tmp_path / "student_encoder"
    encoder.mkdir()
    write_json(encoder / "config.json", {"model_type": "bert"})
    with pytest.raises(ClinkdError, match=re.escape(f"{encoder / 'config.json'} is not the encoder config")):
        write_model_card(tmp_path / "card", test=files["test"], meta=files["meta"], encoder=encoder)
    with pytest.raises(ClinkdError, match=re.escape(f"The encoder config {tmp_path / 'nowhere' / 'config.json'}")):
        write_model_card(tmp_path / "card", test=files["test"], meta=files["meta"], encoder=tmp_path / "nowhere")
    # the check comes before any output: no plot is left behind by a failed card
    assert not any((tmp_path / "card").glob("*.png"))


def test_optional_path_not_on_disk_is_not_measured_and_stale_plot_removed(tmp_path):
    files = inputs(tmp_path)
    out = tmp_path / "card"
    out.mkdir()
    (out / PLOT_SPEED).write_bytes(b"an old plot")
    missing = tmp_path / "metrics" / "benchmark.json"
    result = write_model_card(out, test=files["test"], meta=files["meta"], benchmark=missing)
    card = (out / "README.md").read_text(encoding="utf8")
    assert f"Speed: not measured (no file at {missing})." in card
    assert result["not_measured"]["benchmark"] == f"no file at {missing}"
    assert not (out / PLOT_SPEED).exists()
    assert (out / PLOT_F1).stat().st_size > 0


def test_missing_test_metrics_is_an_error_naming_the_path(tmp_path):
    files = inputs(tmp_path)
    missing = tmp_path / "metrics" / "package.json"
    with pytest.raises(ClinkdError, match=re.escape(f"The test metrics {missing} for the model card cannot be read")):
        write_model_card(tmp_path / "out", test=missing, meta=files["meta"])
    assert not (tmp_path / "out" / "README.md").exists()


def test_meta_without_a_required_key_is_an_error(tmp_path):
    files = inputs(tmp_path)
    meta = write_json(tmp_path / "bad_meta.json", {k: v for k, v in META.items() if k != "version"})
    with pytest.raises(ClinkdError, match=re.escape(f"{meta} is not the meta.json the model card expects: it has no 'version'")):
        write_model_card(tmp_path / "out", test=files["test"], meta=meta)


def test_default_inference_read_from_the_pipeline_config(tmp_path):
    files = inputs(tmp_path)
    out = tmp_path / "pipeline"
    out.mkdir()
    (out / "config.cfg").write_text(
        '[nlp]\nlang = "en"\npipeline = ["clinkd_ner"]\n\n[components]\n\n'
        '[components.clinkd_ner]\nfactory = "clinkd_ner"\ninference = "int8"\n',
        encoding="utf8",
    )
    write_model_card(out, test=files["test"], meta=files["meta"])
    assert "The encoder runs in **int8** by default" in (out / "README.md").read_text(encoding="utf8")


def test_cli_writes_the_readme(tmp_path):
    files = inputs(tmp_path, transfer=transfer({"CC BY-NC 4.0": 2}))
    out = tmp_path / "en_clinkd_ner"
    args = ["model-card", str(out), "--test", str(files["test"]), "--meta", str(files["meta"])]
    result = runner.invoke(app, args + ["--transfer-report", str(files["transfer"])])
    assert result.exit_code == 0, result.output
    card = (out / "README.md").read_text(encoding="utf8")
    assert card.startswith("# en_clinkd_ner\n")
    assert "**This model was trained on CC BY-NC text (CC BY-NC 4.0)" in card
    assert "not measured: benchmark (no benchmark given)" in result.output


def test_cli_missing_test_metrics_fails(tmp_path):
    files = inputs(tmp_path)
    missing = tmp_path / "nope.json"
    result = runner.invoke(app, ["model-card", str(tmp_path / "out"), "--test", str(missing), "--meta", str(files["meta"])])
    assert result.exit_code != 0
    assert isinstance(result.exception, ClinkdError) and str(missing) in str(result.exception)
