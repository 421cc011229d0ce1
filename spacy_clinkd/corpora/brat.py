"""brat standoff (.txt + .ann pairs) → Docs and DocBins, split by document id.

Only text-bound annotations (T lines) become entities. Polarity attributes
become their assertion status: an A line `A3<TAB>POLARITY E12 NEG` on an
event (whose trigger, `E12<TAB>Sign_symptom:T5`, is the entity) or on a T
line directly gives NEG → "absent"; UNCERTAIN, MAYBE_POS, MAYBE_NEG →
"possible"; POS, or no polarity, → "present" (MACCROBAT's convention). Binary
attributes `Negation`/`Negated` (→ absent) and `Uncertain`/`Speculation`
(→ possible) are read the same way. The kept entities' values are stored in
`doc.user_data["clinkd_assertions"]` (see `spacy_clinkd.corpora.spans`) and
counted in the report (`assertion`, and `polarity` per value read). The other
line kinds (E events, R relations, other A and M attributes, N
normalizations, * equivalences, # notes) are skipped and counted per kind in
the report's `skipped`.

T lines are parsed with `line.split("\\t", 2)` and the offsets are trusted,
not the surface field (one MACCROBAT file has a stray tab in a surface).
Discontinuous spans (`Type 10 15;20 25`) are joined to their outer bounds and
counted as `discontinuous_joined`. Label mapping, token alignment and overlap
resolution follow `spacy_clinkd.corpora.spans` (longest span wins; ties by
earlier start, then file order).

Errors, never silent skips: a bad T line (not 3 tab-separated fields, a
non-integer offset, start > end), an offset beyond the text, an unknown line
kind, a polarity attribute on an id the file does not define or with an
unknown value, an .ann without its .txt or a .txt without its .ann (InputFileError,
with file and line); a split id with neither file, an id in two splits or a
malformed split file (ClinkdError).
"""
from dataclasses import replace
from pathlib import Path

import srsly
from spacy.language import Language
from spacy.tokens import Doc

from ..errors import ClinkdError, Errors, InputFileError
from ..tokenizer import clinical_blank
from .conversion_report import ConversionReport
from .labels import load_label_map
from .spans import CharSpan, set_entities
from .textio import read_lines, read_text, write_docbin

SKIPPED_KINDS = ("E", "R", "A", "M", "N", "*", "#")
# brat polarity values → assertion status
POLARITY = {
    "NEG": "absent",
    "NEGATIVE": "absent",
    "UNCERTAIN": "possible",
    "MAYBE_POS": "possible",
    "MAYBE_NEG": "possible",
    "POS": "present",
    "POSITIVE": "present",
}
# binary brat attributes (no value) → assertion status
BINARY_ASSERTIONS = {
    "negation": "absent",
    "negated": "absent",
    "uncertain": "possible",
    "uncertainty": "possible",
    "speculation": "possible",
    "speculated": "possible",
}


def load_split(path: str | Path) -> dict[str, list[str]]:
    """Load a document split such as configs/splits/maccrobat.json.

    path (Union[str, Path]): a JSON object of split name → list of document ids.
    RETURNS (Dict[str, List[str]]): the split, in file order.
    RAISES ClinkdError: the file is not such an object or an id is in two splits.
    """
    path = Path(path)
    try:
        data = srsly.read_json(path)
    except (OSError, ValueError) as err:
        raise ClinkdError(Errors.E102.format(path=path, reason=err)) from err
    if not isinstance(data, dict):
        reason = f"found {type(data).__name__}"
        raise ClinkdError(Errors.E102.format(path=path, reason=reason))
    seen: dict[str, str] = {}
    for split, ids in data.items():
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            reason = f"split '{split}' is not a list of strings"
            raise ClinkdError(Errors.E102.format(path=path, reason=reason))
        for doc_id in ids:
            if doc_id in seen:
                raise ClinkdError(Errors.E113.format(doc_id=doc_id, path=path))
            seen[doc_id] = split
    return {split: list(ids) for split, ids in data.items()}


def _parse_offsets(fragments: str, *, path: Path, line_no: int, line: str) -> list[tuple[int, int]]:
    offsets: list[tuple[int, int]] = []
    for fragment in fragments.split(";"):
        parts = fragment.split()
        if len(parts) != 2:
            reason = f"offset fragment {fragment!r} is not 'START END'"
            raise InputFileError(Errors.E106.format(reason=reason, text=line), path=path, line=line_no)
        try:
            start, end = int(parts[0]), int(parts[1])
        except ValueError:
            reason = f"non-integer offset in {fragment!r}"
            raise InputFileError(Errors.E106.format(reason=reason, text=line), path=path, line=line_no) from None
        if start < 0 or start > end:
            reason = f"start {start} > end {end}" if start > end else "negative offset"
            raise InputFileError(Errors.E106.format(reason=reason, text=line), path=path, line=line_no)
        offsets.append((start, end))
    return offsets


