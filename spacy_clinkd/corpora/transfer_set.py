"""The teacher-labelled transfer set: unlabelled notes from several corpora,
filtered by licence, deduplicated on their text and sampled, as one JSONL.

Each source is `FORMAT:FIELD:PATH`: `jsonl:text:e3c.jsonl` (records' `text`
field) or `csv:transcription:mtsamples.csv.gz` (a column; `.gz` files are
read through gzip). A record's licence is its `licence` field (column), if
it has one. With `licences` given, a record is kept only if its licence is
one of them, so a source that states no licence is left out of a
licence-filtered set. Texts are compared after stripping whitespace; the
first of equal texts is kept (MTSamples lists many reports twice). Every
record read is either written or counted under the reason it was left out.
"""
from __future__ import annotations

import csv
import gzip
import io
import random
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import srsly

from ..errors import ClinkdError, Errors
from ..paths import check_output_file, write_text_atomic
from .textio import decode_error
from .transfer import read_jsonl, text_key

FORMATS = ("jsonl", "csv")
LICENCE_FIELD = "licence"


@dataclass(frozen=True)
class Source:
    """One corpus of the transfer set (see the module docstring)."""

    format: str
    field: str
    path: Path

    @classmethod
    def parse(cls, spec: str) -> Source:
        parts = spec.split(":", 2)
        if len(parts) != 3 or parts[0] not in FORMATS or not parts[1] or not parts[2]:
            raise ClinkdError(Errors.E368.format(spec=spec, formats=list(FORMATS)))
        return cls(parts[0], parts[1], Path(parts[2]))


@dataclass
class TransferSetReport:
    """What was read, left out and written, per source."""

    read: Counter = field(default_factory=Counter)
    dropped: dict[str, Counter] = field(default_factory=dict)
    written: int = 0
    licences: Counter = field(default_factory=Counter)

    def drop(self, reason: str, source: str) -> None:
        self.dropped.setdefault(reason, Counter())[source] += 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "read": dict(self.read),
            "dropped": {reason: dict(c) for reason, c in sorted(self.dropped.items())},
            "written": self.written,
            "licences_written": dict(self.licences.most_common()),
        }


def _records(source: Source) -> Iterator[tuple[str, dict]]:
    """(record id, record) of a source, in file order."""
    if source.format == "jsonl":
        for n, record in enumerate(read_jsonl(source.path), 1):
            yield str(record.get("id", f"{source.path.name}:{n}")), record
        return
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    try:
        raw = source.path.read_bytes()
        if source.path.suffix == ".gz":
            raw = gzip.decompress(raw)
    except (OSError, EOFError, gzip.BadGzipFile) as err:
        raise ClinkdError(Errors.E022.format(path=source.path, reason=err)) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise decode_error(source.path, raw, err) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if reader.fieldnames is None or source.field not in reader.fieldnames:
        raise ClinkdError(Errors.E361.format(path=source.path, column=source.field, columns=reader.fieldnames))
    for n, row in enumerate(reader, 1):
        yield f"{source.path.name}:{n}", dict(row)


def build_transfer_set(
    sources: Sequence[Source],
    *,
    licences: Sequence[str] = (),
    max_docs: int = 0,
    seed: int = 0,
) -> tuple[list[dict[str, str]], TransferSetReport]:
    """Read, filter, deduplicate and sample the sources (module docstring).

    sources (Sequence[Source]): the corpora, in priority order for duplicates.
    licences (Sequence[str]): keep only records with one of these licences
        (empty: keep all).
    max_docs (int): a random sample of this many of the kept texts, seeded
        (0: all), written in source order.
    seed (int): the sample's seed.
    RETURNS (Tuple[List[Dict[str, str]], TransferSetReport]): records
        {"id", "text", "licence"} and the counts.
    """
    report = TransferSetReport()
    allowed = set(licences)
    seen: set[str] = set()
    kept: list[tuple[str, dict[str, str]]] = []
    for source in sources:
        name = str(source.path)
        for record_id, record in _records(source):
            report.read[name] += 1
            text = str(record.get(source.field) or "")
            licence = str(record.get(LICENCE_FIELD) or "")
            if not text.strip():
                report.drop("empty", name)
                continue
            if allowed and licence not in allowed:
                report.drop("licence", name)
                continue
            key = text_key(text.strip())
            if key in seen:
                report.drop("duplicate", name)
                continue
            seen.add(key)
            kept.append((name, {"id": record_id, "text": text, "licence": licence or "unstated"}))
    if max_docs and len(kept) > max_docs:
        chosen = set(random.Random(seed).sample(range(len(kept)), max_docs))
        for i, (name, _) in enumerate(kept):
            if i not in chosen:
                report.drop("not sampled", name)
        kept = [item for i, item in enumerate(kept) if i in chosen]
    records = [record for _, record in kept]
    report.written = len(records)
    report.licences.update(record["licence"] for record in records)
    return records, report


def write_transfer_set(
    sources: Sequence[Source],
    output: Path,
    *,
    report_path: Path | None = None,
    licences: Sequence[str] = (),
    max_docs: int = 0,
    seed: int = 0,
) -> TransferSetReport:
    """`build_transfer_set`, written to OUTPUT (JSONL) and the report JSON.
    Outputs are checked before anything is read and written atomically."""
    inputs = {f"source {i + 1}": s.path for i, s in enumerate(sources)}
    check_output_file(output, inputs=inputs)
    if report_path is not None:
        check_output_file(report_path, inputs=inputs)
    records, report = build_transfer_set(sources, licences=licences, max_docs=max_docs, seed=seed)
    write_text_atomic(output, "".join(srsly.json_dumps(r) + "\n" for r in records))
    if report_path is not None:
        summary = {"licences": list(licences), "max_docs": max_docs, "seed": seed, **report.to_dict()}
        write_text_atomic(report_path, srsly.json_dumps(summary, indent=2) + "\n")
    return report
