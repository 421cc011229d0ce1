"""The model card: README.md and plots from tiny synthetic metrics, shaped
like the files `evaluate`, `benchmark-compare`, `extend-vocab` and
`transfer-set --report` write."""
import functools
import json
import re

import pytest
from typer.testing import CliRunner

import spacy_clinkd.cli.model_card  # noqa: F401  (attaches the command)
from spacy_clinkd.cli._app import app
from spacy_clinkd.errors import ClinkdError
from spacy_clinkd.evaluation.calibration import calibration
from spacy_clinkd.report.card_data import (
    non_commercial_licences,
    read_facts,
    speed_f1_intervals,
    teacher_ratio,
)
from spacy_clinkd.report.card_plots import PLOT_CALIBRATION, PLOT_F1, PLOT_FRAGMENTATION, PLOT_SPEED
from spacy_clinkd.report.model_card import model_card_markdown, write_model_card
from tests.util import ROOT

FACTS_FILE = ROOT / "configs" / "model_card.yml"
FACTS = read_facts(FACTS_FILE)
# the card of these inputs with the project's corpus facts
card_of = functools.partial(model_card_markdown, facts=FACTS)
write_card = functools.partial(write_model_card, facts=FACTS_FILE)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
runner = CliRunner()


def scores(p, r, f, support):
    return {"p": p, "r": r, "f": f, "support": support, "tp": 0, "fp": 0, "fn": 0}


def intervals(p, r, f):
    return {"p": p, "r": r, "f": f}


# 10 scored entities of 12 gold ones: 0.95 (4, 3 right), 0.75 (4, 2 right), 0.55 (2, 1 right)
SCORED = [(0.95, True)] * 3 + [(0.95, False)] + [(0.75, True)] * 2 + [(0.75, False)] * 2 + [(0.55, True), (0.55, False)]


def metrics(micro_f=0.5, *, path="corpus/maccrobat/test.spacy", assertion=True, calibrated=True):
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
    if calibrated:
        result["calibration"] = calibration(SCORED, n_gold=12)
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
                "bootstrap": {
                    "per_class": {
                        "present": intervals([0.8, 1.0], [0.85, 1.0], [0.85, 0.98]),
                        "absent": intervals([0.5, 1.0], [0.3, 0.9], [0.4, 0.9]),
                        "possible": intervals([0.0, 0.6], [0.0, 1.0], [0.0, 0.67]),
                    },
                    "n_samples": 50, "confidence": 0.95, "seed": 0, "n_docs": 3,
                },
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
    card = card_of(META, metrics())
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
    card = card_of(META, test)
    assert "| DISEASE | 0.500 | 0.250 | 0.333 | 4 |" in card
    assert "No bootstrap intervals were computed" in card


def test_sections_in_order():
    card = card_of(META, metrics(), benchmark=BENCHMARK)
    headings = [line for line in card.splitlines() if line.startswith("## ") or line.startswith("# ")]
    assert headings == [
        "# en_clinkd_ner",
        "## Install and use",
        "## Test scores",
        "## Entity scores and calibration",
        "## External validation",
        "## Assertion status",
        "## Speed on CPU",
        "## Training data and licences",
        "## Privacy and offline use",
        "## Provenance",
        "## Intended use and known limits",
        "## Plots",
    ]
    assert "Version 9.8.7." in card
    assert 'nlp = spacy.load("en_clinkd_ner")' in card
    assert '{"components": {"clinkd_ner": {"inference": "fp32"}}}' in card


def test_the_install_line_brings_the_code_wheel():
    # the model requires spacy_clinkd, which is on no index: installing the model's wheel alone cannot resolve
    card = card_of(META, metrics())
    assert "pip install --find-links DIR en_clinkd_ner\n" in card
    assert "pip install en_clinkd_ner-" not in card
    assert "the `spacy_clinkd` wheel beside it" in card


def test_teacher_ratio():
    assert teacher_ratio(metrics(0.45), metrics(0.6)) == pytest.approx(0.75)
    assert teacher_ratio(metrics(0.45), metrics(0.0)) is None
    card = card_of(META, metrics(0.45), teacher=metrics(0.6))
    assert "strict micro F1 0.450 against the teacher's 0.600, a ratio of **0.750**" in card
    assert "other documents" not in card
    other = card_of(META, metrics(0.45), teacher=metrics(0.6, path="corpus/other.spacy"))
    assert "The teacher was scored on other documents (corpus/other.spacy" in other