def parse_ann(
    path: str | Path, text: str, *, report: ConversionReport
) -> list[CharSpan]:
    """Read the T lines of an .ann file; count the other line kinds as skipped.

    path (Union[str, Path]): the .ann file.
    text (str): the text of the matching .txt file, to check the offsets.
    report (ConversionReport): receives `skipped` and `discontinuous_joined`.
    RETURNS (List[CharSpan]): one span per T line, in file order, with its
        assertion status (module docstring); discontinuous
        spans joined to their outer bounds.
    RAISES InputFileError: a malformed line or an offset beyond the text.
    """
    path = Path(path)
    spans: list[CharSpan] = []
    t_ids: dict[str, int] = {}  # T id → index into spans
    triggers: dict[str, str] = {}  # E id → T id of its trigger
    attributes: list[tuple[int, str, str, str]] = []  # (line, target id, assertion, line)
    for line_no, line in enumerate(read_lines(path), start=1):
        if not line.strip():
            continue
        kind = line[0]
        if kind == "E":
            fields = line.split("\t")
            trigger = fields[1].split()[0] if len(fields) > 1 and fields[1].split() else ""
            if ":" in trigger:
                triggers[fields[0]] = trigger.split(":", 1)[1]
        if kind == "A":
            parsed = _parse_attribute(line, path=path, line_no=line_no)
            if parsed is not None:
                target, value, assertion = parsed
                report.count_polarity(value)
                attributes.append((line_no, target, assertion, line))
                continue
        if kind in SKIPPED_KINDS:
            report.count_skipped(kind)
            continue
        if kind != "T":
            raise InputFileError(Errors.E108.format(kind=kind, text=line), path=path, line=line_no)
        fields = line.split("\t", 2)
        if len(fields) != 3:
            reason = f"expected 3 tab-separated fields, found {len(fields)}"
            raise InputFileError(Errors.E106.format(reason=reason, text=line), path=path, line=line_no)
        type_and_offsets = fields[1].split(" ", 1)
        if len(type_and_offsets) != 2 or not type_and_offsets[0]:
            reason = "expected 'TYPE START END'"
            raise InputFileError(Errors.E106.format(reason=reason, text=line), path=path, line=line_no)
        corpus_type, fragments = type_and_offsets
        offsets = _parse_offsets(fragments, path=path, line_no=line_no, line=line)
        start = min(s for s, _ in offsets)
        end = max(e for _, e in offsets)
        if end > len(text):
            message = Errors.E107.format(start=start, end=end, length=len(text))
            raise InputFileError(message, path=path, line=line_no)
        if len(offsets) > 1:
            report.count_adjusted("discontinuous_joined", corpus_type)
        t_ids[fields[0]] = len(spans)
        spans.append(CharSpan(start, end, corpus_type, len(spans), "present"))
    for line_no, target, assertion, line in attributes:
        t_id = triggers.get(target, target)
        if t_id not in t_ids:
            reason = f"it names {target!r}, which is no T line or event of this file"
            raise InputFileError(Errors.E117.format(reason=reason, text=line), path=path, line=line_no)
        i = t_ids[t_id]
        spans[i] = replace(spans[i], assertion=assertion)
    return spans


def _parse_attribute(line: str, *, path: Path, line_no: int) -> tuple[str, str, str] | None:
    """(target id, value, assertion) of a polarity A line; None for other attributes."""
    fields = line.split("\t")
    parts = fields[1].split() if len(fields) > 1 else []
    if len(parts) < 2:
        reason = "expected 'NAME TARGET [VALUE]'"
        raise InputFileError(Errors.E117.format(reason=reason, text=line), path=path, line=line_no)
    name, target = parts[0], parts[1]
    if name.lower() == "polarity":
        value = parts[2] if len(parts) > 2 else ""
        if value.upper() not in POLARITY:
            reason = f"unknown polarity {value!r} (expected one of {sorted(POLARITY)})"
            raise InputFileError(Errors.E117.format(reason=reason, text=line), path=path, line=line_no)
        return target, value.upper(), POLARITY[value.upper()]
    if name.lower() in BINARY_ASSERTIONS and len(parts) == 2:
        return target, name, BINARY_ASSERTIONS[name.lower()]
    return None


