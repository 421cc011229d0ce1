"""One output record per note, and one error record per note that failed.

A record (one JSONL line):

    {"id": "ward3/0001.txt",
     "entities": [{"start": 16, "end": 23, "label": "SYMPTOM", "text": "dyspnea",
                   "score": 0.9731, "assertion": "absent", "context": []}, ...]}

- `start`/`end`: character offsets into the note as read (end exclusive),
  also for a long note annotated in windows;
- `score`: the entity's confidence from `doc.spans["clinkd_ner"].attrs["scores"]`,
  rounded to 4 decimals (engines batch notes differently, and the last float
  digits of a transformer's output depend on the batch), None if the
  pipeline writes none;
- `assertion`: `ent._.assertion` ("present", "absent", "possible") when the
  pipeline has an assertion component, else None;
- `context`: the ConText categories set on the entity ("historical",
  "hypothetical", "family": `ent._.is_historical`, ... of
  `clinkd_assertion`) in that order, [] for none; None without an assertion
  component.

An error record: `{"id": ..., "reason": "..."}` (a file name in the reason
that is not UTF-8 keeps its bytes as `\\xNN` escapes). The model and the
input the records were made from are in the output's manifest
(`manifest.py`), not in every record.
"""
from __future__ import annotations

import json
from typing import Any

from spacy.tokens import Doc, Span

from ..pipeline.assertion import CONTEXT_ATTRS
from .inputs import printable

SPANS_KEY = "clinkd_ner"
SCORE_DIGITS = 4


def doc_record(note_id: str, doc: Doc, *, spans_key: str = SPANS_KEY) -> dict[str, Any]:
    """The output record of an annotated note.

    note_id (str): the note's id.
    doc (Doc): the annotated note.
    spans_key (str): the `doc.spans` key whose `attrs["scores"]` hold confidences.
    RETURNS (Dict[str, Any]): `{"id", "entities"}` (module docstring).
    """
    scores: dict[tuple[int, int, str], float] = {}
    group = doc.spans.get(spans_key) if spans_key in doc.spans else None
    if group is not None:
        for span, score in zip(group, group.attrs.get("scores", [])):
            scores[(span.start_char, span.end_char, span.label_)] = round(float(score), SCORE_DIGITS)
    has_assertion = Span.has_extension("assertion")
    entities = []
    for ent in doc.ents:
        entities.append(
            {
                "start": ent.start_char,
                "end": ent.end_char,
                "label": ent.label_,
                "text": ent.text,
                "score": scores.get((ent.start_char, ent.end_char, ent.label_)),
                "assertion": ent._.assertion if has_assertion else None,
                # set by the component that sets the assertion, so None where it did not run
                "context": _context(ent) if has_assertion and ent._.assertion is not None else None,
            }
        )
    return {"id": note_id, "entities": entities}


def _context(ent: Span) -> list[str]:
    """The ConText categories set on an entity, in `CONTEXT_ATTRS` order."""
    return [name for name, attr in CONTEXT_ATTRS.items() if Span.has_extension(attr) and ent._.get(attr)]


def error_record(note_id: str, reason: str) -> dict[str, Any]:
    """The errors-file record of a note that could not be annotated."""
    return {"id": note_id, "reason": printable(reason)}


def dumps(record: dict[str, Any]) -> bytes:
    """One JSONL line, newline included, as UTF-8 bytes."""
    return (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf8")