def test_missing_optional_inputs_are_not_measured():
    card = card_of(META, metrics())
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
    del dev["assertion"]["on_gold_entities"]["bootstrap"]  # as `evaluate --bootstrap 0` writes it
    card = card_of(META, metrics(), dev=dev)
    test_at, dev_at = card.index("### Test (12 gold entities, accuracy 0.833)"), card.index("### Dev (12 gold")
    assert test_at < card.index("| absent | 0.800 [0.50, 1.00] | 0.600 [0.30, 0.90] | 0.686 [0.40, 0.90] | 2 |") < dev_at
    assert dev_at < card.index("| absent | 1.000 | 0.500 | 0.667 | 2 |")
    assert dev_at < card.index("No bootstrap intervals were computed for these scores.", dev_at)
    assert "macro F1 0.648 on the test gold entities" in card


def test_speed_ratios_to_teacher_and_cnn():
    card = card_of(META, metrics(), benchmark=BENCHMARK, default_inference="int8")
    assert "| **distilled-int8** (this pipeline) | int8 | 3,000 | 3.00× | 0.50× | 0.500 | 10 / 20 |" in card
    assert "| teacher | fp32 | 1,000 | 1.00× | 0.17× |" in card
    assert "- distilled-int8 (int8 (the default)): 3,000 words/s, 3.00× the teacher's 1,000 and 0.50× the CNN baseline's 6,000." in card
    assert "Machine: 2 CPUs (Toy CPU); 2 torch threads" in card
    assert "The encoder runs in **int8** by default" in card


def test_speed_names_a_missing_baseline():
    card = card_of(META, metrics(), benchmark=BENCHMARK, speed_baseline="spacy-cnn")
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
    card = card_of(META, metrics(), transfer=transfer(licences))
    assert ("**This model was trained on CC BY-NC text" in card) is caveat
    assert "licence-filtered variant" in card if caveat else "licence-filtered variant" not in card
    assert bool(non_commercial_licences(transfer(licences))) is caveat
    for licence, n in licences.items():
        assert f"| {licence} | {n} |" in card


def encoder_with_vocab(tmp_path, vocab_size):
    encoder = tmp_path / "student_encoder"
    encoder.mkdir()
    write_json(encoder / "config.json", {"model_type": "bert", "vocab_size": vocab_size})
    return encoder


def test_write_model_card_writes_readme_and_plots(tmp_path):
    files = inputs(tmp_path, benchmark=BENCHMARK, fragmentation=FRAGMENTATION, teacher=metrics(0.625))
    out = tmp_path / "en_clinkd_ner"
    result = write_card(
        out, test=files["test"], meta=files["meta"], benchmark=files["benchmark"],
        fragmentation=files["fragmentation"], teacher=files["teacher"], encoder=encoder_with_vocab(tmp_path, 110),
    )
    plots = (PLOT_F1, PLOT_CALIBRATION, PLOT_SPEED, PLOT_FRAGMENTATION)
    for name in plots:
        data = (out / name).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 1000
    assert sorted(p.name for p in result["plots"]) == sorted(plots)
    card = (out / "README.md").read_text(encoding="utf8")
    for name in plots:
        assert f"]({name})" in card
    assert "a ratio of **0.800**" in card
    assert "2.25 → 1.50 wordpieces" in card
    assert set(result["not_measured"]) == {"dev", "external", "transfer"}


def test_the_fragmentation_plot_only_for_a_model_with_the_extended_vocabulary(tmp_path):
    files = inputs(tmp_path, fragmentation=FRAGMENTATION)
    out = tmp_path / "card"
    result = write_card(
        out, test=files["test"], meta=files["meta"], fragmentation=files["fragmentation"],
        encoder=encoder_with_vocab(tmp_path, 110),
    )
    card = (out / "README.md").read_text(encoding="utf8")
    says = "**This model uses the extended vocabulary** (110 WordPieces)."
    assert PLOT_FRAGMENTATION in [p.name for p in result["plots"]] and (out / PLOT_FRAGMENTATION).exists()
    assert card.index(f"]({PLOT_FRAGMENTATION})") < card.index("2.25 → 1.50 wordpieces") < card.index(says)


