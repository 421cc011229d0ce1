"""What GET /v1/model says about the loaded pipeline.

Name, version, description and licence come from the pipeline's meta.json
(`spacy package` writes configs/meta.json into it), the labels from
`clinkd_ner`, the precision from the component, and the headline scores
from the model card: the README.md that `model-card` writes into the
pipeline directory and `spacy package` ships inside the package's data
folder. The card is the one place those scores are published, so they are
read from it (`card_scores`) rather than computed again; a pipeline without
a card has no scores here, never made-up ones.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..pipeline.assertion import ASSERTIONS, CONTEXT_ATTRS
from ..pipeline.loading import NER_COMPONENT, precision_of

CARD_FILE = "README.md"
ASSERTION_COMPONENT = "clinkd_assertion"
# "0.572" or "0.572 [0.55, 0.60]": a score cell of the card's tables
_CELL = re.compile(r"^\s*(\d+(?:\.\d+)?)(?:\s*\[\s*(\d+(?:\.\d+)?)\s*,\s*(\d+(?:\.\d+)?)\s*\])?\s*$")
_HEADING = re.compile(r"^(#+) (.*)$")
_ACCURACY = re.compile(r"^Test \((\d+) gold entities, accuracy (\d+(?:\.\d+)?)\)")


def _cell(text: str) -> tuple[float | None, list[float] | None]:
    match = _CELL.match(text)
    if match is None:
        return None, None
    value, lo, hi = match.groups()
    return float(value), ([float(lo), float(hi)] if lo is not None else None)


def _micro_row(line: str) -> dict[str, Any] | None:
    """The scores of a `| **micro** | P | R | F1 | support |` row, or None."""
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if len(cells) != 5 or cells[0] != "**micro**":
        return None
    (p, _), (r, _), (f, f_interval) = _cell(cells[1]), _cell(cells[2]), _cell(cells[3])
    support = int(cells[4]) if cells[4].isdigit() else None
    return {"p": p, "r": r, "f": f, "f_interval": f_interval, "support": support}


def _sections(lines: list[str], depth: int) -> dict[str, list[str]]:
    """Heading → its lines, for the headings of one depth (2: "## ..."); a
    heading as deep or shallower ends a section, deeper ones are its content."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    fenced = False  # a "# comment" in a code block is no heading
    for line in lines:
        if line.startswith("```"):
            fenced = not fenced
        match = None if fenced else _HEADING.match(line)
        if match is not None and len(match.group(1)) <= depth:
            current = found.setdefault(match.group(2).strip(), []) if len(match.group(1)) == depth else None
        elif current is not None:
            current.append(line)
    return found


def card_scores(card: str) -> dict[str, Any] | None:
    """The headline scores of a model card (`report/model_card.py`'s README.md).

    card (str): the card's markdown.
    RETURNS (Optional[Dict[str, Any]]): `{"source", "test_set", "strict", "lenient",
        "assertion_accuracy"}` (a part the card does not have is None); None if
        the card has no test scores.
    """
    lines = card.splitlines()
    sections = _sections(lines, 2)
    test = sections.get("Test scores")
    if test is None:
        return None
    result: dict[str, Any] = {"source": f"model card ({CARD_FILE})", "test_set": None, "strict": None, "lenient": None}
    for line in test:
        if line.strip() and not line.startswith(("#", "|")):
            result["test_set"] = line.split(":", 1)[0].strip() if ":" in line else None
            break
    for heading, sub in _sections(test, 3).items():
        kind = "strict" if heading.startswith("Strict") else "lenient" if heading.startswith("Lenient") else None
        if kind is None:
            continue
        for line in sub:
            row = _micro_row(line)
            if row is not None:
                result[kind] = row
                break
    result["assertion_accuracy"] = None
    for heading in _sections(sections.get("Assertion status", []), 3):
        match = _ACCURACY.match(heading)
        if match is not None:
            result["assertion_accuracy"] = float(match.group(2))
    if result["strict"] is None and result["lenient"] is None:
        return None
    return result


def find_card(nlp: Any) -> Path | None:
    """RETURNS (Optional[Path]): the model card of a loaded pipeline, if it has one."""
    path = getattr(nlp, "path", None)
    if path is None:
        return None
    card = Path(path) / CARD_FILE
    return card if card.is_file() else None


def pipeline_labels(nlp: Any) -> list[str]:
    """RETURNS (List[str]): the entity labels the pipeline writes to
    `doc.ents` (clinkd_ner's output_labels: a teacher trained on auxiliary
    types predicts only the shipped ones)."""
    for name in (NER_COMPONENT, "ner"):
        if name in nlp.pipe_names:
            proc = nlp.get_pipe(name)
            return sorted(getattr(proc, "output_labels", None) or proc.labels)
    return []


def model_info(nlp: Any) -> dict[str, Any]:
    """GET /v1/model without the server's own settings (`ModelInfo` in schemas.py).

    nlp (Language): the loaded pipeline.
    RETURNS (Dict[str, Any]): name, version, description, labels, assertions,
        contexts, licence, precision, pipeline, scores.
    """
    meta = nlp.meta
    card = find_card(nlp)
    scores = None
    if card is not None:
        try:
            scores = card_scores(card.read_text(encoding="utf8"))
        except (OSError, UnicodeDecodeError):
            scores = None
    return {
        "name": f"{meta.get('lang', nlp.lang)}_{meta.get('name', 'pipeline')}",
        "version": str(meta.get("version", "0.0.0")),
        "description": meta.get("description") or None,
        "labels": pipeline_labels(nlp),
        "assertions": list(ASSERTIONS) if ASSERTION_COMPONENT in nlp.pipe_names else [],
        "contexts": list(CONTEXT_ATTRS) if ASSERTION_COMPONENT in nlp.pipe_names else [],
        "licence": meta.get("license") or None,
        "precision": precision_of(nlp),
        "pipeline": list(nlp.pipe_names),
        "scores": scores,
    }
