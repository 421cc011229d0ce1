"""The conversion report: what went in, what came out, and what was changed.

Counters (all plain dicts, so the report serializes as is):

- `docs`: split → number of Docs written.
- `kept`: split → pipeline label → entities written to `doc.ents`.
- `dropped`: reason → original corpus type → entities not written.
  Reasons: `unmapped_label` (type not in the label map), `overlap` (lost to
  a longer overlapping entity), `unalignable` (no token span covers it),
  `surface_mismatch` (the annotation's own text is not the text at its
  offsets: the offsets cannot be trusted).
- `adjusted`: reason → original corpus type → entities written, but changed
  or suspicious. Reasons: `discontinuous_joined`, `trimmed_whitespace`,
  `expanded_to_token_boundaries`, `surface_whitespace` (the annotation's
  text differs from the text at its offsets in whitespace only),
  `duplicate_id` (a brat T id used twice; both are read). An adjusted entity
  may still be dropped later (e.g. by overlap); it is then counted in both.
- `skipped`: annotation line kind → lines read but not converted (brat
  E/R/M/N/*/# lines and A lines other than polarity, PubTator relation lines
  such as CID), and `documents not in split` (brat).
- `notes`: things about files rather than entities, one line each, with the
  file (and line): mixed line ends, a byte order mark that the offsets
  count, duplicate document ids, the documents no split names.
- `assertion`: split → pipeline label → assertion status → entities written
  (brat polarity: NEG → absent; UNCERTAIN, MAYBE_POS, MAYBE_NEG → possible;
  POS or none → present). Empty for corpora without assertions.
- `context`: split → pipeline label → context value ("historical",
  "family", ...) → entities written inside a context region (brat
  `History`, `Family_history` with `--context-labels`); an entity in two
  regions counts under both values. Empty without a context map.
- `polarity`: brat polarity value → attribute lines read (before label
  mapping and overlap resolution).
"""
import json
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..paths import write_text_atomic


def _bump(counter: dict[str, int], key: str, n: int = 1) -> None:
    counter[key] = counter.get(key, 0) + n


def _sorted(counter: dict[str, int]) -> dict[str, int]:
    return {key: counter[key] for key in sorted(counter)}


