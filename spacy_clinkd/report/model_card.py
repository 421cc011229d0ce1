"""The model card of the packaged pipeline: a README.md (which `spacy package`
copies into the package instead of generating one from meta.json) and its
plots, from the metrics JSON files the project already writes.

The wording is the jinja2 template `templates/model_card.md.jinja`; the
corpus facts (the test set's name, what each type is, the external sets'
names and notes) are configs/model_card.yml (`card_data.read_facts`); the
numbers are the inputs (all already-loaded dicts in the pure functions):

- `meta`: configs/meta.json (`lang`, `name`, `version`, `description`,
  `license`, `sources`; `requirements` if any). Required.
- `test`: the `evaluate` output on the test set (`per_label`, `micro`,
  `lenient`, `bootstrap`, `n_docs`, `assertion` with its per-class
  `bootstrap`, `calibration` of the entity scores). Required.
- optional: `dev` (evaluate on dev, for its assertion scores), `externals`
  (evaluate on external test sets, each with its name), `teacher` (evaluate
  of the teacher on the same test set, for the teacher ratio), `benchmark`
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
known limits, plots (`card_plots`).
"""
from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import ClinkdError, Errors
from ..evaluation.calibration import SPANS_KEY
from ..evaluation.metrics import prf
from ..paths import check_output_dir, check_output_file, write_error, write_text_atomic
from .card_data import (
    DEFAULT_FACTS,
    META_KEYS,
    assertion_kind,
    assertion_macro_f,
    benchmark_key,
    check_keys,
    default_external_name,
    encoder_vocab_size,
    external_note,
    intervals_of,
    non_commercial_licences,
    own_rows,
    package_name,
    read_facts,
    read_input,
    saved_setting,
    scored_types,
    speed_f1_intervals,
    teacher_ratio,
    uses_extension,
    words_per_second,
)
from .card_plots import PLOT_CALIBRATION, PLOT_F1, PLOT_FRAGMENTATION, PLOT_SPEED, PLOTS, draw_plots
from .provenance import read_provenance
from .tables import interval_cell, label_rows, score_table, table

README = "README.md"
TEMPLATE = "model_card.md.jinja"
TEMPLATES = Path(__file__).parent / "templates"
OPTIONAL_INPUTS = {
    "dev": "dev metrics",
    "external": "external metrics",
    "teacher": "teacher metrics",
    "benchmark": "benchmark",
    "fragmentation": "fragmentation report",
    "transfer": "transfer report",
}
DEFAULT_REASONS = {
    "teacher": "no teacher metrics given",
    "external": "no external metrics given",
    "dev": "no dev metrics given",
    "benchmark": "no benchmark given",
    "transfer": "no transfer report given",
    "fragmentation": "no fragmentation report given",
}


# `card_data.assertion_kind` values whose assertion a trained classifier decides
LEARNED_ASSERTION = ("learned", "linear", "hybrid", "hybrid_kept")

def not_measured(what: str, reason: str) -> str:
    """RETURNS (str): the line of a section (or part of one) with no input."""
    return f"{what}: not measured ({reason})."


def bootstrap_line(boot: Mapping[str, Any] | None) -> str:
    """RETURNS (str): how the intervals in brackets were computed, or that there are none."""
    if not boot:
        return "No bootstrap intervals were computed for these scores."
    return (
        f"In brackets: {100 * boot['confidence']:g}% percentile bootstrap intervals over documents "
        f"({boot['n_samples']} samples)."
    )


def _docs(metrics: Mapping[str, Any]) -> str:
    n_docs = metrics.get("n_docs")
    return f"{n_docs} documents, " if n_docs is not None else ""


def _test(test: Mapping[str, Any]) -> dict[str, Any]:
    boot = test.get("bootstrap")
    lenient = test.get("lenient")
    return {
        "docs": _docs(test),
        "support": test["micro"]["support"],
        "bootstrap": bootstrap_line(boot),
        "strict": score_table(label_rows(test, (boot or {}).get("strict"))),
        "lenient": None if lenient is None else score_table(label_rows(lenient, (boot or {}).get("lenient"))),
    }


