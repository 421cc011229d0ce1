"""The model card of the packaged pipeline: a README.md (which `spacy package`
copies into the package instead of generating one from meta.json) and its
plots, from the metrics JSON files the project already writes.

Inputs (all already-loaded dicts in the pure functions):

- `meta`: configs/meta.json (`lang`, `name`, `version`, `description`,
  `license`, `sources`; `requirements` if any). Required.
- `test`: the `evaluate` output on MACCROBAT test (`per_label`, `micro`,
  `lenient`, `bootstrap`, `n_docs`, `assertion` with its per-class
  `bootstrap`, `calibration` of the entity scores). Required.
- optional: `dev` (evaluate on dev, for its assertion scores), `external`
  (evaluate on an external test set, e.g. BC5CDR), `teacher` (evaluate of the
  teacher on the same test set, for the teacher ratio), `benchmark`
  (`benchmark-compare` output), `fragmentation` (`extend-vocab`'s
  fragmentation.json), `transfer` (`transfer-set --report`: the counts of the
  distillation transfer set, `licences_written`: licence → notes), and the
  student's encoder directory (its vocabulary size: extension used or not),
  and the project directory (provenance: git commit, data checksums,
  `provenance.read_provenance`).

A missing optional input gives a line saying what was not measured and why,
never a number; a missing required input is E261. The card's sections, in
order: title and summary, install and use, test scores, entity scores and
calibration, external validation, assertion status, speed on CPU, training
data and licences, privacy and offline use, provenance, intended use and
known limits, plots. Plots keep their axes whole (scores from 0 to 1, speed
from 0), draw intervals as error bars, and describe the shipped model only:
the fragmentation plot is drawn only when this model's encoder has the
extended vocabulary.
"""
from __future__ import annotations

import configparser
import json
import re
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import ClinkdError, Errors
from ..paths import check_output_dir, check_output_file, write_error, write_text_atomic
from .calibration import SPANS_KEY
from .figures import error_bars, pyplot, save_png
from .metrics import prf
from .provenance import read_provenance

README = "README.md"
PLOT_F1 = "f1_per_type.png"
PLOT_SPEED = "f1_vs_speed.png"
PLOT_FRAGMENTATION = "fragmentation.png"
PLOT_CALIBRATION = "calibration.png"
PLOTS = (PLOT_F1, PLOT_CALIBRATION, PLOT_SPEED, PLOT_FRAGMENTATION)
# What the shipped types are, in the words of the MACCROBAT annotation.
LABEL_MEANINGS = {
    "SYMPTOM": "MACCROBAT's Sign_symptom: signs and symptoms, including findings "
    "(e.g. 'pain', 'dyspnea', 'fever'; findings such as 'mass', 'lesion', 'tachycardia'); lab values and tests are other MACCROBAT types, not shipped",
    "DISEASE": "MACCROBAT's Disease_disorder: diseases, disorders and syndromes",
    "MEDICATION": "MACCROBAT's Medication: drugs and other administered substances",
}
# "NC" as a word of a licence ("CC BY-NC 4.0", "CC-BY-NC-SA"), not inside one ("unclear").
NON_COMMERCIAL = re.compile(r"(?<![a-z])nc(?![a-z])", re.IGNORECASE)
META_KEYS = ("name", "version", "description", "license", "sources")


def package_name(meta: Mapping[str, Any]) -> str:
    """RETURNS (str): the installed package's name, `<lang>_<name>` (e.g. en_clinkd_ner)."""
    return f"{meta.get('lang', 'en')}_{meta['name']}"