@pytest.mark.parametrize(
    "vocab_size,says",
    [
        (100, "not plotted: this model does not use the vocabulary extension (its encoder has the base vocabulary, "
              "100 WordPieces, with no added tokens)"),
        (105, "not plotted: this model's vocabulary (105 WordPieces) is neither the base (100) nor the extended (110)"),
    ],
)
def test_no_fragmentation_plot_for_a_model_without_the_extension(tmp_path, vocab_size, says):
    files = inputs(tmp_path, fragmentation=FRAGMENTATION)
    out = tmp_path / "card"
    out.mkdir()
    (out / PLOT_FRAGMENTATION).write_bytes(b"a plot of an earlier card")
    result = write_card(
        out, test=files["test"], meta=files["meta"], fragmentation=files["fragmentation"],
        encoder=encoder_with_vocab(tmp_path, vocab_size),
    )
    card = (out / "README.md").read_text(encoding="utf8")
    assert says in card
    # no plot and none of the extension's numbers: they describe another model
    assert PLOT_FRAGMENTATION not in [p.name for p in result["plots"]] and not (out / PLOT_FRAGMENTATION).exists()
    assert PLOT_FRAGMENTATION not in card and "wordpieces on average" not in card


def test_card_without_encoder_draws_no_fragmentation_plot(tmp_path):
    files = inputs(tmp_path, fragmentation=FRAGMENTATION)
    result = write_card(tmp_path / "card", test=files["test"], meta=files["meta"], fragmentation=files["fragmentation"])
    card = (tmp_path / "card" / "README.md").read_text(encoding="utf8")
    assert PLOT_FRAGMENTATION not in [p.name for p in result["plots"]]
    assert "not plotted: whether this model uses the vocabulary extension is not known (no encoder was given" in card
    assert "This model uses" not in card and "2.25 → 1.50" not in card


def test_encoder_without_a_vocab_size_is_an_error_naming_its_config(tmp_path):
    files = inputs(tmp_path, fragmentation=FRAGMENTATION)
    encoder = tmp_path / "student_encoder"
    encoder.mkdir()
    write_json(encoder / "config.json", {"model_type": "bert"})
    with pytest.raises(ClinkdError, match=re.escape(f"{encoder / 'config.json'} is not the encoder config")):
        write_card(tmp_path / "card", test=files["test"], meta=files["meta"], encoder=encoder)
    with pytest.raises(ClinkdError, match=re.escape(f"The encoder config {tmp_path / 'nowhere' / 'config.json'}")):
        write_card(tmp_path / "card", test=files["test"], meta=files["meta"], encoder=tmp_path / "nowhere")
    # the check comes before any output: no plot is left behind by a failed card
    assert not any((tmp_path / "card").glob("*.png"))


def test_optional_path_not_on_disk_is_not_measured_and_stale_plot_removed(tmp_path):
    files = inputs(tmp_path)
    out = tmp_path / "card"
    out.mkdir()
    (out / PLOT_SPEED).write_bytes(b"an old plot")
    missing = tmp_path / "metrics" / "benchmark.json"
    result = write_card(out, test=files["test"], meta=files["meta"], benchmark=missing)
    card = (out / "README.md").read_text(encoding="utf8")
    assert f"Speed: not measured (no file at {missing})." in card
    assert result["not_measured"]["benchmark"] == f"no file at {missing}"
    assert not (out / PLOT_SPEED).exists()
    assert (out / PLOT_F1).stat().st_size > 0


def test_missing_test_metrics_is_an_error_naming_the_path(tmp_path):
    files = inputs(tmp_path)
    missing = tmp_path / "metrics" / "package.json"
    with pytest.raises(ClinkdError, match=re.escape(f"The test metrics {missing} for the model card cannot be read")):
        write_card(tmp_path / "out", test=missing, meta=files["meta"])
    assert not (tmp_path / "out" / "README.md").exists()


def test_meta_without_a_required_key_is_an_error(tmp_path):
    files = inputs(tmp_path)
    meta = write_json(tmp_path / "bad_meta.json", {k: v for k, v in META.items() if k != "version"})
    with pytest.raises(ClinkdError, match=re.escape(f"{meta} is not the meta.json the model card expects: it has no 'version'")):
        write_card(tmp_path / "out", test=files["test"], meta=meta)