def _teacher(test: Mapping[str, Any], teacher: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if teacher is None:
        return None
    same_data = (test.get("data") or {}).get("path") == (teacher.get("data") or {}).get("path")
    other = None
    if teacher.get("n_docs") != test.get("n_docs") or not same_data:
        other = {"path": (teacher.get("data") or {}).get("path"), "n_docs": teacher.get("n_docs")}
    return {
        "ratio": teacher_ratio(test, teacher),
        "student_f": test["micro"]["f"],
        "teacher_f": teacher["micro"]["f"],
        "other": other,
    }


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


def _calibration(test: Mapping[str, Any]) -> dict[str, Any] | None:
    calibration = test.get("calibration")
    if not calibration or not calibration.get("n"):
        return None
    bins = [
        [f"{row['lo']:.1f}–{row['hi']:.1f}", row["n"], row["right"], interval_cell(row["accuracy"], row.get("interval")),
         f"{row['mean_score']:.3f}"]
        for row in calibration["bins"]
        if row["n"]
    ]
    right = sum(row["right"] for row in calibration["bins"])
    everything = {"threshold": None, "kept": calibration["n"], "share_kept": 1.0,
                  **prf(right, calibration["n"] - right, calibration["n_gold"] - right)}
    thresholds = [
        ["(all)" if row["threshold"] is None else f"{row['threshold']:g}", row["kept"], f"{100 * row['share_kept']:.0f}%",
         f"{row['p']:.3f}", f"{row['r']:.3f}", f"{row['f']:.3f}"]
        for row in [everything, *calibration["thresholds"]]
    ]
    n_docs = test.get("n_docs")
    return {
        "n": calibration["n"],
        "n_gold": calibration["n_gold"],
        "unscored": calibration.get("unscored"),
        "verdict": calibration_verdict(calibration),
        "bins": table(["score", "entities", "right", "fraction right [95% interval]", "mean score"], bins),
        "thresholds": table(["keep entities with score ≥", "kept", "share of predicted", "P", "R", "F1"], thresholds),
        "docs": f"{n_docs} documents" if n_docs is not None else "a small test set",
    }


def _external(name: str, metrics: Mapping[str, Any], facts: Mapping[str, Any]) -> dict[str, Any]:
    """One external set's paragraph and row block: strict and lenient scores per scored type."""
    boot = metrics.get("bootstrap")
    rows = [
        (f"{scoring} {label}", row, intervals_of(boot, scoring, label))
        for scoring, scores in (("strict", metrics), ("lenient", metrics.get("lenient")))
        if scores is not None
        for label, row in scores["per_label"].items()
    ]
    return {
        "name": name,
        "docs": _docs(metrics),
        "support": metrics["micro"]["support"],
        "types": scored_types(metrics),
        "note": external_note(name, facts),
        "bootstrap": bootstrap_line(boot),
        "table": score_table(rows, first="scoring"),
    }


def _assertion(metrics: Mapping[str, Any] | None, split: str, missing: str, note: str | None = None) -> dict[str, Any]:
    """The assertion block of one split (with `note` under its heading), or why it is missing."""
    if metrics is None or not metrics.get("assertion"):
        return {"split": split, "missing": missing}
    on_gold = metrics["assertion"]["on_gold_entities"]
    boot = on_gold.get("bootstrap")
    intervals = (boot or {}).get("per_class") or {}
    per_class = on_gold["per_class"]
    rarest = min(per_class, key=lambda name: per_class[name]["support"], default=None)
    found = None
    if rarest is not None:
        f_interval = (intervals.get(rarest) or {}).get("f")
        found = {
            "name": rarest,
            "support": per_class[rarest]["support"],
            "f1": interval_cell(per_class[rarest]["f"], f_interval),
            "tail": "; the fewer the entities, the wider the interval." if f_interval is not None else " (no interval computed).",
        }
    end_to_end = metrics["assertion"].get("end_to_end")
    contexts = metrics["assertion"].get("context_on_gold_entities")
    context_table = None
    if contexts:
        context_boot = (contexts.get("bootstrap") or {}).get("per_class") or {}
        context_table = score_table(
            label_rows({"per_label": contexts["per_class"]}, {"per_label": context_boot}), first="category"
        )
    return {
        "split": split,
        "missing": None,
        "note": note,
        "n": on_gold["n"],
        "accuracy": on_gold["accuracy"],
        "table": score_table(label_rows({"per_label": per_class}, {"per_label": intervals}), first="class"),
        "bootstrap": bootstrap_line(boot),
        "rarest": found,
        "end_to_end": end_to_end["micro"]["f"] if end_to_end and end_to_end.get("micro") else None,
        "context_table": context_table,
    }


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


def _speed(
    benchmark: Mapping[str, Any] | None,
    *,
    own_names: Collection[str],
    own_models: Collection[str],
    teacher_name: str,
    baseline_name: str,
    default_inference: str | None,
) -> dict[str, Any] | None:
    """Speed on CPU: words/s of this pipeline against the teacher and the CNN
    baseline, from one `benchmark-compare` run (None: not measured)."""
    if benchmark is None:
        return None
    key = benchmark_key(benchmark)
    by_name = {row["name"]: row for row in benchmark["pipelines"]}
    teacher, baseline = by_name.get(teacher_name), by_name.get(baseline_name)
    teacher_wps = None if teacher is None else words_per_second(teacher, key)
    baseline_wps = None if baseline is None else words_per_second(baseline, key)
    own = own_rows(benchmark, names=own_names, models=own_models)
    own_ids = {row["name"] for row in own}
    rows = []
    for row in benchmark["pipelines"]:
        wps = words_per_second(row, key)
        latency = row.get("latency_ms") or {}
        rows.append([
            f"**{row['name']}** (this pipeline)" if row["name"] in own_ids else row["name"],
            row.get("precision", "–"),
            "–" if wps is None else f"{wps:,.0f}",
            _ratio(wps, teacher_wps),
            _ratio(wps, baseline_wps),
            "–" if row.get("f1") is None else f"{row['f1']:.3f}",
            f"{latency['p50']:.0f} / {latency['p95']:.0f}" if "p50" in latency and "p95" in latency else "–",
        ])
    own_lines = []
    for row in own:
        wps = words_per_second(row, key)
        if wps is None:
            continue
        against = []
        if teacher_wps:
            against.append(f"{wps / teacher_wps:.2f}× the teacher's {teacher_wps:,.0f}")
        if baseline_wps:
            against.append(f"{wps / baseline_wps:.2f}× the CNN baseline's {baseline_wps:,.0f}")
        own_lines.append({
            "name": row["name"],
            "precision": row.get("precision", "?"),
            "default": " (the default)" if default_inference and row.get("precision") == default_inference else "",
            "wps": wps,
            "against": against,
        })
    header = ["pipeline", "precision", "words/s", "÷ teacher", "÷ CNN", "strict micro F1", "latency p50 / p95 ms"]
    return {
        "key": key,
        "table": table(header, rows, align="llrrrrr"),
        "has_teacher": teacher is not None,
        "has_baseline": baseline is not None,
        "teacher_name": teacher_name,
        "baseline_name": baseline_name,
        "own_missing": None if own else ", ".join(own_names or own_models),
        "own": own_lines,
        "machine": _machine_line(benchmark.get("machine") or {}, benchmark.get("settings") or {}),
    }


def _sources(meta: Mapping[str, Any]) -> list[str]:
    rows = []
    for source in meta["sources"]:
        name = str(source.get("name", "?"))
        if source.get("url"):
            name = f"[{name}]({source['url']})"
        rows.append([name, source.get("license", "not stated"), source.get("author", "")])
    return table(["source", "licence", "author"], rows, align="lll")


def _transfer(transfer: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if transfer is None:
        return None
    written = transfer.get("licences_written") or {}
    return {
        "written": transfer.get("written", sum(written.values())),
        "table": table(["licence", "notes"], written.items()),
        "kept": transfer.get("licences") or [],
        "unstated": written.get("unstated"),
    }


def _short(text: str) -> str:
    """A source's name or licence up to its first parenthesis or comma (the
    licences table has the rest): "CC BY-NC (per-document licences: …)" → "CC BY-NC"."""
    return re.split(r" \(|, ", str(text), maxsplit=1)[0].strip()


def _provenance(provenance: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Code version and commit, build date, seeds, data checksums (None: not recorded)."""
    if provenance is None:
        return None
    commit = provenance["commit"]
    if provenance.get("project") is None:
        code = "git commit not recorded (no project directory given)"
    elif commit == "unknown":
        code = "git commit unknown (not built from a git checkout)"
    else:
        code = f"git commit `{commit}`"
        if provenance.get("dirty"):
            code += " **with uncommitted changes** (the commit alone does not reproduce it)"
    data = provenance.get("data")
    missing = None
    assets: list[str] = []
    if provenance.get("project") is None:
        missing = "no project directory given"
    elif not data or not data.get("assets"):
        missing = f"no project.lock, and no project.yml assets that a command reads, in {provenance['project']}"
    elif data["source"] == "project.lock":
        rows = []
        for row in data["assets"]:
            pinned = row.get("pinned")
            check = "–" if not pinned else ("same" if pinned == row["md5"] else f"**differs**: `{pinned}`")
            rows.append([row["path"], f"`{row['md5']}`", check, ", ".join(row["commands"])])
        assets = table(["asset", "MD5 read", "pinned in project.yml", "read by"], rows, align="llll")
    else:
        rows = [[row["path"], f"`{row['md5']}`", ", ".join(row["commands"])] for row in data["assets"]]
        assets = table(["asset", "MD5 pinned", "read by"], rows, align="lll")
    seeds = provenance.get("seeds") or {}
    trained = provenance.get("trained_at")
    if trained is None:
        trained_line = None
    elif trained["commit"] == "unknown":  # not the card's commit, even if that is unknown too
        trained_line = "at an unknown git commit (distill did not run in a git checkout)"
    elif trained["commit"] == commit and not trained.get("dirty"):
        trained_line = "at the same commit"
    else:
        trained_line = f"at git commit `{trained['commit']}`"
        if trained.get("dirty"):
            trained_line += " **with uncommitted changes**"
        trained_line += " (the card was written at another)" if trained["commit"] != commit else ""
    return {
        "code": code,
        "trained": trained_line,
        "versions": ", ".join(f"{name} {version}" for name, version in (provenance.get("versions") or {}).items()),
        "date": provenance["date"],
        "seeds": "; ".join(f"{what}: {seed}" for what, seed in seeds.items()),
        "data_missing": missing,
        "from_lock": bool(data) and data.get("source") == "project.lock",
        "assets": assets,
    }


def _limits(test: Mapping[str, Any], *, facts: Mapping[str, Any], assertion_backend: str) -> dict[str, Any]:
    """The measured numbers the known limits rest on."""
    learned = assertion_backend in LEARNED_ASSERTION
    per_class = ((test.get("assertion") or {}).get("on_gold_entities") or {}).get("per_class") or {}
    n_docs = test.get("n_docs")
    return {
        "strict_f": test["micro"]["f"],
        "lenient_f": ((test.get("lenient") or {}).get("micro") or {}).get("f"),
        "assertion_how": (
            facts["assertion"][assertion_backend] if learned else "rule-based (NegEx-style cues and scopes, not learnt)"
        ),
        "assertion_f": assertion_macro_f(test),
        "assertion_classes": ", ".join(f"{name} {row['f']:.3f}" for name, row in per_class.items()),
        "assertion_caveat": (
            facts["assertion"]["learned_caveat"] if learned else "Negations and hedges it has no cue for are called present."
        ),
        "size": f"{n_docs} documents" if n_docs is not None else "small",
        "interval": intervals_of(test.get("bootstrap"), "strict", None).get("f"),
    }


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


def _fragmentation(
    fragmentation: Mapping[str, Any] | None, vocab_size: int | None, plots: Collection[str]
) -> dict[str, Any] | None:
    if fragmentation is None:
        return None
    if PLOT_FRAGMENTATION not in plots:
        return {"left_out": fragmentation_left_out(fragmentation, vocab_size)}
    return {
        "sentence": fragmentation_sentence(fragmentation),
        "vocabulary": None if vocab_size is None else vocabulary_sentence(fragmentation, vocab_size),
    }


def render(context: Mapping[str, Any]) -> str:
    """The template filled with `context`, ending with one newline.

    RETURNS (str): markdown.
    """
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=False,  # markdown, not HTML
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["fmt"] = format
    env.globals["not_measured"] = not_measured
    return env.get_template(TEMPLATE).render(**context).rstrip("\n") + "\n"


def model_card_markdown(
    meta: Mapping[str, Any],
    test: Mapping[str, Any],
    *,
    facts: Mapping[str, Any],
    dev: Mapping[str, Any] | None = None,
    externals: Sequence[tuple[str, Mapping[str, Any]]] = (),
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
    test (Mapping[str, Any]): `evaluate` output on the test set.
    facts (Mapping[str, Any]): configs/model_card.yml (`card_data.read_facts`).
    externals (Sequence[Tuple[str, Mapping[str, Any]]]): (name, `evaluate`
        output) per external set, in order; empty: not measured.
    dev, teacher, benchmark, fragmentation, transfer (Optional[Mapping[str, Any]]):
        the optional inputs (module docstring); None: that part is not measured.
    plots (Collection[str]): the plot files drawn, referenced by relative path.
    own_names, own_models (Collection[str]): which benchmark rows are this
        pipeline; `own_models` defaults to the package name.
    speed_teacher, speed_baseline (str): the benchmark names of teacher and CNN baseline.
    default_inference (Optional[str]): the package's default precision, if known.
    assertion_backend (Optional[str]): how clinkd_assertion decides (`card_data.assertion_kind`:
        "rules", "learned", "linear", "hybrid" or "hybrid_kept"; "rules" if unknown).
    vocab_size (Optional[int]): this model's vocabulary size (`encoder_vocab_size`), if known.
    provenance (Optional[Mapping[str, Any]]): `provenance.read_provenance` output; None: not recorded.
    reasons (Optional[Mapping[str, str]]): input key → why it is missing, for
        the "not measured" lines (default: not given).
    RETURNS (str): markdown, ending with a newline.
    """
    own_models = own_models or (package_name(meta),)
    non_commercial = non_commercial_licences(transfer)
    names = {PLOT_F1: "f1", PLOT_CALIBRATION: "calibration", PLOT_SPEED: "speed", PLOT_FRAGMENTATION: "fragmentation"}
    context = {
        "facts": facts,
        "name": package_name(meta),
        "version": meta["version"],
        "description": str(meta["description"]).strip(),
        "requirements": meta.get("requirements") or [],
        "labels": list(test["per_label"]),
        "default_inference": default_inference,
        "test_name": facts["test_name"],
        "test": _test(test),
        "teacher": _teacher(test, teacher),
        "spans_key": SPANS_KEY,
        "calibration": _calibration(test),
        "external": [_external(name, metrics, facts) for name, metrics in externals],
        # some external sets scored, others not on disk
        "external_missing": (reasons or {}).get("external") if externals else None,
        "assertion": [
            _assertion(test, "Test", "the test metrics hold no assertion scores"),
            _assertion(
                dev, "Dev", (reasons or {}).get("dev", DEFAULT_REASONS["dev"]) if dev is None
                else "the dev metrics hold no assertion scores",
                # a learned classifier is fitted on train and dev: its dev scores are in-sample
                note=facts["assertion"]["learned_dev"] if assertion_backend in LEARNED_ASSERTION else None,
            ),
        ],
        "speed": _speed(
            benchmark, own_names=own_names, own_models=own_models, teacher_name=speed_teacher,
            baseline_name=speed_baseline, default_inference=default_inference,
        ),
        "licence": meta["license"],
        "licence_plain": str(meta["license"]).rstrip("."),
        "sources": _sources(meta),
        "transfer": _transfer(transfer),
        "non_commercial": non_commercial,
        "short_sources": "; ".join(
            f"{_short(source.get('name', '?'))}: {_short(source.get('license', 'not stated'))}" for source in meta["sources"]
        ),
        "provenance": _provenance(provenance),
        "limits": _limits(test, facts=facts, assertion_backend=assertion_backend or "rules"),
        "plots": {names[plot]: plot for plot in plots},
        "fragmentation": _fragmentation(fragmentation, vocab_size, plots),
        "reasons": {**DEFAULT_REASONS, **(reasons or {})},
    }
    return render(context)


def _external_inputs(
    externals: Sequence[str | Path], names: Sequence[str]
) -> list[tuple[Path, str | None]]:
    """Pair the external sets with their names, in order; RAISES ClinkdError E264 on a count mismatch."""
    if names and len(names) != len(externals):
        raise ClinkdError(Errors.E264.format(n_names=len(names), n_sets=len(externals)))
    return [(Path(path), names[i] if names else None) for i, path in enumerate(externals)]


def write_model_card(
    output_dir: str | Path,
    *,
    test: str | Path,
    meta: str | Path,
    facts: str | Path = DEFAULT_FACTS,
    dev: str | Path | None = None,
    external: str | Path | Sequence[str | Path] | None = None,
    external_name: str | Sequence[str] | None = None,
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
    test (Union[str, Path]): `evaluate` output on the test set (required).
    meta (Union[str, Path]): configs/meta.json (required).
    facts (Union[str, Path]): the corpus facts (required; default
        configs/model_card.yml, relative to the working directory).
    external (Union[str, Path, Sequence]): `evaluate` outputs on external sets,
        one or several; a set not on disk is left out (and reported).
    external_name (Union[str, Sequence[str], None]): their names, one per set
        in the same order; None: each takes its name from its metrics
        (`card_data.default_external_name`).
    dev, teacher, benchmark, fragmentation, transfer_report
        (Optional[Union[str, Path]]): the optional inputs (module docstring).
    encoder (Optional[Union[str, Path]]): the encoder directory the student
        was trained from; its vocabulary size says whether the model uses
        the vocabulary extension (required to exist when given); None: not
        known, and the fragmentation plot is left out.
    project (Optional[Union[str, Path]]): the project directory, for the
        provenance (git commit, data checksums of project.lock or project.yml);
        None: the card says those were not recorded (seeds and date still are).
    speed_pipelines (Sequence[str]): benchmark names of this pipeline's rows;
        empty: the rows loaded as the package name or as `output_dir`.
    speed_teacher, speed_baseline (str): benchmark names of the teacher and the CNN baseline.
    RETURNS (Dict[str, Any]): {"readme": Path, "plots": [Path], "not_measured": {input: reason}}.
    RAISES ClinkdError: E261 (a required input cannot be read), E262 (an input
        is not what the card expects), E263 (no facts file), E264 (external
        sets and names do not pair up), E020/E021 (an output cannot be written
        or is an input).
    """
    output_dir = Path(output_dir)
    externals = [] if external is None else [external] if isinstance(external, (str, Path)) else list(external)
    names = [] if external_name is None else [external_name] if isinstance(external_name, str) else list(external_name)
    paired = _external_inputs(externals, names)
    given = {
        "test": test, "meta": meta, "dev": dev, "teacher": teacher,
        "benchmark": benchmark, "fragmentation": fragmentation, "transfer": transfer_report,
        **{"external" if len(paired) == 1 else f"external {i + 1}": path for i, (path, _) in enumerate(paired)},
    }
    inputs = {name: None if p is None else Path(p) for name, p in given.items()}
    check_output_dir(output_dir, inputs=inputs)
    readme = check_output_file(output_dir / README, inputs=inputs)
    plot_paths = {name: check_output_file(output_dir / name, inputs=inputs) for name in PLOTS}

    test_path, meta_path = Path(test), Path(meta)
    test_data = read_input(test_path, "test metrics")
    check_keys(test_data, ("per_label", "micro"), test_path, "test metrics (the output of `evaluate`)")
    meta_data = read_input(meta_path, "meta.json")
    check_keys(meta_data, META_KEYS, meta_path, "meta.json")
    facts_data = read_facts(facts)
    loaded: dict[str, dict[str, Any] | None] = {}
    reasons: dict[str, str] = {}
    for key, what in OPTIONAL_INPUTS.items():
        path = inputs.get(key)
        if key == "external":
            continue
        if path is None:
            loaded[key], reasons[key] = None, f"no {what} given"
        elif not path.exists():
            loaded[key], reasons[key] = None, f"no file at {path}"
        else:
            loaded[key] = read_input(path, what)
    external_sets = []
    missing = []
    for path, name in paired:
        if not path.exists():
            missing.append(f"no file at {path}")
            continue
        data = read_input(path, "external metrics")
        check_keys(data, ("per_label", "micro"), path, "external metrics (the output of `evaluate`)")
        external_sets.append((name or default_external_name(data, path, facts_data), data))
    if not paired:
        reasons["external"] = "no external metrics given"
    elif missing:
        reasons["external"] = "; ".join(missing)
    for key in ("dev", "teacher"):
        if loaded[key] is not None:
            check_keys(loaded[key], ("per_label", "micro"), inputs[key], f"{OPTIONAL_INPUTS[key]} (the output of `evaluate`)")
    if loaded["benchmark"] is not None:
        check_keys(loaded["benchmark"], ("pipelines",), inputs["benchmark"], "benchmark (the output of `benchmark-compare`)")

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
        test_name=facts_data["test_name"],
    )
    for name in PLOTS:
        if name not in drawn and plot_paths[name].exists():
            try:
                plot_paths[name].unlink()
            except OSError as err:
                raise write_error(plot_paths[name], err) from None
    provenance = read_provenance(
        pipeline_dir=output_dir, project_dir=project, test=test_data, teacher=loaded["teacher"], transfer=loaded["transfer"]
    )
    text = model_card_markdown(
        meta_data,
        test_data,
        facts=facts_data,
        dev=loaded["dev"],
        externals=external_sets,
        teacher=loaded["teacher"],
        benchmark=loaded["benchmark"],
        fragmentation=loaded["fragmentation"],
        transfer=loaded["transfer"],
        plots=drawn,
        own_names=speed_pipelines,
        own_models=own_models,
        speed_teacher=speed_teacher,
        speed_baseline=speed_baseline,
        default_inference=saved_setting(output_dir, "clinkd_ner", "inference"),
        assertion_backend=assertion_kind(output_dir),
        vocab_size=vocab_size,
        provenance=provenance,
        reasons=reasons,
    )
    write_text_atomic(readme, text)
    return {"readme": readme, "plots": [plot_paths[name] for name in drawn], "not_measured": reasons}

