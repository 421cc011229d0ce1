"""Markdown tables and their cells, for every report: the one table, the one
"score [low, high]" cell and the one P / R / F1 score table (`evaluate
--markdown`, the model card, the assertion CV, the benchmarks)."""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

SCORE_KEYS = ("p", "r", "f")


def cell(text: Any) -> str:
    """A table cell: '|' would end it, a line break would end the row."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def table(header: Sequence[Any], rows: Iterable[Sequence[Any]], *, align: str | None = None) -> list[str]:
    """A markdown table: the header, a rule, one line per row.

    header (Sequence[Any]): the column names.
    rows (Iterable[Sequence[Any]]): the cells of each row (as `cell`).
    align (Optional[str]): one letter per column, "l" or "r" (default: the
        first column left, the others right).
    RETURNS (List[str]): markdown lines.
    """
    align = align or "l" + "r" * (len(header) - 1)
    rule = "|" + "".join("---|" if a == "l" else "---:|" for a in align)
    lines = [[cell(c) for c in header], *([cell(c) for c in row] for row in rows)]
    return ["| " + " | ".join(lines[0]) + " |", rule, *("| " + " | ".join(line) + " |" for line in lines[1:])]


def interval_cell(
    value: float, interval: Sequence[float] | None = None, *, spec: str = ".3f", interval_spec: str = ".2f"
) -> str:
    """A value and its interval, e.g. `0.417 [0.28, 0.51]`; the value alone without one.

    value (float): the point estimate.
    interval (Optional[Sequence[float]]): [low, high]; None: no interval.
    spec, interval_spec (str): format specs of the value and of the bounds.
    RETURNS (str): the cell.
    """
    if interval is None:
        return f"{value:{spec}}"
    lo, hi = interval
    return f"{value:{spec}} [{lo:{interval_spec}}, {hi:{interval_spec}}]"


def label_rows(
    scores: Mapping[str, Any], intervals: Mapping[str, Any] | None = None
) -> Iterator[tuple[str, Mapping[str, Any], Mapping[str, Any]]]:
    """The rows of `score_table` for one scoring: each label, then **micro** if there is one.

    scores (Mapping[str, Any]): {"per_label": {LABEL: {p, r, f, support}}, "micro": {...}}
        (`metrics.score_entities` output, or its "lenient" part).
    intervals (Optional[Mapping[str, Any]]): the same scoring's bootstrap side,
        {"per_label": {LABEL: {p, r, f: [lo, hi]}}, "micro": {...}}; None: no intervals.
    RETURNS (Iterator[Tuple[str, Mapping, Mapping]]): (name, scores, intervals) per row.
    """
    intervals = intervals or {}
    per_label = intervals.get("per_label") or {}
    for label, row in scores["per_label"].items():
        yield label, row, per_label.get(label) or {}
    if scores.get("micro") is not None:
        yield "**micro**", scores["micro"], intervals.get("micro") or {}


def score_table(
    rows: Iterable[tuple[str, Mapping[str, Any], Mapping[str, Any] | None]],
    *,
    first: str = "type",
    with_intervals: Sequence[str] = SCORE_KEYS,
) -> list[str]:
    """P, R, F1 and support, one row per (name, scores, intervals), each score
    with its interval where there is one (`interval_cell`).

    rows (Iterable[Tuple[str, Mapping, Optional[Mapping]]]): the row name, its
        {p, r, f, support} and its {p, r, f: [lo, hi]} (`label_rows`).
    first (str): the first column's name ("type", "label", "class", ...).
    with_intervals (Sequence[str]): which of "p", "r", "f" show their interval.
    RETURNS (List[str]): markdown lines.
    """
    body = []
    for name, scores, intervals in rows:
        found = intervals or {}
        cells = [interval_cell(scores[k], found.get(k) if k in with_intervals else None) for k in SCORE_KEYS]
        body.append([name, *cells, scores["support"]])
    return table([first, "P", "R", "F1", "support"], body)