def card_of_a_saved_pipeline(tmp_path, factory, setting, classifier=None):
    """The card written into a pipeline directory whose config.cfg has one
    component, `factory`, with `setting` (a `key = "value"` line), and the
    saved `classifier.json` of its assertion classifier, if given."""
    files = inputs(tmp_path)
    out = tmp_path / "pipeline"
    out.mkdir()
    (out / "config.cfg").write_text(
        f'[nlp]\nlang = "en"\npipeline = ["{factory}"]\n\n[components]\n\n'
        f'[components.{factory}]\nfactory = "{factory}"\n{setting}\n',
        encoding="utf8",
    )
    if classifier is not None:
        (out / factory / "classifier").mkdir(parents=True)
        (out / factory / "classifier" / "classifier.json").write_text(json.dumps(classifier), encoding="utf8")
    write_card(out, test=files["test"], meta=files["meta"])
    return (out / "README.md").read_text(encoding="utf8")


def test_default_inference_read_from_the_pipeline_config(tmp_path):
    card = card_of_a_saved_pipeline(tmp_path, "clinkd_ner", 'inference = "int8"')
    assert "The encoder runs in **int8** by default" in card


def test_the_assertion_backend_is_read_from_the_pipeline_config(tmp_path):
    card = card_of_a_saved_pipeline(tmp_path, "clinkd_assertion", 'backend = "learned"')
    assert "- **Assertion** is learned (a small encoder fine-tuned" in card and "rule-based" not in card
    assert "- **Assertion** is rule-based" in card_of(META, metrics())


def test_a_linear_assertion_classifier_is_named_as_such(tmp_path):
    card = card_of_a_saved_pipeline(tmp_path, "clinkd_assertion", 'backend = "learned"', classifier={"kind": "linear"})
    assert "- **Assertion** is learned (a linear model over the NegEx-style rules' cues" in card
    assert "small encoder" not in card and "rule-based" not in card


def test_dev_assertion_scores_of_a_learned_classifier_are_called_in_sample():
    fitted_on_dev = "so these dev scores are on its own training data"
    learned = card_of(META, metrics(), dev=metrics(), assertion_backend="hybrid")
    assert fitted_on_dev in learned.split("### Dev")[1] and fitted_on_dev not in learned.split("### Dev")[0]
    assert fitted_on_dev not in card_of(META, metrics(), dev=metrics(), assertion_backend="rules")


def test_a_linear_classifier_that_keeps_the_rules_hedges_says_so(tmp_path):
    card = card_of_a_saved_pipeline(
        tmp_path, "clinkd_assertion", 'backend = "learned"', classifier={"kind": "linear", "keep_rules": ["possible"]}
    )
    assert "- **Assertion** is learned where the rules find no hedge" in card and "their 'possible' stands;" in card
    assert "unless the model finds the entity absent" not in card
    # the shipped kind: the hedge stands unless the classifier finds the entity absent
    (tmp_path / "shipped").mkdir()
    shipped = card_of_a_saved_pipeline(
        tmp_path / "shipped", "clinkd_assertion", 'backend = "learned"',
        classifier={"kind": "linear", "keep_rules": ["possible"], "overrides": ["absent"]},
    )
    assert "their 'possible' stands unless the model finds the entity absent" in shipped


def test_cli_writes_the_readme(tmp_path):
    files = inputs(tmp_path, transfer=transfer({"CC BY-NC 4.0": 2}))
    out = tmp_path / "en_clinkd_ner"
    args = ["model-card", str(out), "--test", str(files["test"]), "--meta", str(files["meta"]), "--facts", str(FACTS_FILE)]
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


def test_calibration_section_says_what_score_is_and_how_reliable():
    card = card_of(META, metrics())
    section = card.split("## Entity scores and calibration")[1].split("\n## ")[0]
    assert "mean, over the entity's tokens, of the probability the tagger gave the tag it chose" in section
    assert 'group.attrs["scores"]' in section
    # SCORED by hand: bins 0.5 (2, 1 right), 0.7 (4, 2), 0.9 (4, 3); Wilson 3/4 = [0.30, 0.95]
    assert "| 0.9–1.0 | 4 | 3 | 0.750 [0.30, 0.95] | 0.950 |" in section
    assert "| 0.7–0.8 | 4 | 2 | 0.500 [0.15, 0.85] | 0.750 |" in section
    assert "| 0.0–0.1 |" not in section  # empty bins are left out
    assert "mean score is 0.790 and the fraction right 0.600: the scores are **overconfident**" in section
    assert "Expected calibration error (the bins' |fraction right − mean score|, weighted by their entities): 0.190." in section
    assert "| (all) | 10 | 100% | 0.600 | 0.500 | 0.545 |" in section
    assert "| 0.7 | 8 | 80% | 0.625 | 0.417 | 0.500 |" in section
    assert "| 0.9 | 4 | 40% | 0.750 | 0.250 | 0.375 |" in section


