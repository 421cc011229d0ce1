"""Human-readable reports of evaluation metrics."""
from __future__ import annotations

from typing import Any

HEADER = "| label | P | R | F1 | support |\n|---|---:|---:|---:|---:|"


def _row(name: str, scores: dict[str, Any]) -> str:
    return (
        f"| {name} | {scores['p']:.3f} | {scores['r']:.3f} | {scores['f']:.3f} "
        f"| {scores['support']} |"
    )


def _table(scores: dict[str, Any]) -> list[str]:
    lines = [HEADER]
    for label, label_scores in scores["per_label"].items():
        lines.append(_row(label, label_scores))
    lines.append(_row("**micro**", scores["micro"]))
    return lines


def metrics_to_markdown(metrics: dict[str, Any], *, title: str) -> str:
    """Render `score_entities` output as markdown tables, strict then lenient.

    metrics (Dict[str, Any]): Output of `spacy_clinkd.evaluation.metrics.score_entities`
        (or the JSON written by `python -m spacy_clinkd evaluate`). The lenient
        table is left out when the dict has no "lenient" key.
    title (str): Heading of the report.
    RETURNS (str): Markdown, ending with a newline.
    """
    lines = [f"## {title}", ""]
    if "n_docs" in metrics:
        lines += [f"{metrics['n_docs']} documents.", ""]
    lines += ["### Strict (exact span and label)", ""]
    lines += _table(metrics)
    if "lenient" in metrics:
        lines += ["", "### Lenient (overlapping span, same label)", ""]
        lines += _table(metrics["lenient"])
    return "\n".join(lines) + "\n"