def read_brat_document(
    txt_path: str | Path,
    ann_path: str | Path,
    *,
    nlp: Language,
    label_map: dict[str, str],
    report: ConversionReport,
    split: str,
    doc_id: str | None = None,
) -> Doc:
    """Convert one .txt/.ann pair to a Doc with `doc.ents` set.

    txt_path (Union[str, Path]): the text file.
    ann_path (Union[str, Path]): the standoff file.
    nlp (Language): supplies the tokenizer (use `clinical_blank()`).
    label_map (Dict[str, str]): corpus type → pipeline label.
    report (ConversionReport): receives the counts.
    split (str): the split name, for the report.
    doc_id (Optional[str]): stored in `doc.user_data["doc_id"]`; defaults to
        the file stem.
    RETURNS (Doc): the document.
    RAISES InputFileError: a missing file or malformed input.
    """
    txt_path, ann_path = Path(txt_path), Path(ann_path)
    if not txt_path.exists():
        raise InputFileError(Errors.E104.format(txt=txt_path), path=ann_path)
    if not ann_path.exists():
        raise InputFileError(Errors.E105.format(ann=ann_path), path=txt_path)
    text = read_text(txt_path)
    spans = parse_ann(ann_path, text, report=report)
    doc = nlp.make_doc(text)
    doc.user_data["doc_id"] = doc_id if doc_id is not None else txt_path.stem
    set_entities(doc, spans, label_map=label_map, report=report, split=split)
    report.count_doc(split)
    return doc


def read_brat_split(
    brat_dir: str | Path,
    split: dict[str, list[str]],
    *,
    nlp: Language,
    label_map: dict[str, str],
    report: ConversionReport,
    limit: int | None = None,
) -> dict[str, list[Doc]]:
    """Convert the documents of each split.

    brat_dir (Union[str, Path]): folder holding ID.txt and ID.ann files.
    split (Dict[str, List[str]]): split name → document ids (see `load_split`).
    nlp (Language): supplies the tokenizer.
    label_map (Dict[str, str]): corpus type → pipeline label.
    report (ConversionReport): receives the counts.
    limit (Optional[int]): keep only the first `limit` ids of each split.
    RETURNS (Dict[str, List[Doc]]): split name → Docs, in split-file order.
    RAISES ClinkdError: an id has neither file (InputFileError: one is missing).
    """
    brat_dir = Path(brat_dir)
    if not brat_dir.is_dir():
        raise ClinkdError(Errors.E115.format(path=brat_dir, reason="not a directory"))
    docs: dict[str, list[Doc]] = {}
    for name, ids in split.items():
        docs[name] = []
        report.count_doc(name, 0)
        for doc_id in ids[:limit] if limit is not None else ids:
            txt_path = brat_dir / f"{doc_id}.txt"
            ann_path = brat_dir / f"{doc_id}.ann"
            if not txt_path.exists() and not ann_path.exists():
                message = Errors.E103.format(doc_id=doc_id, split=name, txt=txt_path, ann=ann_path)
                raise ClinkdError(message)
            doc = read_brat_document(
                txt_path, ann_path, nlp=nlp, label_map=label_map, report=report, split=name, doc_id=doc_id
            )
            docs[name].append(doc)
    # Documents in the folder that no split names are not converted: count
    # them, so that nothing disappears without trace (e.g. a fuller upstream
    # copy, or a stray placeholder file).
    listed = {doc_id for ids in split.values() for doc_id in ids}
    unlisted = {p.stem for p in brat_dir.iterdir() if p.suffix in (".txt", ".ann")} - listed
    if unlisted:
        report.count_skipped("documents not in split", len(unlisted))
    return docs


def convert_brat(
    brat_dir: str | Path,
    output_dir: str | Path,
    *,
    split_path: str | Path,
    labels_path: str | Path,
    limit: int | None = None,
) -> ConversionReport:
    """Convert a brat corpus to OUTPUT_DIR/{split}.spacy plus OUTPUT_DIR/report.json.

    brat_dir (Union[str, Path]): folder holding ID.txt and ID.ann files.
    output_dir (Union[str, Path]): folder for the .spacy files and report.json.
    split_path (Union[str, Path]): JSON split file (see `load_split`).
    labels_path (Union[str, Path]): JSON label map (see `load_label_map`).
    limit (Optional[int]): keep only the first `limit` docs of each split.
    RETURNS (ConversionReport): the counts, also written to report.json.
    """
    split = load_split(split_path)
    label_map = load_label_map(labels_path)
    report = ConversionReport(source=str(brat_dir))
    docs = read_brat_split(
        brat_dir, split, nlp=clinical_blank(), label_map=label_map, report=report, limit=limit
    )
    output_dir = Path(output_dir)
    for name, split_docs in docs.items():
        write_docbin(split_docs, output_dir / f"{name}.spacy")
    report.write_json(output_dir / "report.json")
    return report