def test_without_scores_calibration_is_not_measured(tmp_path):
    card = card_of(META, metrics(calibrated=False))
    assert "Whether the score is calibrated: not measured (the test metrics hold no entity scores" in card
    assert "Reliability of the entity scores: not measured" in card
    test = write_json(tmp_path / "test.json", metrics(calibrated=False))
    result = write_card(tmp_path / "card", test=test, meta=write_json(tmp_path / "meta.json", META))
    assert [p.name for p in result["plots"]] == [PLOT_F1]


def test_assertion_intervals_and_the_rarest_class():
    card = card_of(META, metrics())
    block = card.split("### Test (12 gold entities")[1].split("\n## ")[0]
    assert "| possible | 0.250 [0.00, 0.60] | 0.500 [0.00, 1.00] | 0.333 [0.00, 0.67] | 1 |" in block
    assert "Fewest gold entities: **possible**, n = 1: F1 0.333 [0.00, 0.67]; the fewer" in block
    assert "95% percentile bootstrap intervals over documents (50 samples)" in block


def test_privacy_statement():
    from spacy_clinkd.serve.settings import DEFAULT_HOST

    card = card_of(META, metrics(), transfer=transfer({"CC BY-NC 4.0": 2}))
    section = card.split("## Privacy and offline use")[1].split("\n## ")[0]
    assert "download nothing, open no network connection and send no telemetry" in section
    assert f"listens on {DEFAULT_HOST} unless told otherwise" in section
    assert "never a note's text" in section
    assert "they hold each entity's text" in section  # annotate's records do
    assert "MACCROBAT2020: CC BY 4.0" in section and f"The model's licence: {META['license']}" in section
    assert "licensed CC BY-NC 4.0: non-commercial use only" in section


def test_privacy_statement_lists_the_shipped_licences():
    for meta_file, e3c in (("meta.json", "CC BY-NC"), ("meta_cc_by.json", "CC BY / CC BY 4.0")):
        meta = json.loads((ROOT / "configs" / meta_file).read_text(encoding="utf8"))
        section = card_of(meta, metrics()).split("## Privacy and offline use")[1].split("\n## ")[0]
        assert "MACCROBAT2020: CC BY 4.0;" in section
        assert re.search(rf"E3C English Layer 3 clinical case texts[^:;]*: {re.escape(e3c)};", section), section


