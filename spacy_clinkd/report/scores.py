"""The markdown of scores: what `evaluate` writes to --markdown (strict and
lenient tables, the error table, assertion) and the assertion CV table of
`assertion-cv`; the scores themselves are `spacy_clinkd.evaluation`'s."""
from __future__ import annotations

from typing import Any

from ..evaluation.error_table import CLASSES
from .tables import interval_cell, label_rows, score_table, table


def error_table_markdown(errors: dict[str, Any]) -> list[str]:
    """The error table (`error_table.error_table`) as markdown lines: one row per label and a total row."""
    rows = [[label, *(counts[c] for c in CLASSES)] for label, counts in [*errors["per_label"].items(), ("total", errors["total"])]]
    return table(["label", *CLASSES], rows)


def _f1_table(scores: dict[str, Any], intervals: dict[str, Any] | None = None) -> list[str]:
    return score_table(label_rows(scores, intervals), first="label", with_intervals=("f",))


def metrics_to_markdown(metrics: dict[str, Any], *, title: str) -> str:
    """Render `score_entities` output as markdown tables, strict then lenient.

    When the dict has a "bootstrap" key (the output of
    `spacy_clinkd.evaluation.bootstrap.bootstrap_intervals`), each F1 cell also shows
    its interval, e.g. `0.555 [0.49, 0.61]`, and a line states the method.

    metrics (Dict[str, Any]): Output of `spacy_clinkd.evaluation.metrics.score_entities`
        (or the JSON written by `python -m spacy_clinkd evaluate`). The lenient
        table is left out when the dict has no "lenient" key.
    title (str): Heading of the report.
    RETURNS (str): Markdown, ending with a newline.
    """
    boot = metrics.get("bootstrap")
    lines = [f"## {title}", ""]
    if "n_docs" in metrics:
        lines += [f"{metrics['n_docs']} documents.", ""]
    if boot is not None:
        lines += [
            f"F1 intervals: {100 * boot['confidence']:g}% percentile bootstrap over documents "
            f"({boot['n_samples']} samples, seed {boot['seed']}).",
            "",
        ]
    lines += ["### Strict (exact span and label)", ""]
    lines += _f1_table(metrics, None if boot is None else boot.get("strict"))
    if "lenient" in metrics:
        lines += ["", "### Lenient (overlapping span, same label)", ""]
        lines += _f1_table(metrics["lenient"], None if boot is None else boot.get("lenient"))
    if metrics.get("errors"):
        lines += ["", "### Where the strict errors are (gold entities by class, plus spurious predictions)", ""]
        lines += error_table_markdown(metrics["errors"])
    if metrics.get("assertion"):
        on_gold = metrics["assertion"]["on_gold_entities"]
        lines += ["", f"### Assertion on gold entities ({on_gold['n']} entities, accuracy {on_gold['accuracy']:.3f})", ""]
        lines += _f1_table({"per_label": on_gold["per_class"]})
        e2e = metrics["assertion"]["end_to_end"]
        lines += ["", "### End to end: strict (span, label, assertion)", ""]
        lines += _f1_table({"per_label": e2e["per_class"], "micro": e2e["micro"]})
        contexts = metrics["assertion"].get("context_on_gold_entities")
        if contexts:
            lines += ["", f"### ConText categories on gold entities ({contexts['n']} entities; gold from the corpus's context spans)", ""]
            boot = contexts.get("bootstrap")
            lines += _f1_table({"per_label": contexts["per_class"]}, None if boot is None else {"per_label": boot["per_class"]})
    return "\n".join(lines) + "\n"


def _mean_sd(mean: float, sd: float) -> str:
    return f"{mean:.3f} ± {sd:.3f}"


def cv_markdown(result: dict[str, Any]) -> str:
    """The CV table (`evaluation.assertion_cv.run_assertion_cv`): per candidate,
    mean ± sd over folds of each class's F1 and macro F1, and the pooled
    held-out F1 of absent and possible with their 95 % document-bootstrap intervals."""
    rows = []
    for name, s in result["candidates"].items():
        pooled = s["pooled"]["per_class"]
        rows.append(
            [
                name,
                _mean_sd(s["mean"]["absent"]["f"], s["sd"]["absent"]["f"]),
                _mean_sd(s["mean"]["possible"]["f"], s["sd"]["possible"]["f"]),
                _mean_sd(s["mean"]["present"]["f"], s["sd"]["present"]["f"]),
                _mean_sd(s["macro_f"]["mean"], s["macro_f"]["sd"]),
                *(
                    interval_cell(pooled[cls]["f"], s["intervals"][cls]["f"], interval_spec=".3f")
                    for cls in ("absent", "possible")
                ),
            ]
        )
    header = [
        "candidate", "absent F1 (mean ± sd)", "possible F1", "present F1", "macro F1",
        "absent F1 pooled [95 % CI]", "possible F1 pooled [95 % CI]",
    ]
    n = next(iter(result["candidates"].values()))
    intro = (
        f"{result['k']}-fold cross-validation over {n['n_docs']} documents ({n['n']} gold entities), "
        f"document-level folds, seed {result['seed']}.\n\n"
    )
    return intro + "\n".join(table(header, rows)) + "\n"