def _cell(text: Any) -> str:
    """A table cell: '|' would end it, a line break would end the row."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _interval(value: float, interval: Sequence[float] | None) -> str:
    if interval is None:
        return f"{value:.3f}"
    lo, hi = interval
    return f"{value:.3f} [{lo:.2f}, {hi:.2f}]"


def _intervals_of(boot: Mapping[str, Any] | None, scoring: str, label: str | None) -> Mapping[str, Any]:
    """The {p, r, f: [lo, hi]} intervals of one label (None: micro), or {}."""
    if not boot or scoring not in boot:
        return {}
    side = boot[scoring]
    found = side.get("micro") if label is None else side.get("per_label", {}).get(label)
    return found or {}


def _score_row(name: str, scores: Mapping[str, Any], intervals: Mapping[str, Any]) -> str:
    cells = [_interval(scores[key], intervals.get(key)) for key in ("p", "r", "f")]
    return f"| {name} | {' | '.join(cells)} | {scores['support']} |"


SCORE_HEADER = ["| type | P | R | F1 | support |", "|---|---:|---:|---:|---:|"]


def score_table(
    scores: Mapping[str, Any], boot: Mapping[str, Any] | None = None, *, scoring: str = "strict"
) -> list[str]:
    """P, R, F1 and support per type and micro, each with its bootstrap interval
    when there is one, e.g. `0.417 [0.28, 0.51]`.

    scores (Mapping[str, Any]): {"per_label": {LABEL: {p, r, f, support}}, "micro": {...}}
        (`metrics.score_entities` output, or its "lenient" part).
    boot (Optional[Mapping[str, Any]]): `bootstrap_intervals` output; None: no intervals.
    scoring (str): which intervals of `boot`: "strict" or "lenient".
    RETURNS (List[str]): markdown table lines.
    """
    lines = list(SCORE_HEADER)
    for label, row in scores["per_label"].items():
        lines.append(_score_row(label, row, _intervals_of(boot, scoring, label)))
    if scores.get("micro") is not None:
        lines.append(_score_row("**micro**", scores["micro"], _intervals_of(boot, scoring, None)))
    return lines


def _bootstrap_line(boot: Mapping[str, Any] | None) -> str:
    if not boot:
        return "No bootstrap intervals were computed for these scores."
    return (
        f"In brackets: {100 * boot['confidence']:g}% percentile bootstrap intervals over documents "
        f"({boot['n_samples']} samples)."
    )


def not_measured(what: str, reason: str) -> str:
    """RETURNS (str): the line of a section (or part of one) with no input."""
    return f"{what}: not measured ({reason})."


def _reason(reasons: Mapping[str, str] | None, key: str, default: str) -> str:
    return (reasons or {}).get(key, default)


def teacher_ratio(test: Mapping[str, Any], teacher: Mapping[str, Any]) -> float | None:
    """Strict micro F1 of the pipeline over its teacher's.

    test (Mapping[str, Any]): the pipeline's `evaluate` output.
    teacher (Mapping[str, Any]): the teacher's, on the same test set.
    RETURNS (Optional[float]): the ratio; None when the teacher's F1 is 0.
    """
    teacher_f = teacher["micro"]["f"]
    return None if teacher_f == 0 else test["micro"]["f"] / teacher_f


def header_markdown(meta: Mapping[str, Any], *, labels: Sequence[str], default_inference: str | None = None) -> list[str]:
    """Title, version, summary and how to install and use the package.

    meta (Mapping[str, Any]): configs/meta.json.
    labels (Sequence[str]): the entity types the pipeline predicts.
    default_inference (Optional[str]): the encoder's saved precision ("int8"
        or "fp32") if known.
    RETURNS (List[str]): markdown lines.
    """
    name, version = package_name(meta), meta["version"]
    wheel = f"{name}-{version}-py3-none-any.whl"
    lines = [f"# {name}", "", f"Version {version}.", "", str(meta["description"]).strip(), ""]
    lines += ["## Install and use", "", "```bash", f"pip install --find-links DIR {name}", "```", ""]
    # spacy_clinkd (the components' code) is on no package index: its wheel travels beside the model's
    lines += [
        f"DIR is the folder that holds `{wheel}` and the `spacy_clinkd` wheel beside it (the code of the "
        "`clinkd_ner` and `clinkd_assertion` components, which is on no package index); spaCy, torch and the "
        "rest come from the package index. For torch's CPU build (the one tested; the default on Linux is "
        "the larger CUDA build), install it first: `pip install torch --index-url https://download.pytorch.org/whl/cpu`.",
        "",
    ]
    if meta.get("requirements"):
        lines += [f"Besides spaCy and spacy_clinkd, the wheel installs {', '.join(f'`{r}`' for r in meta['requirements'])}.", ""]
    lines += [
        "```python",
        "import spacy",
        "",
        f'nlp = spacy.load("{name}")',
        "for doc in nlp.pipe(texts, batch_size=8):",
        "    for ent in doc.ents:",
        "        print(ent.text, ent.label_, ent.start_char, ent.end_char, ent._.assertion, ent._.negated)",
        "```",
        "",
        f"`ent.label_` is one of {', '.join(labels)}. `ent._.assertion` is `\"present\"`, `\"absent\"` "
        "(negated: \"no fever\") or `\"possible\"` (hedged: \"possible pneumonia\"); `ent._.negated` is "
        "`True` exactly when it is `\"absent\"`.",
        "",
    ]
    default = f"runs in **{default_inference}** by default" if default_inference else "has two precisions"
    lines += [
        f"The encoder {default}: `int8` (ONNX Runtime, faster on CPU) or `fp32` (the trained weights). "
        "Choose at load time with the `inference` setting of the `clinkd_ner` component:",
        "",
        "```python",
        f'nlp = spacy.load("{name}", config={{"components": {{"clinkd_ner": {{"inference": "fp32"}}}}}})',
        "```",
        "",
    ]
    return lines


def scores_markdown(
    test: Mapping[str, Any],
    *,
    teacher: Mapping[str, Any] | None = None,
    test_name: str = "MACCROBAT test",
    reasons: Mapping[str, str] | None = None,
) -> list[str]:
    """The test scores: strict then lenient per type and micro with their
    intervals, the number of documents and the teacher ratio.

    test (Mapping[str, Any]): the pipeline's `evaluate` output on the test set.
    teacher (Optional[Mapping[str, Any]]): the teacher's on the same set; None:
        the ratio is not measured.
    test_name (str): the test set's name in the text.
    reasons (Optional[Mapping[str, str]]): input key ("teacher") → why it is missing.
    RETURNS (List[str]): markdown lines.
    """
    boot = test.get("bootstrap")
    n_docs = test.get("n_docs")
    docs = f"{n_docs} documents, " if n_docs is not None else ""
    lines = [
        "## Test scores",
        "",
        f"{test_name}: {docs}{test['micro']['support']} gold entities. {_bootstrap_line(boot)}",
        "",
        "### Strict (exact span and type)",
        "",
        *score_table(test, boot, scoring="strict"),
    ]
    if "lenient" in test:
        lines += ["", "### Lenient (overlapping span, same type)", "", *score_table(test["lenient"], boot, scoring="lenient")]
    else:
        lines += ["", not_measured("Lenient scores", "the test metrics hold none")]
    lines.append("")
    if teacher is None:
        lines.append(not_measured("Teacher ratio", _reason(reasons, "teacher", "no teacher metrics given")))
    else:
        ratio = teacher_ratio(test, teacher)
        student_f, teacher_f = test["micro"]["f"], teacher["micro"]["f"]
        if ratio is None:
            lines.append(f"Teacher ratio: undefined (the teacher's strict micro F1 is 0; this pipeline's is {student_f:.3f}).")
        else:
            lines.append(
                f"Teacher ratio: strict micro F1 {student_f:.3f} against the teacher's {teacher_f:.3f}, "
                f"a ratio of **{ratio:.3f}** (this pipeline keeps {100 * ratio:.1f}% of its teacher's F1)."
            )
        same_data = (test.get("data") or {}).get("path") == (teacher.get("data") or {}).get("path")
        if teacher.get("n_docs") != n_docs or not same_data:
            lines.append(
                f"The teacher was scored on other documents ({(teacher.get('data') or {}).get('path')}, "
                f"{teacher.get('n_docs')} documents), so the ratio compares different test sets."
            )
    lines.append("")
    return lines


def _share(x: float) -> str:
    return f"{100 * x:.0f}%"


def calibration_verdict(calibration: Mapping[str, Any]) -> str:
    """RETURNS (str): whether the scores over- or understate how often an
    entity is right, on average, and the expected calibration error."""
    mean, accuracy, ece = calibration["mean_score"], calibration["accuracy"], calibration["ece"]
    gap = mean - accuracy
    if gap > 0.05:
        kind = ("**overconfident**: read a score as a ranking (a higher score is more often right), "
                "not as the probability that the entity is right")
    elif gap < -0.05:
        kind = "**underconfident**: entities are right more often than their scores say"
    else:
        kind = "**close to calibrated on average** (check the bins: they can still differ)"
    return (
        f"Over all {calibration['n']} scored entities the mean score is {mean:.3f} and the fraction right "
        f"{accuracy:.3f}: the scores are {kind}. Expected calibration error "
        f"(the bins' |fraction right − mean score|, weighted by their entities): {ece:.3f}."
    )


def calibration_markdown(
    test: Mapping[str, Any], *, test_name: str = "MACCROBAT test", spans_key: str = SPANS_KEY
) -> list[str]:
    """What an entity's `score` is, and whether it can be read as a probability:
    the reliability table of the test entities and the scores at thresholds.

    test (Mapping[str, Any]): `evaluate` output on the test set (its `calibration`,
        `calibration.calibration`); without it the section says it was not measured.
    test_name (str): the test set's name in the text.
    spans_key (str): the `doc.spans` key of the scores.
    RETURNS (List[str]): markdown lines.
    """
    lines = [
        "## Entity scores and calibration",
        "",
        "Every entity has a **score**: the mean, over the entity's tokens, of the probability the tagger gave "
        "the tag it chose (the softmax over the tags, after the best valid BIO sequence is decoded). It lies "
        "between 0 and 1; higher means the tagger was surer of that span and type. `annotate` writes it as `score`; in "
        f'Python it is in `doc.spans["{spans_key}"].attrs["scores"]`, one per entity of that span group (the '
        "same entities as `doc.ents`, in the same order):",
        "",
        "```python",
        f'group = doc.spans["{spans_key}"]',
        'for ent, score in zip(group, group.attrs["scores"]):',
        "    print(ent.text, ent.label_, round(score, 3))",
        "```",
        "",
    ]
    calibration = test.get("calibration")
    if not calibration or not calibration.get("n"):
        return lines + [
            not_measured(
                "Whether the score is calibrated",
                "the test metrics hold no entity scores; `evaluate` stores them under `calibration`",
            ),
            "",
        ]
    lines += [
        f"Is it a probability? On {test_name}, the {calibration['n']} predicted entities binned by score, and "
        "the fraction of each bin that is right (strict: exact span and type, against the gold), with its 95% "
        "Wilson interval. A calibrated score has fraction right ≈ mean score in every bin; bins without "
        "entities are left out.",
        "",
        "| score | entities | right | fraction right [95% interval] | mean score |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in calibration["bins"]:
        if not row["n"]:
            continue
        lines.append(
            f"| {row['lo']:.1f}–{row['hi']:.1f} | {row['n']} | {row['right']} "
            f"| {_interval(row['accuracy'], row.get('interval'))} | {row['mean_score']:.3f} |"
        )
    lines += ["", calibration_verdict(calibration), ""]
    if calibration.get("unscored"):
        lines += [f"{calibration['unscored']} predicted entities had no score and are not in the table.", ""]
    right = sum(row["right"] for row in calibration["bins"])
    everything = {"threshold": None, "kept": calibration["n"], "share_kept": 1.0,
                  **prf(right, calibration["n"] - right, calibration["n_gold"] - right)}
    lines += [
        "### Keeping only entities above a score",
        "",
        f"Dropping the entities scored below a threshold trades recall for precision. On {test_name} "
        f"({calibration['n_gold']} gold entities; strict):",
        "",
        "| keep entities with score ≥ | kept | share of predicted | P | R | F1 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in [everything, *calibration["thresholds"]]:
        name = "(all)" if row["threshold"] is None else f"{row['threshold']:g}"
        lines.append(
            f"| {name} | {row['kept']} | {_share(row['share_kept'])} | {row['p']:.3f} | {row['r']:.3f} | {row['f']:.3f} |"
        )
    n_docs = test.get("n_docs")
    docs = f"{n_docs} documents" if n_docs is not None else "a small test set"
    lines += [
        "",
        f"These come from {docs}: if a threshold matters to you, check it on notes of your own.",
        "",
    ]
    return lines


def external_markdown(
    external: Mapping[str, Any] | None, *, name: str = "BC5CDR test", reasons: Mapping[str, str] | None = None
) -> list[str]:
    """External validation: strict and lenient scores per scored type, with intervals.

    external (Optional[Mapping[str, Any]]): `evaluate` output on the external set; None: not measured.
    name (str): the external set's name.
    reasons (Optional[Mapping[str, str]]): input key ("external") → why it is missing.
    RETURNS (List[str]): markdown lines.
    """
    lines = ["## External validation", ""]
    if external is None:
        return lines + [not_measured("External validation", _reason(reasons, "external", "no external metrics given")), ""]
    boot = external.get("bootstrap")
    types = ", ".join(external["per_label"])
    n_docs = external.get("n_docs")
    docs = f"{n_docs} documents, " if n_docs is not None else ""
    lines += [
        f"{name} ({docs}{external['micro']['support']} gold entities), scored on {types} only: the "
        "pipeline's other types are not compared. Its annotation guidelines are not MACCROBAT's and its "
        f"texts are abstracts, not case reports, so this measures transfer to other text. {_bootstrap_line(boot)}",
        "",
        "| scoring | P | R | F1 | support |",
        "|---|---:|---:|---:|---:|",
    ]
    for scoring, scores in (("strict", external), ("lenient", external.get("lenient"))):
        if scores is None:
            continue
        for label, row in scores["per_label"].items():
            lines.append(_score_row(f"{scoring} {label}", row, _intervals_of(boot, scoring, label)))
    return lines + [""]


def _assertion_block(metrics: Mapping[str, Any], split: str) -> list[str]:
    on_gold = metrics["assertion"]["on_gold_entities"]
    lines = [
        f"### {split} ({on_gold['n']} gold entities, accuracy {on_gold['accuracy']:.3f})",
        "",
        "| class | P | R | F1 | support |",
        "|---|---:|---:|---:|---:|",
    ]
    boot = on_gold.get("bootstrap")
    intervals = (boot or {}).get("per_class") or {}
    for name, row in on_gold["per_class"].items():
        lines.append(_score_row(name, row, intervals.get(name) or {}))
    lines += ["", _bootstrap_line(boot)]
    rarest = min(on_gold["per_class"], key=lambda name: on_gold["per_class"][name]["support"], default=None)
    if rarest is not None:
        row = on_gold["per_class"][rarest]
        f_interval = (intervals.get(rarest) or {}).get("f")
        lines.append(
            f"Fewest gold entities: **{rarest}**, n = {row['support']}: F1 {_interval(row['f'], f_interval)}"
            + ("; the fewer the entities, the wider the interval." if f_interval is not None else " (no interval computed).")
        )
    end_to_end = metrics["assertion"].get("end_to_end")
    if end_to_end and end_to_end.get("micro"):
        lines += [
            "",
            f"End to end (span, type and assertion all right, strict): micro F1 {end_to_end['micro']['f']:.3f}.",
        ]
    return lines + [""]


def assertion_macro_f(metrics: Mapping[str, Any]) -> float | None:
    """RETURNS (Optional[float]): the macro F1 of the assertion classes on gold
    entities (`macro_f`, else the mean of the per-class F1), None without scores."""
    on_gold = (metrics.get("assertion") or {}).get("on_gold_entities")
    if not on_gold:
        return None
    if on_gold.get("macro_f") is not None:
        return on_gold["macro_f"]
    per_class = on_gold["per_class"]
    return sum(row["f"] for row in per_class.values()) / len(per_class) if per_class else None


def assertion_markdown(
    test: Mapping[str, Any], *, dev: Mapping[str, Any] | None = None, reasons: Mapping[str, str] | None = None
) -> list[str]:
    """Assertion status per class on the gold entities (test, and dev if given).

    test (Mapping[str, Any]): `evaluate` output on test (its `assertion` key).
    dev (Optional[Mapping[str, Any]]): `evaluate` output on dev; None: not shown.
    reasons (Optional[Mapping[str, str]]): input key ("dev") → why it is missing.
    RETURNS (List[str]): markdown lines.
    """
    lines = [
        "## Assertion status",
        "",
        "`ent._.assertion` judged on the gold entities (the gold spans given, only their status scored), "
        "per class.",
        "",
    ]
    if test.get("assertion"):
        lines += _assertion_block(test, "Test")
    else:
        lines += [not_measured("Assertion on test", "the test metrics hold no assertion scores"), ""]
    if dev is None:
        lines += [not_measured("Assertion on dev", _reason(reasons, "dev", "no dev metrics given")), ""]
    elif dev.get("assertion"):
        lines += _assertion_block(dev, "Dev")
    else:
        lines += [not_measured("Assertion on dev", "the dev metrics hold no assertion scores"), ""]
    return lines


def _words_per_second(row: Mapping[str, Any], key: int) -> float | None:
    passes = (row.get("throughput") or {}).get(str(key))
    return None if not passes else passes.get("median")


def benchmark_key(benchmark: Mapping[str, Any]) -> int:
    """RETURNS (int): the batch size whose words/s the card reports (the benchmark's key batch size)."""
    settings = benchmark.get("settings") or {}
    if settings.get("key_batch_size") is not None:
        return int(settings["key_batch_size"])
    sizes = sorted(int(b) for b in settings.get("batch_sizes", [8]))
    return 8 if 8 in sizes else sizes[len(sizes) // 2]


def own_rows(
    benchmark: Mapping[str, Any], *, names: Collection[str] = (), models: Collection[str] = ()
) -> list[Mapping[str, Any]]:
    """The benchmark's rows of this pipeline: those named in `names` if any
    are given, else those whose model is one of `models`.

    RETURNS (List[Mapping[str, Any]]): the rows, in benchmark order.
    """
    if names:
        return [row for row in benchmark["pipelines"] if row["name"] in names]
    return [row for row in benchmark["pipelines"] if row.get("model") in models]


def _ratio(a: float | None, b: float | None) -> str:
    return "–" if a is None or not b else f"{a / b:.2f}×"


def _machine_line(machine: Mapping[str, Any], settings: Mapping[str, Any]) -> str:
    parts = []
    if machine.get("cpu") or machine.get("cpu_count"):
        parts.append(f"{machine.get('cpu_count', '?')} CPUs ({machine.get('cpu', 'unknown')})")
    if machine.get("torch_threads") is not None:
        parts.append(f"{machine['torch_threads']} torch threads")
    if machine.get("fp32_matmul_gflops") is not None:
        parts.append(f"fp32 matmul peak {machine['fp32_matmul_gflops']:.1f} GFLOP/s")
    versions = [f"{lib} {machine[key]}" for lib, key in (
        ("Python", "python"), ("torch", "torch"), ("ONNX Runtime", "onnxruntime"), ("spaCy", "spacy")
    ) if machine.get(key)]
    if versions:
        parts.append(", ".join(versions))
    line = "Machine: " + "; ".join(parts) + "." if parts else "Machine: not recorded."
    if settings.get("docs") is not None and settings.get("words") is not None:
        line += f" {settings['docs']} documents, {settings['words']:,} words"
        if settings.get("passes") is not None:
            line += f"; {settings.get('warmup', 0)} warm-up + {settings['passes']} timed passes, interleaved"
        line += "."
    return line


def speed_markdown(
    benchmark: Mapping[str, Any] | None,
    *,
    own_names: Collection[str] = (),
    own_models: Collection[str] = (),
    teacher_name: str = "teacher",
    baseline_name: str = "cnn-ner",
    default_inference: str | None = None,
    reasons: Mapping[str, str] | None = None,
) -> list[str]:
    """Speed on CPU: words/s of this pipeline against the teacher and the CNN
    baseline, from one `benchmark-compare` run.

    benchmark (Optional[Mapping[str, Any]]): `benchmark-compare` output; None: not measured.
    own_names (Collection[str]): benchmark names of this pipeline's rows (e.g.
        distilled-int8); empty: the rows whose model is in `own_models`.
    own_models (Collection[str]): the models this pipeline was loaded as (its
        package name, its directory).
    teacher_name (str): the teacher's benchmark name.
    baseline_name (str): the CNN baseline's benchmark name.
    default_inference (Optional[str]): the package's default precision, marked in the text.
    reasons (Optional[Mapping[str, str]]): input key ("benchmark") → why it is missing.
    RETURNS (List[str]): markdown lines.
    """
    lines = ["## Speed on CPU", ""]
    if benchmark is None:
        return lines + [not_measured("Speed", _reason(reasons, "benchmark", "no benchmark given")), ""]
    key = benchmark_key(benchmark)
    by_name = {row["name"]: row for row in benchmark["pipelines"]}
    teacher, baseline = by_name.get(teacher_name), by_name.get(baseline_name)
    teacher_wps = None if teacher is None else _words_per_second(teacher, key)
    baseline_wps = None if baseline is None else _words_per_second(baseline, key)
    own = own_rows(benchmark, names=own_names, models=own_models)
    own_ids = {row["name"] for row in own}
    lines += [
        f"Words per second of `nlp.pipe` at batch size {key} (median of the timed passes), all pipelines "
        "measured in one process on the same texts; ratios are to the teacher and to the CNN baseline "
        "(spaCy's CNN `ner`).",
        "",
        "| pipeline | precision | words/s | ÷ teacher | ÷ CNN | strict micro F1 | latency p50 / p95 ms |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for row in benchmark["pipelines"]:
        wps = _words_per_second(row, key)
        name = f"**{row['name']}** (this pipeline)" if row["name"] in own_ids else row["name"]
        latency = row.get("latency_ms") or {}
        lat = f"{latency['p50']:.0f} / {latency['p95']:.0f}" if "p50" in latency and "p95" in latency else "–"
        f1 = "–" if row.get("f1") is None else f"{row['f1']:.3f}"
        lines.append(
            f"| {name} | {row.get('precision', '–')} | {'–' if wps is None else f'{wps:,.0f}'} "
            f"| {_ratio(wps, teacher_wps)} | {_ratio(wps, baseline_wps)} | {f1} | {lat} |"
        )
    lines.append("")
    if teacher is None:
        lines.append(not_measured("Speed against the teacher", f"no pipeline named `{teacher_name}` in the benchmark"))
    if baseline is None:
        lines.append(not_measured("Speed against the CNN baseline", f"no pipeline named `{baseline_name}` in the benchmark"))
    if not own:
        wanted = ", ".join(own_names or own_models)
        lines.append(not_measured("This pipeline's speed", f"no benchmark pipeline is {wanted}"))
    for row in own:
        wps = _words_per_second(row, key)
        if wps is None:
            continue
        default = " (the default)" if default_inference and row.get("precision") == default_inference else ""
        against = []
        if teacher_wps:
            against.append(f"{wps / teacher_wps:.2f}× the teacher's {teacher_wps:,.0f}")
        if baseline_wps:
            against.append(f"{wps / baseline_wps:.2f}× the CNN baseline's {baseline_wps:,.0f}")
        lines.append(
            f"- {row['name']} ({row.get('precision', '?')}{default}): {wps:,.0f} words/s"
            + (f", {' and '.join(against)}" if against else "")
            + "."
        )
    lines += ["", _machine_line(benchmark.get("machine") or {}, benchmark.get("settings") or {}), ""]
    return lines


def non_commercial_licences(transfer: Mapping[str, Any] | None) -> list[str]:
    """RETURNS (List[str]): the non-commercial licences ("NC" in them, e.g.
    CC BY-NC 4.0) of the notes the transfer report lists as written."""
    if not transfer:
        return []
    written = transfer.get("licences_written") or {}
    return [licence for licence, n in written.items() if n and NON_COMMERCIAL.search(licence)]


def licences_markdown(
    meta: Mapping[str, Any], *, transfer: Mapping[str, Any] | None = None, reasons: Mapping[str, str] | None = None
) -> list[str]:
    """Training data and licences: meta's sources, the transfer set's licences,
    and a bold caveat when any of them is non-commercial.

    meta (Mapping[str, Any]): configs/meta.json.
    transfer (Optional[Mapping[str, Any]]): the transfer-set report; None: not measured.
    reasons (Optional[Mapping[str, str]]): input key ("transfer") → why it is missing.
    RETURNS (List[str]): markdown lines.
    """
    lines = ["## Training data and licences", "", f"Licence: {meta['license']}.", ""]
    lines += ["| source | licence | author |", "|---|---|---|"]
    for source in meta["sources"]:
        name = _cell(source.get("name", "?"))
        if source.get("url"):
            name = f"[{name}]({source['url']})"
        lines.append(f"| {name} | {_cell(source.get('license', 'not stated'))} | {_cell(source.get('author', ''))} |")
    lines.append("")
    if transfer is None:
        lines += [not_measured("The transfer set's licences", _reason(reasons, "transfer", "no transfer report given")), ""]
        return lines
    written = transfer.get("licences_written") or {}
    lines += [
        f"Distillation transfer set (unlabelled notes the teacher labelled for the student): "
        f"{transfer.get('written', sum(written.values()))} notes, by licence:",
        "",
        "| licence | notes |",
        "|---|---:|",
        *(f"| {_cell(licence)} | {n} |" for licence, n in written.items()),
        "",
    ]
    if transfer.get("licences"):
        lines += [f"Only notes with these licences were kept: {', '.join(transfer['licences'])}.", ""]
    if written.get("unstated"):
        lines += [f"{written['unstated']} notes state no licence: check their source's terms before use.", ""]
    non_commercial = non_commercial_licences(transfer)
    if non_commercial:
        lines += [
            f"**This model was trained on CC BY-NC text ({', '.join(non_commercial)}): it is for "
            "non-commercial use only, unless it is retrained on the licence-filtered variant of the "
            "transfer set (see the project README).**",
            "",
        ]
    return lines


def _short(text: str) -> str:
    """A source's name or licence up to its first parenthesis or comma (the
    licences table has the rest): "CC BY-NC (per-document licences: …)" → "CC BY-NC"."""
    return re.split(r" \(|, ", str(text), maxsplit=1)[0].strip()


def privacy_markdown(meta: Mapping[str, Any], *, transfer: Mapping[str, Any] | None = None) -> list[str]:
    """Privacy and offline use: what the package reads and sends (nothing over
    the network), what `annotate` and `serve` keep, and what the model learnt from.

    meta (Mapping[str, Any]): configs/meta.json (its sources and their licences).
    transfer (Optional[Mapping[str, Any]]): the transfer-set report, for the
        non-commercial caveat.
    RETURNS (List[str]): markdown lines.
    """
    sources = "; ".join(
        f"{_short(source.get('name', '?'))}: {_short(source.get('license', 'not stated'))}" for source in meta["sources"]
    )
    lines = [
        "## Privacy and offline use",
        "",
        "- **Runs locally, with no network.** The package holds everything the pipeline needs: the encoder's "
        "weights (fp32, and the int8 ONNX model), its WordPiece vocabulary and configuration, and the assertion "
        "component. `spacy.load` and inference read only these files: they download nothing, open no network "
        "connection and send no telemetry, so the notes you process stay on your machine. (The project's CI "
        "installs the wheel into a fresh virtualenv and loads and runs it with networking switched off.)",
        "- **What is kept**: the pipeline keeps nothing between calls. `annotate` writes the records you ask "
        "for, and they hold each entity's text, i.e. words of the note: store its output as you store the notes.",
        "- **`python -m spacy_clinkd serve`** listens on 127.0.0.1 unless told otherwise (another address "
        "without an API key gets a warning). Its log has one line per request: method, route, status, sizes in "
        "bytes, the number of texts and characters, and timings; never a note's text, and an error is logged by "
        "its type only. Its web page loads nothing from elsewhere.",
        "- **What it learnt from**: public corpora only (below), no private patient records. It outputs spans "
        "of the text it is given, with labels and scores; it generates no text.",
        f"- **Licences of what it was built from** (details under Training data and licences): {sources}. "
        f"The model's licence: {str(meta['license']).rstrip('.')}.",
    ]
    non_commercial = non_commercial_licences(transfer)
    if non_commercial:
        lines.append(f"- The transfer set holds text licensed {', '.join(non_commercial)}: non-commercial use only.")
    return lines + [""]


def provenance_markdown(provenance: Mapping[str, Any] | None) -> list[str]:
    """Provenance: code version and commit, build date, seeds, data checksums.

    provenance (Optional[Mapping[str, Any]]): `provenance.read_provenance` output;
        None: not recorded.
    RETURNS (List[str]): markdown lines.
    """
    lines = ["## Provenance", ""]
    if provenance is None:
        return lines + [not_measured("Provenance", "no project directory given"), ""]
    commit = provenance["commit"]
    if provenance.get("project") is None:
        code = "git commit not recorded (no project directory given)"
    elif commit == "unknown":
        code = "git commit unknown (not built from a git checkout)"
    else:
        code = f"git commit `{commit}`"
        if provenance.get("dirty"):
            code += " **with uncommitted changes** (the commit alone does not reproduce it)"
    versions = ", ".join(f"{name} {version}" for name, version in (provenance.get("versions") or {}).items())
    lines += [
        f"- Code: {code}; {versions}.",
        f"- Built (this card written): {provenance['date']} (UTC).",
    ]
    seeds = provenance.get("seeds") or {}
    if seeds:
        lines.append("- Seeds: " + "; ".join(f"{what}: {seed}" for what, seed in seeds.items()) + ".")
    else:
        lines.append("- " + not_measured("Seeds", "the pipeline's config states none"))
    lines.append("")
    data = provenance.get("data")
    if provenance.get("project") is None:
        return lines + [not_measured("Data checksums", "no project directory given"), ""]
    if not data or not data.get("assets"):
        reason = f"no project.lock, and no project.yml assets that a command reads, in {provenance['project']}"
        return lines + [not_measured("Data checksums", reason), ""]
    if data["source"] == "project.lock":
        lines += [
            "Data: the MD5 of each asset as the project's commands read it, as `spacy project run` recorded it in "
            "project.lock, beside the checksum project.yml pins for it (– where it pins none: a folder of several "
            "assets).",
            "",
            "| asset | MD5 read | pinned in project.yml | read by |",
            "|---|---|---|---|",
        ]
        for row in data["assets"]:
            pinned = row.get("pinned")
            check = "–" if not pinned else ("same" if pinned == row["md5"] else f"**differs**: `{pinned}`")
            lines.append(f"| {_cell(row['path'])} | `{row['md5']}` | {check} | {_cell(', '.join(row['commands']))} |")
    else:
        lines += [
            "Data: the MD5s project.yml pins for the assets its commands read (no project.lock: these are the "
            "checksums `fetch-data` verifies, not a record of what a run read).",
            "",
            "| asset | MD5 pinned | read by |",
            "|---|---|---|",
        ]
        for row in data["assets"]:
            lines.append(f"| {_cell(row['path'])} | `{row['md5']}` | {_cell(', '.join(row['commands']))} |")
    return lines + [""]


def limits_markdown(
    test: Mapping[str, Any],
    *,
    external: Mapping[str, Any] | None = None,
    test_name: str = "MACCROBAT test",
    assertion_backend: str = "rules",
) -> list[str]:
    """Intended use and known limits, with the measured numbers they rest on.

    test (Mapping[str, Any]): `evaluate` output on the test set.
    assertion_backend (str): clinkd_assertion's backend, "rules" or "learned".
    external (Optional[Mapping[str, Any]]): `evaluate` output on the external set.
    test_name (str): the test set's name.
    RETURNS (List[str]): markdown lines.
    """
    micro, lenient = test["micro"], (test.get("lenient") or {}).get("micro")
    lines = [
        "## Intended use and known limits",
        "",
        "- **Use**: research, and decision support under a clinician's review, on English clinical case "
        "text. It is **not a diagnostic device**: it misses entities and finds wrong ones (see the scores), "
        "and nothing it outputs should make or exclude a diagnosis.",
    ]
    strict_vs = f" (strict micro F1 {micro['f']:.3f}" + (f", lenient {lenient['f']:.3f})" if lenient else ")")
    lines.append(
        "- **Strict and lenient**: strict counts an entity only with exactly the gold boundaries and type; "
        "lenient counts a prediction overlapping a gold entity of the same type. The gap between them"
        f"{strict_vs} is what boundary disagreements cost (is 'severe' part of 'severe chest pain'?): "
        "use lenient if you need to find the mention, strict if you use the span as is."
    )
    for label in test["per_label"]:
        meaning = LABEL_MEANINGS.get(label, "as annotated in the training corpus")
        lines.append(f"- **{label}** is {meaning}.")
    macro = assertion_macro_f(test)
    how = (
        "learned (a small encoder fine-tuned on MACCROBAT's gold entities in their sentences, reading the "
        "NegEx-style rules' verdict as an input; `backend: rules` switches to the rules alone)"
        if assertion_backend == "learned"
        else "rule-based (NegEx-style cues and scopes, not learnt)"
    )
    if macro is None:
        lines.append(f"- **Assertion** is {how}; " + not_measured("its F1", "the test metrics hold no assertion scores"))
    else:
        per_class = test["assertion"]["on_gold_entities"]["per_class"]
        classes = ", ".join(f"{name} {row['f']:.3f}" for name, row in per_class.items())
        lines.append(
            f"- **Assertion** is {how}: macro F1 "
            f"{macro:.3f} on the test gold entities (F1 {classes}). "
            + (
                "Negations and hedges it has no cue for are called present."
                if assertion_backend != "learned"
                else "It was trained on 160 case reports: phrasings unlike theirs may be missed."
            )
        )
    domain = (
        "- **Domain**: trained on case reports (MACCROBAT: published clinical case reports); notes of other "
        "genres (discharge summaries, dictations, progress notes, nursing notes) are out of domain, and "
        "abbreviations, templates and headings unlike case reports are likely to cost accuracy"
    )
    if external is not None:
        domain += " (the external validation above measures one such shift, to abstracts)"
    lines.append(domain + ".")
    n_docs = test.get("n_docs")
    interval = _intervals_of(test.get("bootstrap"), "strict", None).get("f")
    size = f"{n_docs} documents" if n_docs is not None else "small"
    small = f"- **Small test set**: {test_name} is {size} ({micro['support']} entities), so the intervals are wide"
    if interval is not None:
        small += f" (strict micro F1 {micro['f']:.3f}, 95% interval [{interval[0]:.2f}, {interval[1]:.2f}])"
    lines += [small + ": differences smaller than that are not established.", ""]
    return lines


def fragmentation_sentence(fragmentation: Mapping[str, Any]) -> str:
    """RETURNS (str): how many wordpieces an entity word takes before and after
    the vocabulary extension (all types)."""
    words = fragmentation.get("entity_words") or {}
    overall = words.get("ALL")
    sizes = fragmentation.get("vocab_size") or {}
    added = fragmentation.get("tokens_added")
    text = "The clinical vocabulary extension"
    if added is not None:
        text += f" added {added:,} WordPieces"
        if sizes.get("before") is not None and sizes.get("after") is not None:
            text += f" ({sizes['before']:,} → {sizes['after']:,})"
    if overall is None:
        return text + "."
    return (
        text + f": an entity word takes {overall['before']['mean_pieces']:.2f} → "
        f"{overall['after']['mean_pieces']:.2f} wordpieces on average "
        f"({overall['before']['words']} entity words of {fragmentation.get('documents', {}).get('docs', '?')} evaluation documents)."
    )


def vocabulary_sentence(fragmentation: Mapping[str, Any], vocab_size: int) -> str:
    """RETURNS (str): whether this model's vocabulary (`vocab_size` pieces,
    its encoder's) is the extended one of the fragmentation report, the base
    one, or neither."""
    sizes = fragmentation.get("vocab_size") or {}
    if vocab_size == sizes.get("after"):
        return f"**This model uses the extended vocabulary** ({vocab_size:,} WordPieces)."
    if vocab_size == sizes.get("before"):
        return (
            f"**This model does not use the extension**: its vocabulary is the base one ({vocab_size:,} WordPieces); "
            "the numbers above describe the extension the project built and measured, not this model."
        )
    return f"This model's vocabulary has {vocab_size:,} WordPieces: neither the base nor the extended one of this report."


def encoder_vocab_size(encoder_dir: str | Path) -> int:
    """RETURNS (int): `vocab_size` of the Hugging Face encoder saved in
    `encoder_dir` (its config.json), the encoder the student was trained from.
    RAISES ClinkdError: E261 (cannot be read), E262 (no integer vocab_size).
    """
    path = Path(encoder_dir) / "config.json"
    data = read_input(path, "encoder config")
    size = data.get("vocab_size")
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
        raise ClinkdError(Errors.E262.format(path=path, what="encoder config", problem=f"vocab_size is {size!r}"))
    return size


def uses_extension(fragmentation: Mapping[str, Any] | None, vocab_size: int | None) -> bool:
    """Whether this model's encoder has the extended vocabulary of the
    fragmentation report (its `vocab_size` is the report's "after" size, and
    the extension added tokens): only then does the fragmentation plot
    describe the shipped model."""
    if fragmentation is None or vocab_size is None:
        return False
    sizes = fragmentation.get("vocab_size") or {}
    after, before = sizes.get("after"), sizes.get("before")
    return after is not None and vocab_size == after and after != before and fragmentation.get("tokens_added") != 0


def _count(n: Any) -> str:
    return f"{n:,}" if isinstance(n, int) else "unknown"


def fragmentation_left_out(fragmentation: Mapping[str, Any], vocab_size: int | None) -> str:
    """RETURNS (str): why the fragmentation plot is not in the card although the report was given."""
    sizes = fragmentation.get("vocab_size") or {}
    what = "Fragmentation of entity words: not plotted"
    if vocab_size is None:
        return (
            f"{what}: whether this model uses the vocabulary extension is not known (no encoder was given to "
            "the card), and the plot describes the extension, which may not be this model's vocabulary."
        )
    if vocab_size == sizes.get("before") or sizes.get("after") == sizes.get("before"):
        return (
            f"{what}: this model does not use the vocabulary extension (its encoder has the base vocabulary, "
            f"{vocab_size:,} WordPieces, with no added tokens), so a plot of the extension would describe another model."
        )
    if uses_extension(fragmentation, vocab_size):
        return not_measured("Fragmentation of entity words", "the fragmentation report holds no entity words")
    return (
        f"{what}: this model's vocabulary ({vocab_size:,} WordPieces) is neither the base "
        f"({_count(sizes.get('before'))}) nor the extended ({_count(sizes.get('after'))}) one of the fragmentation "
        "report, so a plot of the extension would describe another model."
    )


def plots_markdown(
    plots: Collection[str],
    *,
    fragmentation: Mapping[str, Any] | None = None,
    vocab_size: int | None = None,
    reasons: Mapping[str, str] | None = None,
) -> list[str]:
    """The plots, by relative path, or the line saying why one is missing.

    plots (Collection[str]): the plot files drawn (PLOT_F1, PLOT_CALIBRATION, PLOT_SPEED, PLOT_FRAGMENTATION).
    fragmentation (Optional[Mapping[str, Any]]): fragmentation.json, for its sentence.
    vocab_size (Optional[int]): this model's vocabulary size, for whether it
        uses the extension (the fragmentation plot is drawn only then); None: not known.
    reasons (Optional[Mapping[str, str]]): input key → why it is missing.
    RETURNS (List[str]): markdown lines.
    """
    lines = ["## Plots", ""]
    if PLOT_F1 in plots:
        lines += [f"![Strict F1 per type on the test set, with 95% intervals]({PLOT_F1})", ""]
    if PLOT_CALIBRATION in plots:
        lines += [
            f"![Reliability of the entity scores on the test set: fraction right against score]({PLOT_CALIBRATION})",
            "",
            "Reliability diagram: per score bin, the fraction of the entities that are right (strict) against "
            "their mean score, with 95% Wilson intervals and the number of entities; the diagonal is a "
            "calibrated score. Both axes run from 0 to 1.",
            "",
        ]
    else:
        lines += [not_measured("Reliability of the entity scores", "the test metrics hold no entity scores"), ""]
    if PLOT_SPEED in plots:
        lines += [
            f"![Strict micro F1 against words per second, one point per pipeline]({PLOT_SPEED})",
            "",
            "Both axes start at 0 and F1 runs to 1, so differences look as large as they are. Error bars: "
            "words/s from the slowest to the fastest timed pass; F1 the 95% bootstrap interval where the "
            "benchmark's F1 is one `evaluate` scored with intervals (this pipeline's and the teacher's test "
            "scores); a point without a vertical bar has no interval.",
            "",
        ]
    else:
        lines += [not_measured("F1 against speed", _reason(reasons, "benchmark", "no benchmark given")), ""]
    if fragmentation is None:
        lines += [not_measured("Fragmentation of entity words", _reason(reasons, "fragmentation", "no fragmentation report given")), ""]
    elif PLOT_FRAGMENTATION in plots:
        lines += [
            f"![Wordpieces per entity word before and after the vocabulary extension]({PLOT_FRAGMENTATION})",
            "",
            fragmentation_sentence(fragmentation),
            "",
        ]
        if vocab_size is not None:
            lines += [vocabulary_sentence(fragmentation, vocab_size), ""]
    else:
        lines += [fragmentation_left_out(fragmentation, vocab_size), ""]
    return lines


def model_card_markdown(
    meta: Mapping[str, Any],
    test: Mapping[str, Any],
    *,
    dev: Mapping[str, Any] | None = None,
    external: Mapping[str, Any] | None = None,
    external_name: str = "BC5CDR test",
    teacher: Mapping[str, Any] | None = None,
    benchmark: Mapping[str, Any] | None = None,
    fragmentation: Mapping[str, Any] | None = None,
    transfer: Mapping[str, Any] | None = None,
    plots: Collection[str] = (),
    own_names: Collection[str] = (),
    own_models: Collection[str] = (),
    speed_teacher: str = "teacher",
    speed_baseline: str = "cnn-ner",
    default_inference: str | None = None,
    assertion_backend: str | None = None,
    vocab_size: int | None = None,
    provenance: Mapping[str, Any] | None = None,
    reasons: Mapping[str, str] | None = None,
) -> str:
    """The whole README.md (the sections of the module docstring, in order).

    meta (Mapping[str, Any]): configs/meta.json.
    test (Mapping[str, Any]): `evaluate` output on MACCROBAT test.
    dev, external, teacher, benchmark, fragmentation, transfer (Optional[Mapping[str, Any]]):
        the optional inputs (module docstring); None: that part is not measured.
    external_name (str): the external set's name.
    plots (Collection[str]): the plot files drawn, referenced by relative path.
    own_names, own_models (Collection[str]): which benchmark rows are this
        pipeline (`speed_markdown`); `own_models` defaults to the package name.
    speed_teacher, speed_baseline (str): the benchmark names of teacher and CNN baseline.
    default_inference (Optional[str]): the package's default precision, if known.
    assertion_backend (Optional[str]): clinkd_assertion's saved backend ("rules" if unknown).
    vocab_size (Optional[int]): this model's vocabulary size (`encoder_vocab_size`), if known.
    provenance (Optional[Mapping[str, Any]]): `provenance.read_provenance` output; None: not recorded.
    reasons (Optional[Mapping[str, str]]): input key → why it is missing, for
        the "not measured" lines (default: not given).
    RETURNS (str): markdown, ending with a newline.
    """
    own_models = own_models or (package_name(meta),)
    lines = header_markdown(meta, labels=list(test["per_label"]), default_inference=default_inference)
    lines += scores_markdown(test, teacher=teacher, reasons=reasons)
    lines += calibration_markdown(test)
    lines += external_markdown(external, name=external_name, reasons=reasons)
    lines += assertion_markdown(test, dev=dev, reasons=reasons)
    lines += speed_markdown(
        benchmark,
        own_names=own_names,
        own_models=own_models,
        teacher_name=speed_teacher,
        baseline_name=speed_baseline,
        default_inference=default_inference,
        reasons=reasons,
    )
    lines += licences_markdown(meta, transfer=transfer, reasons=reasons)
    lines += privacy_markdown(meta, transfer=transfer)
    lines += provenance_markdown(provenance)
    lines += limits_markdown(test, external=external, assertion_backend=assertion_backend or "rules")
    lines += plots_markdown(plots, fragmentation=fragmentation, vocab_size=vocab_size, reasons=reasons)
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n"


def plot_f1_per_type(test: Mapping[str, Any], path: str | Path, *, test_name: str = "MACCROBAT test") -> Path:
    """Bar chart of strict F1 per type and micro, with the bootstrap
    intervals as error bars (none without bootstrap).

    RETURNS (Path): the PNG file (written atomically).
    """
    plt = pyplot()
    boot = test.get("bootstrap")
    names = [*test["per_label"], "micro"]
    values = [*(row["f"] for row in test["per_label"].values()), test["micro"]["f"]]
    intervals = [_intervals_of(boot, "strict", None if name == "micro" else name).get("f") for name in names]
    fig, ax = plt.subplots(figsize=(6, 4))
    bars = ax.bar(names, values, color=["C0"] * (len(names) - 1) + ["C1"])
    if any(interval is not None for interval in intervals):
        ax.errorbar(names, values, yerr=error_bars(values, intervals), fmt="none", ecolor="black", capsize=4)
    for bar, value in zip(bars, values):
        ax.annotate(f"{value:.2f}", (bar.get_x() + bar.get_width() / 2, value), textcoords="offset points",
                    xytext=(8, 3), fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_ylabel("strict F1")
    title = f"Strict F1 on {test_name}"
    ax.set_title(title + (f" ({100 * boot['confidence']:g}% bootstrap intervals)" if boot else ""))
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return save_png(fig, path)


def plot_calibration(test: Mapping[str, Any], path: str | Path, *, test_name: str = "MACCROBAT test") -> Path:
    """Reliability diagram of the entity scores: per score bin, the fraction
    of entities that are right (strict) against their mean score, with 95%
    Wilson intervals as error bars and the number of entities beside each
    point; the diagonal is a calibrated score. Below it, the entities per bin.
    Both score axes run from 0 to 1.

    test (Mapping[str, Any]): `evaluate` output with `calibration`.
    RETURNS (Path): the PNG file (written atomically).
    """
    plt = pyplot()
    calibration = test["calibration"]
    bins = [row for row in calibration["bins"] if row["n"]]
    xs = [row["mean_score"] for row in bins]
    ys = [row["accuracy"] for row in bins]
    fig, (ax, counts) = plt.subplots(
        2, 1, figsize=(5.5, 6), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="calibrated")
    # not clipped: a bin's point may sit on an edge (all right, none right, a score near 0 or 1)
    ax.errorbar(xs, ys, yerr=error_bars(ys, [row["interval"] for row in bins]), fmt="o", color="C0",
                ecolor="C0", capsize=3, label="fraction right (95% Wilson interval)", clip_on=False)
    for x, y, row in zip(xs, ys, bins):
        ax.annotate(f"n={row['n']}", (x, y), textcoords="offset points", xytext=(5, 6 if y < 0.15 else -12), fontsize=7)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("auto")
    ax.set_ylabel("fraction right (strict)")
    ax.set_title(f"Entity scores on {test_name}: {calibration['n']} entities, ECE {calibration['ece']:.3f}", fontsize=9)
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    all_bins = calibration["bins"]
    counts.bar([row["lo"] for row in all_bins], [row["n"] for row in all_bins],
               width=[row["hi"] - row["lo"] for row in all_bins], align="edge", color="C0", alpha=0.6, edgecolor="white")
    counts.set_ylim(0, max(row["n"] for row in all_bins) * 1.15)
    counts.set_xlabel("score (bins of width 0.1; points at the bin's mean score)")
    counts.set_ylabel("entities")
    counts.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return save_png(fig, path)


def speed_f1_intervals(
    benchmark: Mapping[str, Any],
    *,
    own_names: Collection[str] = (),
    test: Mapping[str, Any] | None = None,
    teacher: Mapping[str, Any] | None = None,
    teacher_name: str = "teacher",
) -> dict[str, list[float]]:
    """The F1 interval of each benchmark row whose F1 is one `evaluate` scored
    with a bootstrap: this pipeline's rows against `test`, the teacher's
    against `teacher`, each only if the two F1s are the same number (the same
    predictions scored on the same documents).

    RETURNS (Dict[str, List[float]]): benchmark name → [lo, hi].
    """
    found: dict[str, list[float]] = {}
    for row in benchmark["pipelines"]:
        source = test if row["name"] in own_names else teacher if row["name"] == teacher_name else None
        if source is None or row.get("f1") is None:
            continue
        interval = _intervals_of(source.get("bootstrap"), "strict", None).get("f")
        if interval is not None and abs(source["micro"]["f"] - row["f1"]) < 1e-9:
            found[row["name"]] = list(interval)
    return found


def plot_f1_vs_speed(
    benchmark: Mapping[str, Any],
    path: str | Path,
    *,
    own_names: Collection[str] = (),
    f1_intervals: Mapping[str, Sequence[float]] | None = None,
) -> Path:
    """Strict micro F1 (y) against words/s at the key batch size (x), one
    labelled point per pipeline with both; this pipeline's rows in red.
    Whole axes (F1 from 0 to 1, words/s from 0), so a small difference is
    drawn small; error bars: words/s from the slowest to the fastest timed
    pass, F1 its interval where `f1_intervals` has one.

    f1_intervals (Optional[Mapping[str, Sequence[float]]]): benchmark name → F1 [lo, hi]
        (`speed_f1_intervals`).
    RETURNS (Path): the PNG file (written atomically).
    """
    plt = pyplot()
    key = benchmark_key(benchmark)
    f1_intervals = f1_intervals or {}
    points = [
        (wps, row["f1"], row["name"], (row.get("throughput") or {}).get(str(key)) or {})
        for row in benchmark["pipelines"]
        if row.get("f1") is not None and (wps := _words_per_second(row, key)) is not None
    ]
    fig, ax = plt.subplots(figsize=(6, 4.2))
    # Labels alternate above and below along x, so that neighbours (fp32 and int8) do not overprint.
    for i, (wps, f1, name, passes) in enumerate(sorted(points, key=lambda p: (p[0], p[2]))):
        color = "C3" if name in own_names else "C0"
        has_range = passes.get("min") is not None and passes.get("max") is not None
        xerr = error_bars([wps], [[passes["min"], passes["max"]] if has_range else None])
        yerr = error_bars([f1], [f1_intervals.get(name)])
        ax.errorbar([wps], [f1], xerr=xerr, yerr=yerr, fmt="o", markersize=7, color=color, ecolor=color, capsize=3)
        ax.annotate(name, (wps, f1), textcoords="offset points", xytext=(6, 5 if i % 2 == 0 else -12), fontsize=8)
    top = max((max(p[0], p[3].get("max") or 0.0) for p in points), default=1.0)
    ax.set_xlim(0, top * 1.15)
    ax.set_ylim(0, 1)
    ax.set_xlabel(f"words/s (nlp.pipe, batch size {key}, median; bars: slowest to fastest pass)", fontsize=9)
    ax.set_ylabel("strict micro F1")
    ax.set_title("F1 against speed on CPU (F1 bars: 95% interval, where known)", fontsize=10)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return save_png(fig, path)


def plot_fragmentation(fragmentation: Mapping[str, Any], path: str | Path) -> Path:
    """Grouped bars: mean wordpieces per entity word before and after the
    vocabulary extension, per type and over all types.

    RETURNS (Path): the PNG file (written atomically).
    """
    plt = pyplot()
    words = fragmentation["entity_words"]
    names = [name for name in words if name != "ALL"] + (["ALL"] if "ALL" in words else [])
    before = [words[name]["before"]["mean_pieces"] for name in names]
    after = [words[name]["after"]["mean_pieces"] for name in names]
    xs = range(len(names))
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.bar([x - 0.2 for x in xs], before, width=0.4, label="before")
    ax.bar([x + 0.2 for x in xs], after, width=0.4, label="after")
    ax.set_xticks(list(xs), names)
    ax.set_ylim(0, max([*before, *after, 1.0]) * 1.15)
    ax.set_ylabel("wordpieces per entity word (mean)")
    ax.set_title("Fragmentation of entity words, before and after the vocabulary extension", fontsize=9)
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return save_png(fig, path)


def draw_plots(
    test: Mapping[str, Any],
    paths: Mapping[str, Path],
    *,
    benchmark: Mapping[str, Any] | None = None,
    fragmentation: Mapping[str, Any] | None = None,
    vocab_size: int | None = None,
    own_names: Collection[str] = (),
    f1_intervals: Mapping[str, Sequence[float]] | None = None,
) -> list[str]:
    """Draw the plots there is data for, and that describe this model.

    test (Mapping[str, Any]): `evaluate` output on the test set (F1 always drawn;
        the reliability diagram when it holds `calibration`).
    paths (Mapping[str, Path]): plot name (PLOTS) → PNG path.
    benchmark (Optional[Mapping[str, Any]]): `benchmark-compare` output; None: no speed plot.
    fragmentation (Optional[Mapping[str, Any]]): fragmentation.json; drawn only when
        `vocab_size` says this model uses the extension (`uses_extension`).
    vocab_size (Optional[int]): this model's vocabulary size; None: not known (no fragmentation plot).
    own_names (Collection[str]): benchmark names of this pipeline's rows, highlighted.
    f1_intervals (Optional[Mapping[str, Sequence[float]]]): benchmark name → F1 interval.
    RETURNS (List[str]): the names of the plots drawn.
    """
    plot_f1_per_type(test, paths[PLOT_F1])
    drawn = [PLOT_F1]
    if (test.get("calibration") or {}).get("n"):
        plot_calibration(test, paths[PLOT_CALIBRATION])
        drawn.append(PLOT_CALIBRATION)
    if benchmark is not None:
        plot_f1_vs_speed(benchmark, paths[PLOT_SPEED], own_names=own_names, f1_intervals=f1_intervals)
        drawn.append(PLOT_SPEED)
    if uses_extension(fragmentation, vocab_size) and fragmentation.get("entity_words"):
        plot_fragmentation(fragmentation, paths[PLOT_FRAGMENTATION])
        drawn.append(PLOT_FRAGMENTATION)
    return drawn


def read_input(path: Path, what: str) -> dict[str, Any]:
    """Read a JSON object the card needs.

    path (Path): the file.
    what (str): what it is, for the error (e.g. "test metrics").
    RETURNS (Dict[str, Any]): its content.
    RAISES ClinkdError: E261 (cannot be read), E262 (not a JSON object).
    """
    try:
        text = Path(path).read_text(encoding="utf8")
    except (OSError, UnicodeDecodeError) as err:
        reason = getattr(err, "strerror", None) or type(err).__name__
        raise ClinkdError(Errors.E261.format(what=what, path=path, reason=reason)) from None
    try:
        data = json.loads(text)
    except ValueError as err:
        raise ClinkdError(Errors.E262.format(path=path, what=what, problem=f"not valid JSON ({err})")) from None
    if not isinstance(data, dict):
        raise ClinkdError(Errors.E262.format(path=path, what=what, problem="not a JSON object"))
    return data


def _check_keys(data: Mapping[str, Any], keys: Sequence[str], path: Path, what: str) -> None:
    missing = [key for key in keys if key not in data]
    if missing:
        problem = f"it has no {', '.join(repr(k) for k in missing)}"
        raise ClinkdError(Errors.E262.format(path=path, what=what, problem=problem))


def saved_setting(pipeline_dir: Path, factory: str, key: str) -> str | None:
    """RETURNS (Optional[str]): the `key` setting of the `factory` component
    saved in `pipeline_dir/config.cfg`, None if there is none."""
    from ..pipeline.loading import pipeline_config

    config_path = Path(pipeline_dir) / "config.cfg"
    if not config_path.is_file():
        return None
    try:
        config = pipeline_config(pipeline_dir)
    except (OSError, ValueError, configparser.Error) as err:
        raise ClinkdError(Errors.E262.format(path=config_path, what="pipeline config", problem=err)) from None
    for component in (config.get("components") or {}).values():
        if component.get("factory") == factory and component.get(key):
            return str(component[key])
    return None


def saved_inference(pipeline_dir: Path) -> str | None:
    """RETURNS (Optional[str]): clinkd_ner's saved `inference` setting, if any."""
    return saved_setting(pipeline_dir, "clinkd_ner", "inference")


OPTIONAL_INPUTS = {
    "dev": "dev metrics",
    "external": "external metrics",
    "teacher": "teacher metrics",
    "benchmark": "benchmark",
    "fragmentation": "fragmentation report",
    "transfer": "transfer report",
}


def write_model_card(
    output_dir: str | Path,
    *,
    test: str | Path,
    meta: str | Path,
    dev: str | Path | None = None,
    external: str | Path | None = None,
    external_name: str = "BC5CDR test",
    teacher: str | Path | None = None,
    benchmark: str | Path | None = None,
    fragmentation: str | Path | None = None,
    transfer_report: str | Path | None = None,
    encoder: str | Path | None = None,
    project: str | Path | None = None,
    speed_pipelines: Sequence[str] = (),
    speed_teacher: str = "teacher",
    speed_baseline: str = "cnn-ner",
) -> dict[str, Any]:
    """Read the metrics JSON files and write README.md and its plots into
    `output_dir` (the pipeline directory `spacy package` packages).

    An optional input that is not given, or given but not on disk (a step
    not run yet), is reported as not measured, naming the path; a plot left
    from an earlier card whose data is now missing is removed, so the package
    never ships a stale plot.

    output_dir (Union[str, Path]): the folder to write into (created if needed).
    test (Union[str, Path]): `evaluate` output on MACCROBAT test (required).
    meta (Union[str, Path]): configs/meta.json (required).
    dev, external, teacher, benchmark, fragmentation, transfer_report
        (Optional[Union[str, Path]]): the optional inputs (module docstring).
    encoder (Optional[Union[str, Path]]): the encoder directory the student
        was trained from; its vocabulary size says whether the model uses
        the vocabulary extension (required to exist when given); None: not
        known, and the fragmentation plot is left out.
    project (Optional[Union[str, Path]]): the project directory, for the
        provenance (git commit, data checksums of project.lock or project.yml);
        None: the card says those were not recorded (seeds and date still are).
    external_name (str): the external set's name.
    speed_pipelines (Sequence[str]): benchmark names of this pipeline's rows;
        empty: the rows loaded as the package name or as `output_dir`.
    speed_teacher, speed_baseline (str): benchmark names of the teacher and the CNN baseline.
    RETURNS (Dict[str, Any]): {"readme": Path, "plots": [Path], "not_measured": {input: reason}}.
    RAISES ClinkdError: E261 (a required input cannot be read), E262 (an input
        is not what the card expects), E020/E021 (an output cannot be written
        or is an input).
    """
    output_dir = Path(output_dir)
    given = {
        "test": test, "meta": meta, "dev": dev, "external": external, "teacher": teacher,
        "benchmark": benchmark, "fragmentation": fragmentation, "transfer": transfer_report,
    }
    inputs = {name: None if p is None else Path(p) for name, p in given.items()}
    check_output_dir(output_dir, inputs=inputs)
    readme = check_output_file(output_dir / README, inputs=inputs)
    plot_paths = {name: check_output_file(output_dir / name, inputs=inputs) for name in PLOTS}

    test_path, meta_path = Path(test), Path(meta)
    test_data = read_input(test_path, "test metrics")
    _check_keys(test_data, ("per_label", "micro"), test_path, "test metrics (the output of `evaluate`)")
    meta_data = read_input(meta_path, "meta.json")
    _check_keys(meta_data, META_KEYS, meta_path, "meta.json")
    loaded: dict[str, dict[str, Any] | None] = {}
    reasons: dict[str, str] = {}
    for key, what in OPTIONAL_INPUTS.items():
        path = inputs[key]
        if path is None:
            loaded[key], reasons[key] = None, f"no {what} given"
        elif not path.exists():
            loaded[key], reasons[key] = None, f"no file at {path}"
        else:
            loaded[key] = read_input(path, what)
    for key in ("dev", "external", "teacher"):
        if loaded[key] is not None:
            _check_keys(loaded[key], ("per_label", "micro"), inputs[key], f"{OPTIONAL_INPUTS[key]} (the output of `evaluate`)")
    if loaded["benchmark"] is not None:
        _check_keys(loaded["benchmark"], ("pipelines",), inputs["benchmark"], "benchmark (the output of `benchmark-compare`)")

    # read before any plot is written: a bad --encoder must not leave half an output behind
    vocab_size = None if encoder is None else encoder_vocab_size(encoder)
    own_models = (package_name(meta_data), str(output_dir))
    own = [] if loaded["benchmark"] is None else own_rows(loaded["benchmark"], names=speed_pipelines, models=own_models)
    own_names = [row["name"] for row in own]
    f1_intervals = None
    if loaded["benchmark"] is not None:
        f1_intervals = speed_f1_intervals(
            loaded["benchmark"], own_names=own_names, test=test_data, teacher=loaded["teacher"], teacher_name=speed_teacher
        )
    drawn = draw_plots(
        test_data,
        plot_paths,
        benchmark=loaded["benchmark"],
        fragmentation=loaded["fragmentation"],
        vocab_size=vocab_size,
        own_names=own_names,
        f1_intervals=f1_intervals,
    )
    for name in PLOTS:
        if name not in drawn and plot_paths[name].exists():
            try:
                plot_paths[name].unlink()
            except OSError as err:
                raise write_error(plot_paths[name], err) from None
    default_inference = saved_inference(output_dir)
    assertion_backend = saved_setting(output_dir, "clinkd_assertion", "backend")
    provenance = read_provenance(
        pipeline_dir=output_dir, project_dir=project, test=test_data, teacher=loaded["teacher"], transfer=loaded["transfer"]
    )
    text = model_card_markdown(
        meta_data,
        test_data,
        dev=loaded["dev"],
        external=loaded["external"],
        external_name=external_name,
        teacher=loaded["teacher"],
        benchmark=loaded["benchmark"],
        fragmentation=loaded["fragmentation"],
        transfer=loaded["transfer"],
        plots=drawn,
        own_names=speed_pipelines,
        own_models=own_models,
        speed_teacher=speed_teacher,
        speed_baseline=speed_baseline,
        default_inference=default_inference,
        assertion_backend=assertion_backend,
        vocab_size=vocab_size,
        provenance=provenance,
        reasons=reasons,
    )
    write_text_atomic(readme, text)
    return {"readme": readme, "plots": [plot_paths[name] for name in drawn], "not_measured": reasons}