def test_provenance_in_the_card(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    files = inputs(tmp_path, transfer=transfer({"CC BY 4.0": 1}) | {"seed": 5})
    project = tmp_path / "project"
    project.mkdir()
    (project / "project.lock").write_text(
        "convert:\n  deps:\n    - path: assets/maccrobat/brat\n      md5: 680876648d82574fa9bf2e022dab5e9c\n",
        encoding="utf8",
    )
    (project / "project.yml").write_text(
        'assets:\n  - dest: "assets/maccrobat/brat"\n    checksum: "680876648d82574fa9bf2e022dab5e9c"\n', encoding="utf8"
    )
    out = tmp_path / "pipeline"
    out.mkdir()
    (out / "config.cfg").write_text("[system]\nseed = 4\n\n[training]\nseed = ${system.seed}\n", encoding="utf8")
    write_card(out, test=files["test"], meta=files["meta"], transfer_report=files["transfer"], project=project)
    section = (out / "README.md").read_text(encoding="utf8").split("## Provenance")[1].split("\n## ")[0]
    assert "git commit unknown (not built from a git checkout)" in section
    assert "spacy_clinkd 0.1.0" in section
    assert "Built (this card written): 2023-11-14 (UTC)." in section
    assert "this pipeline's config, [training] seed: 4" in section
    assert "the transfer set's sample (transfer-set --seed): 5" in section
    assert "the test scores' bootstrap: 0" in section
    assert "| assets/maccrobat/brat | `680876648d82574fa9bf2e022dab5e9c` | same | convert |" in section


def test_provenance_without_a_project():
    card = card_of(META, metrics())
    assert "Provenance: not measured (no project directory given)." in card
    files_card = card.split("## Provenance")[1]
    assert "Data checksums" not in files_card  # the whole section is one line


def capture_figures(monkeypatch):
    """Keep the figures the card draws instead of writing them."""
    import spacy_clinkd.report.card_plots as card_plots

    figures = []

    def keep(fig, path):
        figures.append(fig)
        return path

    monkeypatch.setattr(card_plots, "save_png", keep)
    return figures


def test_speed_plot_has_whole_axes_and_error_bars(tmp_path, monkeypatch):
    from spacy_clinkd.report.card_plots import plot_f1_vs_speed

    figures = capture_figures(monkeypatch)
    bench = json.loads(json.dumps(BENCHMARK))
    bench["pipelines"][1]["throughput"]["8"].update(min=2500.0, max=3200.0)
    plot_f1_vs_speed(bench, tmp_path / "speed.png", own_names=["distilled-int8"], f1_intervals={"distilled-int8": [0.3, 0.7]})
    ax = figures[0].axes[0]
    assert ax.get_ylim() == (0, 1)
    assert ax.get_xlim()[0] == 0 and ax.get_xlim()[1] >= 6000
    # the int8 point's bars: F1 0.3–0.7 and words/s 2500–3200
    segments = [seg for coll in ax.collections for seg in coll.get_segments()]
    spans = {(round(min(s[:, 0]), 1), round(max(s[:, 0]), 1), round(min(s[:, 1]), 2), round(max(s[:, 1]), 2)) for s in segments}
    assert (3000.0, 3000.0, 0.3, 0.7) in spans
    assert (2500.0, 3200.0, 0.5, 0.5) in spans


def test_speed_f1_intervals_only_for_the_same_f1():
    test, teacher = metrics(0.5), metrics(0.6)
    found = speed_f1_intervals(BENCHMARK, own_names=["distilled-int8"], test=test, teacher=teacher)
    assert found == {"distilled-int8": [0.3, 0.7], "teacher": [0.3, 0.7]}
    # another F1 (another precision, another test set) gets no interval
    assert speed_f1_intervals(BENCHMARK, own_names=["distilled-int8"], test=metrics(0.51), teacher=None) == {}


def test_reliability_diagram_axes_diagonal_and_counts(tmp_path, monkeypatch):
    from spacy_clinkd.report.card_plots import plot_calibration

    figures = capture_figures(monkeypatch)
    plot_calibration(metrics(), tmp_path / "calibration.png")
    ax, counts = figures[0].axes
    assert ax.get_xlim() == (0, 1) and ax.get_ylim() == (0, 1)
    assert any(list(line.get_xdata()) == [0, 1] and list(line.get_ydata()) == [0, 1] for line in ax.get_lines())
    labels = sorted(text.get_text() for text in ax.texts)
    assert labels == ["n=2", "n=4", "n=4"]
    assert sorted(round(p.get_height()) for p in counts.patches if p.get_height()) == [2, 4, 4]


def external_metrics(label, *, data, label_map=None, micro_f=0.4):
    """An `evaluate` output on an external set scoring one gold type."""
    result = metrics(micro_f, path=data, assertion=False, calibrated=False)
    for part in (result, result["lenient"]):
        part["per_label"] = {label: part["per_label"]["DISEASE"]}
    for side in ("strict", "lenient"):
        result["bootstrap"][side]["per_label"] = {label: result["bootstrap"][side]["per_label"]["DISEASE"]}
    result["label_map"] = label_map
    return result


BC5CDR_CHEMICAL = external_metrics("CHEMICAL", data="corpus/bc5cdr/test.spacy", label_map={"MEDICATION": "CHEMICAL"})
NCBI_DEV = external_metrics("DISEASE", data="corpus/ncbi_disease/dev.spacy", label_map={"DISEASE": "DISEASE"})
NCBI_NAME = "NCBI-disease development set"


def test_one_external_section_with_a_row_block_per_set():
    card = card_of(META, metrics(), externals=[("BC5CDR test", BC5CDR_CHEMICAL), (NCBI_NAME, NCBI_DEV)])
    section = card.split("## External validation")[1].split("\n## ")[0]
    assert card.count("## External validation") == 1
    bc5cdr, ncbi = section.index("BC5CDR test (3 documents"), section.index(f"{NCBI_NAME} (3 documents")
    assert bc5cdr < section.index("| strict CHEMICAL | 0.500 [0.40, 0.60] |") < ncbi
    assert ncbi < section.index("| strict DISEASE | 0.500 [0.40, 0.60] |") < section.index("| lenient DISEASE |")
    # which type each set scores, and the pipeline's type it is scored as
    assert "scored on CHEMICAL (the pipeline's MEDICATION) only" in section
    assert "12 gold entities), scored on DISEASE only" in section
    # each set's note from the facts file, once each
    assert section.count("its texts are abstracts, not case reports") == 2
    assert "- **Domain**:" in card and FACTS["domain"]["shift"] in card


def test_cli_takes_repeated_external_sets_paired_with_their_names(tmp_path):
    files = inputs(tmp_path, chemical=BC5CDR_CHEMICAL, ncbi=NCBI_DEV)
    out = tmp_path / "card"
    args = ["model-card", str(out), "--test", str(files["test"]), "--meta", str(files["meta"]), "--facts", str(FACTS_FILE)]
    args += ["--external", str(files["chemical"]), "--external-name", "BC5CDR test, Chemical"]
    args += ["--external", str(files["ncbi"]), "--external-name", NCBI_NAME]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    card = (out / "README.md").read_text(encoding="utf8")
    assert card.index("BC5CDR test, Chemical (3 documents") < card.index(f"{NCBI_NAME} (3 documents")
    assert "not measured: external" not in result.output


def test_an_unnamed_external_set_takes_its_name_from_the_facts_or_its_data(tmp_path):
    bc5cdr_disease = external_metrics("DISEASE", data="corpus/bc5cdr/test.spacy")
    files = inputs(tmp_path, bc5cdr=bc5cdr_disease, ncbi=NCBI_DEV)
    no_data = write_json(tmp_path / "external_other.json", {k: v for k, v in NCBI_DEV.items() if k != "data"})
    out = tmp_path / "card"
    write_card(out, test=files["test"], meta=files["meta"], external=[files["bc5cdr"], files["ncbi"], no_data])
    card = (out / "README.md").read_text(encoding="utf8")
    # the facts name the BC5CDR data; the others are named from their data path, else their file
    assert "BC5CDR test (3 documents, 12 gold entities), scored on DISEASE only" in card
    assert "ncbi_disease dev (3 documents" in card
    assert "external_other (3 documents" in card
    # the single-external call of project.yml, without a name, keeps the card it had
    write_card(out, test=files["test"], meta=files["meta"], external=files["bc5cdr"])
    section = (out / "README.md").read_text(encoding="utf8").split("## External validation")[1].split("\n## ")[0]
    assert section.count("gold entities), scored on") == 1
    assert "BC5CDR test (3 documents, 12 gold entities), scored on DISEASE only: the pipeline's other types are not compared. Its annotation guidelines are not MACCROBAT's and its texts are abstracts" in section


def test_two_unnamed_sets_on_one_data_file_are_told_apart_by_their_labels(tmp_path):
    # BC5CDR's Disease and Chemical are both scored on corpus/bc5cdr/test.spacy
    chemical = {**BC5CDR_CHEMICAL, "labels": ["CHEMICAL"]}
    disease = {**external_metrics("DISEASE", data="corpus/bc5cdr/test.spacy"), "labels": ["DISEASE"]}
    files = inputs(tmp_path, chemical=chemical, disease=disease)
    out = tmp_path / "card"
    write_card(out, test=files["test"], meta=files["meta"], external=[files["disease"], files["chemical"]])
    card = (out / "README.md").read_text(encoding="utf8")
    assert "BC5CDR test (3 documents, 12 gold entities), scored on DISEASE only" in card
    chemical_block = card.split("BC5CDR test, Chemical as MEDICATION (3 documents")[1]
    assert "a proxy that understates recall on drugs" in chemical_block.split("\n\n")[0]


def test_external_names_must_pair_with_the_sets(tmp_path):
    files = inputs(tmp_path, chemical=BC5CDR_CHEMICAL, ncbi=NCBI_DEV)
    with pytest.raises(ClinkdError, match=re.escape("1 --external-name for 2 --external")):
        write_card(tmp_path / "card", test=files["test"], meta=files["meta"],
                   external=[files["chemical"], files["ncbi"]], external_name=["BC5CDR test"])
    assert not (tmp_path / "card" / "README.md").exists()


def test_a_missing_external_set_is_named_beside_the_ones_scored(tmp_path):
    files = inputs(tmp_path, ncbi=NCBI_DEV)
    missing = tmp_path / "metrics" / "external_bc5cdr.json"
    result = write_card(tmp_path / "card", test=files["test"], meta=files["meta"],
                        external=[missing, files["ncbi"]], external_name=["BC5CDR test", NCBI_NAME])
    card = (tmp_path / "card" / "README.md").read_text(encoding="utf8")
    assert f"{NCBI_NAME} (3 documents" in card and "BC5CDR test (" not in card
    assert f"External validation on the other sets given: not measured (no file at {missing})." in card
    assert result["not_measured"]["external"] == f"no file at {missing}"


def test_a_missing_facts_file_is_an_error_naming_it(tmp_path):
    files = inputs(tmp_path)
    nowhere = tmp_path / "configs" / "model_card.yml"
    with pytest.raises(ClinkdError, match=re.escape(f"The model card's corpus facts {nowhere} cannot be read (no such file)")):
        write_model_card(tmp_path / "card", test=files["test"], meta=files["meta"], facts=nowhere)
    assert not (tmp_path / "card" / "README.md").exists()


def test_a_facts_file_without_a_fact_is_an_error(tmp_path):
    files = inputs(tmp_path)
    facts = tmp_path / "facts.yml"
    facts.write_text("test_name: Some test\n", encoding="utf8")
    with pytest.raises(ClinkdError, match=re.escape(f"{facts} is not the corpus facts the model card expects: it has no 'label_meanings'")):
        write_model_card(tmp_path / "card", test=files["test"], meta=files["meta"], facts=facts)


def test_a_facts_file_without_a_fact_inside_a_section_is_an_error_before_any_output(tmp_path):
    files = inputs(tmp_path)
    facts = tmp_path / "facts.yml"
    text = (ROOT / "configs" / "model_card.yml").read_text(encoding="utf8")
    facts.write_text("\n".join(line for line in text.splitlines() if not line.strip().startswith("shift:")), encoding="utf8")
    with pytest.raises(ClinkdError, match=re.escape(f"{facts} is not the corpus facts' 'domain' the model card expects: it has no 'shift'")):
        write_model_card(tmp_path / "card", test=files["test"], meta=files["meta"], facts=facts)
    assert not (tmp_path / "card").exists() or not any((tmp_path / "card").iterdir())


def test_the_default_facts_file_is_found_from_the_project_root_only(tmp_path, monkeypatch):
    files = inputs(tmp_path)
    args = ["model-card", str(tmp_path / "card"), "--test", str(files["test"]), "--meta", str(files["meta"])]
    monkeypatch.chdir(ROOT)
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "MACCROBAT test: 3 documents" in (tmp_path / "card" / "README.md").read_text(encoding="utf8")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, args)
    assert result.exit_code != 0
    assert isinstance(result.exception, ClinkdError) and "configs/model_card.yml" in str(result.exception)


