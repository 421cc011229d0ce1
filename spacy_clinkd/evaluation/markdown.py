"""Evaluation metrics as markdown tables (what `evaluate` writes to --markdown)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .error_table import error_table_markdown

HEADER = "| label | P | R | F1 | support |\n|---|---:|---:|---:|---:|"


def table(header: Sequence[str], rows: Sequence[Sequence[Any]], *, align: str | None = None) -> str:
    """A markdown table: the header, a rule, one line per row (cells as str).

    align (Optional[str]): one letter per column, "l" or "r" (default: the
        first column left, the others right).
    """
    align = align or "l" + "r" * (len(header) - 1)
    rule = ["---" if a == "l" else "---:" for a in align]
    lines = [header, rule, *[[str(c) for c in row] for row in rows]]
    return "\n".join("| " + " | ".join(line) + " |" for line in lines)


def _f1(scores: dict[str, Any], interval: list[float] | None) -> str:
    if interval is None:
        return f"{scores['f']:.3f}"
    lo, hi = interval
    return f"{scores['f']:.3f} [{lo:.2f}, {hi:.2f}]"


def _row(name: str, scores: dict[str, Any], interval: list[float] | None = None) -> str:
    return (
        f"| {name} | {scores['p']:.3f} | {scores['r']:.3f} | {_f1(scores, interval)} "
        f"| {scores['support']} |"
    )


def _f1_interval(intervals: dict[str, Any] | None, label: str | None) -> list[float] | None:
    """The F1 interval of one label (None: micro), or None when there is none."""
    if intervals is None:
        return None
    scores = intervals.get("micro") if label is None else intervals.get("per_label", {}).get(label)
    return None if scores is None else scores.get("f")


def _table(scores: dict[str, Any], intervals: dict[str, Any] | None = None) -> list[str]:
    lines = [HEADER]
    for label, label_scores in scores["per_label"].items():
        lines.append(_row(label, label_scores, _f1_interval(intervals, label)))
    if scores.get("micro") is not None:
        lines.append(_row("**micro**", scores["micro"], _f1_interval(intervals, None)))
    return lines


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
    lines += _table(metrics, None if boot is None else boot.get("strict"))
    if "lenient" in metrics:
        lines += ["", "### Lenient (overlapping span, same label)", ""]
        lines += _table(metrics["lenient"], None if boot is None else boot.get("lenient"))
    if metrics.get("errors"):
        lines += ["", "### Where the strict errors are (gold entities by class, plus spurious predictions)", ""]
        lines += error_table_markdown(metrics["errors"])
    if metrics.get("assertion"):
        on_gold = metrics["assertion"]["on_gold_entities"]
        lines += ["", f"### Assertion on gold entities ({on_gold['n']} entities, accuracy {on_gold['accuracy']:.3f})", ""]
        lines += _table({"per_label": on_gold["per_class"]})
        e2e = metrics["assertion"]["end_to_end"]
        lines += ["", "### End to end: strict (span, label, assertion)", ""]
        lines += _table({"per_label": e2e["per_class"], "micro": e2e["micro"]})
    return "\n".join(lines) + "\n"