@dataclass
class ConversionReport:
    """Counts for one conversion run (see the module docstring)."""

    source: str = ""
    docs: dict[str, int] = field(default_factory=dict)
    kept: dict[str, dict[str, int]] = field(default_factory=dict)
    dropped: dict[str, dict[str, int]] = field(default_factory=dict)
    adjusted: dict[str, dict[str, int]] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    assertion: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    context: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    polarity: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def note(self, message: str | None) -> None:
        """Add a note about a file (None: nothing to say)."""
        if message is not None:
            self.notes.append(message)

    def count_doc(self, split: str, n: int = 1) -> None:
        """Count `n` Docs written for `split`."""
        _bump(self.docs, split, n)
        self.kept.setdefault(split, {})

    def count_kept(self, split: str, label: str, n: int = 1) -> None:
        """Count `n` entities of pipeline `label` written for `split`."""
        _bump(self.kept.setdefault(split, {}), label, n)

    def count_dropped(self, reason: str, corpus_type: str, n: int = 1) -> None:
        """Count `n` entities of `corpus_type` dropped for `reason`."""
        _bump(self.dropped.setdefault(reason, {}), corpus_type, n)

    def count_adjusted(self, reason: str, corpus_type: str, n: int = 1) -> None:
        """Count `n` entities of `corpus_type` adjusted for `reason`."""
        _bump(self.adjusted.setdefault(reason, {}), corpus_type, n)

    def count_skipped(self, kind: str, n: int = 1) -> None:
        """Count `n` annotation lines of `kind` read but not converted."""
        _bump(self.skipped, kind, n)

    def count_assertion(self, split: str, label: str, assertion: str, n: int = 1) -> None:
        """Count `n` entities of `label` with gold `assertion` written for `split`."""
        _bump(self.assertion.setdefault(split, {}).setdefault(label, {}), assertion, n)

    def count_context(self, split: str, label: str, value: str, n: int = 1) -> None:
        """Count `n` entities of `label` with gold context `value` written for `split`."""
        _bump(self.context.setdefault(split, {}).setdefault(label, {}), value, n)

    def count_polarity(self, value: str, n: int = 1) -> None:
        """Count `n` brat polarity attribute lines of `value` read."""
        _bump(self.polarity, value, n)

    def n_dropped(self, reason: str) -> int:
        """RETURNS (int): entities dropped for `reason`, over all types."""
        return sum(self.dropped.get(reason, {}).values())

    def n_adjusted(self, reason: str) -> int:
        """RETURNS (int): entities adjusted for `reason`, over all types."""
        return sum(self.adjusted.get(reason, {}).values())

    def n_kept(self, split: str) -> int:
        """RETURNS (int): entities kept in `split`, over all labels."""
        return sum(self.kept.get(split, {}).values())

    def to_dict(self) -> dict[str, Any]:
        """RETURNS (Dict[str, Any]): the report as JSON-serializable data, keys sorted
            within each counter (splits keep their insertion order); `assertion`
            and `polarity` only when the corpus has assertions, `context` only
            when an entity has a context.
        """
        data = {
            "source": self.source,
            "docs": dict(self.docs),
            "kept": {split: _sorted(c) for split, c in self.kept.items()},
            "dropped": {r: _sorted(self.dropped[r]) for r in sorted(self.dropped)},
            "adjusted": {r: _sorted(self.adjusted[r]) for r in sorted(self.adjusted)},
            "skipped": _sorted(self.skipped),
            "notes": list(self.notes),
        }
        if self.assertion or self.polarity:
            data["assertion"] = {
                split: {label: _sorted(c) for label, c in sorted(by_label.items())}
                for split, by_label in self.assertion.items()
            }
            data["polarity"] = _sorted(self.polarity)
        if self.context:
            data["context"] = {
                split: {label: _sorted(c) for label, c in sorted(by_label.items())}
                for split, by_label in self.context.items()
            }
        return data

    def write_json(self, path: str | Path) -> None:
        """Write `to_dict()` as indented JSON, atomically, creating parent directories.

        path (Union[str, Path]): the output file.
        """
        write_text_atomic(Path(path), json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n")

    def table(self) -> str:
        """RETURNS (str): the report as plain-text tables for printing."""
        splits = list(self.docs) or list(self.kept)
        labels = sorted({label for c in self.kept.values() for label in c})
        header = ["", *splits]
        rows: list[tuple[str, ...]] = [
            ("docs", *(str(self.docs.get(s, 0)) for s in splits))
        ]
        for label in labels:
            rows.append((label, *(str(self.kept.get(s, {}).get(label, 0)) for s in splits)))
        rows.append(("entities", *(str(self.n_kept(s)) for s in splits)))
        parts = [f"Conversion report: {self.source}" if self.source else "Conversion report"]
        parts.append(_format(header, rows))
        changes: list[tuple[str, ...]] = []
        for kind, counters in (("dropped", self.dropped), ("adjusted", self.adjusted)):
            for reason in sorted(counters):
                by_type = counters[reason]
                detail = ", ".join(
                    f"{t} {n}" for t, n in sorted(by_type.items(), key=lambda x: (-x[1], x[0]))
                )
                lines = textwrap.wrap(detail, width=70) or [""]
                changes.append((kind, reason, str(sum(by_type.values())), lines[0]))
                changes.extend(("", "", "", more) for more in lines[1:])
        for line_kind in sorted(self.skipped):
            changes.append(("skipped", f"lines {line_kind}", str(self.skipped[line_kind]), ""))
        if changes:
            parts.append(_format(["", "reason", "count", "by original type"], changes))
        if self.assertion:
            values = ["present", "absent", "possible"]
            rows_a: list[tuple[str, ...]] = []
            for split, by_label in self.assertion.items():
                for label in sorted(by_label):
                    rows_a.append((split, label, *(str(by_label[label].get(v, 0)) for v in values)))
            parts.append(_format(["assertion", "label", *values], rows_a))
        if self.context:
            found = sorted({v for by_label in self.context.values() for c in by_label.values() for v in c})
            rows_c: list[tuple[str, ...]] = []
            for split, by_label in self.context.items():
                for label in sorted(by_label):
                    rows_c.append((split, label, *(str(by_label[label].get(v, 0)) for v in found)))
            parts.append(_format(["context", "label", *found], rows_c))
        if self.notes:
            parts.append("\n".join(f"note: {note}" for note in self.notes))
        return "\n\n".join(parts)


def _format(header: list[str], rows: list[tuple[str, ...]]) -> str:
    """Left-aligned columns; numbers right-aligned."""
    table = [tuple(header), *rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = []
    for n, row in enumerate(table):
        cells = []
        for i, cell in enumerate(row):
            numeric = n > 0 and cell.isdigit()
            cells.append(cell.rjust(widths[i]) if numeric else cell.ljust(widths[i]))
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