def test_the_facts_are_what_the_card_states(tmp_path):
    facts = json.loads(json.dumps(FACTS))
    facts["test_name"] = "Toy test"
    facts["label_meanings"]["DISEASE"] = "a toy disease type"
    card = model_card_markdown(META, metrics(), facts=facts)
    assert "Toy test: 3 documents, 12 gold entities." in card and "MACCROBAT test:" not in card
    assert "- **DISEASE** is a toy disease type." in card


def test_context_categories_are_shown_where_the_metrics_have_them():
    assert "ConText's categories" not in card_of(META, metrics())
    test = metrics()
    test["assertion"]["context_on_gold_entities"] = {
        "per_class": {
            "historical": scores(0.6, 0.692, 0.643, 13),
            "hypothetical": scores(0.0, 0.0, 0.0, 0),
            "family": scores(1.0, 1.0, 1.0, 2),
        },
        "n": 12,
        "bootstrap": {"per_class": {"historical": intervals([0.3, 0.9], [0.4, 0.9], [0.35, 0.81])},
                      "n_samples": 50, "confidence": 0.95, "seed": 0, "n_docs": 3},
    }
    card = card_of(META, test)
    at = card.index("ConText's categories")
    assert at < card.index("| historical | 0.600 [0.30, 0.90] | 0.692 [0.40, 0.90] | 0.643 [0.35, 0.81] | 13 |", at)
    assert at < card.index("| family | 1.000 | 1.000 | 1.000 | 2 |", at) < card.index("## Speed on CPU")
