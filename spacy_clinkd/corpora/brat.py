"""brat standoff (.txt + .ann pairs) → Docs and DocBins, split by document id.

Only text-bound annotations (T lines) become entities. Polarity attributes
become their assertion status: an A line `A3<TAB>POLARITY E12 NEG` on an
event (whose trigger, `E12<TAB>Sign_symptom:T5`, is the entity) or on a T
line directly gives NEG → "absent"; UNCERTAIN, MAYBE_POS, MAYBE_NEG →
"possible"; POS, or no polarity, → "present" (MACCROBAT's convention). Binary
attributes `Negation`/`Negated` (→ absent) and `Uncertain`/`Speculation`
(→ possible) are read the same way. The kept entities' values are stored in
`doc.user_data["clinkd_assertions"]` (see `spacy_clinkd.corpora.spans`) and
counted in the report (`assertion`, and `polarity` per value read). With a
context label map (`convert_brat(context_labels_path=...)`, e.g.
configs/labels/maccrobat_context.json), the T lines of its types (MACCROBAT's
`History`, `Family_history`) mark context regions: each kept entity gets the
values of the regions containing it ("historical", "family") in
`doc.user_data["clinkd_contexts"]`, counted in the report's `context`; the
entities are those converted without the map. The other
line kinds (E events, R relations, other A and M attributes, N
normalizations, * equivalences, # notes) are skipped and counted per kind in
the report's `skipped`.

Files are read through `textio`: an .ann line ends at "\\n", "\\r\\n" or a
lone "\\r" (a file that mixes them gets a note), and a byte order mark is
removed from the .txt; brat counts it as a character, so the offsets are
then shifted by one, unless its surfaces show that they do not count it
(`bom_shift`, noted). T lines are split with `line.split("\\t", 2)`, so a
stray tab stays in the surface (one MACCROBAT file has one). Offsets are
ASCII digits only. The surface, brat's own copy of the annotated text, is
compared with the text at the offsets (`spans.check_surface`): equal, or
equal but for whitespace (`surface_whitespace`), and the span is read;
otherwise the offsets were counted another way (UTF-8 bytes, UTF-16 code
units, LF-normalised text of a CRLF file) or two lines ran together, and the
span is dropped and counted as `surface_mismatch` (an error with `strict`).
A T id used twice is noted and counted as `duplicate_id` (an error with
`strict`). Discontinuous spans (`Type 10 15;20 25`, surface "frag1 frag2")
are joined to their outer bounds and counted as `discontinuous_joined`.
Label mapping, token alignment and overlap resolution follow
`spacy_clinkd.corpora.spans` (longest span wins; ties by earlier start, then
file order).

Errors, never silent skips: a bad T line (not 3 tab-separated fields, an
offset that is not ASCII digits, start > end), an offset beyond the text, an
unknown line kind, a polarity attribute on an id the file does not define or
with an unknown value, an .ann without its .txt or a .txt without its .ann
(InputFileError, with file and line); a split id with neither file or one
pointing outside the folder, an id in two splits, a split name that is not
a plain file name ("../x") or a malformed split file (ClinkdError). Outputs
are checked before any work and written atomically (`convert_brat`).
"""
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import ClinkdError, Errors, InputFileError, Warnings
from ..paths import check_output_dir, check_output_file
from .conversion_report import ConversionReport
from .convert import ParsedDoc, convert
from .labels import check_aux_map, load_context_map, load_label_map
from .spans import SURFACE_MISMATCH, CharSpan, check_surface, parse_offset
from .textio import LineReader, read_json_object, read_text_and_bom

SKIPPED_KINDS = ("E", "R", "A", "M", "N", "*", "#")
REPORT_FILE = "report.json"
# A split name becomes a file name: letters (any script), digits, "-", "_",
# ".", not starting with "." (no "..", no hidden files, no separators).
_SPLIT_NAME = re.compile(r"[^\W][\w.-]*")


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


def _is_plain_name(name: str) -> bool:
    """A split name that is one file name, neither hidden nor a path: its
    DocBin is OUTPUT_DIR/NAME.spacy."""
    return bool(_SPLIT_NAME.fullmatch(name)) and name not in (".", "..")


def load_split(path: str | Path) -> dict[str, list[str]]:
    """Load a document split such as configs/splits/maccrobat.json.

    path (Union[str, Path]): a JSON object of split name → list of document ids.
    RETURNS (Dict[str, List[str]]): the split, in file order.
    RAISES ClinkdError: the file is not such an object, a split name is not a
        plain file name (E118: "../x", "a/b", ".hidden") or an id is in two
        splits.
    """
    path = Path(path)
    data = read_json_object(path, Errors.E102)
    seen: dict[str, str] = {}
    for split, ids in data.items():
        if not _is_plain_name(split):
            raise ClinkdError(Errors.E118.format(name=split, path=path))
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            reason = f"split '{split}' is not a list of strings"
            raise ClinkdError(Errors.E102.format(path=path, reason=reason))
        for doc_id in ids:
            if doc_id in seen:
                raise ClinkdError(Errors.E113.format(doc_id=doc_id, path=path))
            seen[doc_id] = split
    return {split: list(ids) for split, ids in data.items()}


@dataclass(frozen=True)
class TLine:
    """One parsed T line of an .ann file.

    line_no (int): its 1-based line number.
    ann_id (str): the T id, e.g. "T12".
    corpus_type (str): the entity type as written.
    fragments (Tuple[Tuple[int, int], ...]): (start, end) per fragment.
    surface (str): the third column, the annotated text as brat wrote it.
    assertion (str): "present", "absent" or "possible" (its polarity attribute).
    """

    line_no: int
    ann_id: str
    corpus_type: str
    fragments: tuple[tuple[int, int], ...]
    surface: str
    assertion: str = "present"

    def shifted(self, shift: int) -> "TLine":
        """RETURNS (TLine): the same line with every offset `shift` lower (not below 0)."""
        if not shift:
            return self
        fragments = tuple((max(s - shift, 0), max(e - shift, 0)) for s, e in self.fragments)
        return replace(self, fragments=fragments)


def _bad_t_line(reason: str, *, path: Path, line_no: int, line: str) -> InputFileError:
    return InputFileError(Errors.E106.format(reason=reason, text=line), path=path, line=line_no)


def _parse_offsets(fragments: str, *, path: Path, line_no: int, line: str) -> tuple[tuple[int, int], ...]:
    offsets: list[tuple[int, int]] = []
    for fragment in fragments.split(";"):
        parts = fragment.split()
        if len(parts) != 2:
            reason = f"offset fragment {fragment!r} is not 'START END'"
            raise _bad_t_line(reason, path=path, line_no=line_no, line=line)
        start, end = parse_offset(parts[0]), parse_offset(parts[1])
        if start is None or end is None:
            reason = f"non-integer offset in {fragment!r} (offsets are ASCII digits)"
            raise _bad_t_line(reason, path=path, line_no=line_no, line=line)
        if start > end:
            raise _bad_t_line(f"start {start} > end {end}", path=path, line_no=line_no, line=line)
        offsets.append((start, end))
    return tuple(offsets)


def read_t_lines(
    path: str | Path, *, report: ConversionReport, strict: bool = False
) -> list[TLine]:
    """Parse the T lines of an .ann file with their assertion status (the
    polarity attributes, module docstring); count the other line kinds as
    skipped.

    Lines end at "\\n", "\\r\\n" or a lone "\\r" (a file that mixes them
    gets a note). A T id used twice is noted and counted as `duplicate_id`;
    both lines are read (and both get its polarity).

    path (Union[str, Path]): the .ann file.
    report (ConversionReport): receives `skipped`, `polarity`, `duplicate_id`
        and notes.
    strict (bool): a duplicate T id is an error (E120).
    RETURNS (List[TLine]): the T lines in file order.
    RAISES InputFileError: a malformed line, or an attribute naming no T line
        or event of the file.
    """
    path = Path(path)
    lines: list[TLine] = []
    first_use: dict[str, int] = {}
    triggers: dict[str, str] = {}  # E id → T id of its trigger
    attributes: list[tuple[int, str, str, str]] = []  # (line no, target id, assertion, line)
    reader = LineReader(path)
    for line_no, line in reader:
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
            raise _bad_t_line(reason, path=path, line_no=line_no, line=line)
        ann_id, type_and_offsets, surface = fields
        parts = type_and_offsets.split(" ", 1)
        if len(parts) != 2 or not parts[0]:
            raise _bad_t_line("expected 'TYPE START END'", path=path, line_no=line_no, line=line)
        corpus_type, offsets = parts
        fragments = _parse_offsets(offsets, path=path, line_no=line_no, line=line)
        if ann_id in first_use:
            if strict:
                message = Errors.E120.format(id=ann_id, first=first_use[ann_id])
                raise InputFileError(message, path=path, line=line_no)
            report.note(Warnings.W102.format(path=path, line=line_no, id=ann_id, first=first_use[ann_id]))
            report.count_adjusted("duplicate_id", corpus_type)
        else:
            first_use[ann_id] = line_no
        lines.append(TLine(line_no, ann_id, corpus_type, fragments, surface))
    report.note(reader.note())
    assertions: dict[str, str] = {}
    for line_no, target, assertion, line in attributes:
        t_id = triggers.get(target, target)
        if t_id not in first_use:
            reason = f"it names {target!r}, which is no T line or event of this file"
            raise InputFileError(Errors.E124.format(reason=reason, text=line), path=path, line=line_no)
        assertions[t_id] = assertion
    return [replace(t, assertion=assertions[t.ann_id]) if t.ann_id in assertions else t for t in lines]


def _parse_attribute(line: str, *, path: Path, line_no: int) -> tuple[str, str, str] | None:
    """(target id, value, assertion) of a polarity A line; None for other attributes."""
    fields = line.split("\t")
    parts = fields[1].split() if len(fields) > 1 else []
    if len(parts) < 2:
        reason = "expected 'NAME TARGET [VALUE]'"
        raise InputFileError(Errors.E124.format(reason=reason, text=line), path=path, line=line_no)
    name, target = parts[0], parts[1]
    if name.lower() == "polarity":
        value = parts[2] if len(parts) > 2 else ""
        if value.upper() not in POLARITY:
            reason = f"unknown polarity {value!r} (expected one of {sorted(POLARITY)})"
            raise InputFileError(Errors.E124.format(reason=reason, text=line), path=path, line=line_no)
        return target, value.upper(), POLARITY[value.upper()]
    if name.lower() in BINARY_ASSERTIONS and len(parts) == 2:
        return target, name, BINARY_ASSERTIONS[name.lower()]
    return None


def _n_surfaces_matching(text: str, lines: list[TLine], shift: int) -> int:
    n = 0
    for line in lines:
        shifted = line.shifted(shift)
        if all(e <= len(text) for _, e in shifted.fragments):
            n += check_surface(text, shifted.fragments, line.surface) != SURFACE_MISMATCH
    return n


def bom_shift(text: str, lines: list[TLine]) -> int:
    """How much to lower the offsets of a .txt file whose byte order mark was removed.

    brat's own server counts a leading BOM as a character; tools that decode
    with "utf-8-sig" do not. The convention under which more surfaces match
    the text wins (brat's on a tie).

    text (str): the text, its BOM removed.
    lines (List[TLine]): the T lines of its .ann file.
    RETURNS (int): 1 if the offsets count the BOM, else 0.
    """
    return 1 if _n_surfaces_matching(text, lines, 1) >= _n_surfaces_matching(text, lines, 0) else 0


def parse_ann(
    path: str | Path,
    text: str,
    *,
    report: ConversionReport,
    strict: bool = False,
    bom: bool = False,
    txt_path: str | Path | None = None,
) -> list[CharSpan]:
    """Read the entities of an .ann file, checked against the text.

    Each T line's surface (third column) is compared with the text at its
    offsets (`spans.check_surface`): a mismatch is dropped and counted as
    `surface_mismatch` (an error with `strict`).

    path (Union[str, Path]): the .ann file.
    text (str): the text of the matching .txt file (BOM removed).
    report (ConversionReport): receives `skipped`, `discontinuous_joined`,
        `surface_whitespace`, `surface_mismatch`, `duplicate_id` and notes.
    strict (bool): a surface mismatch or a duplicate T id is an error.
    bom (bool): the .txt file started with a byte order mark (see `bom_shift`).
    txt_path (Optional[Union[str, Path]]): the .txt file, for the BOM note.
    RETURNS (List[CharSpan]): one span per T line kept, in file order, with
        its assertion status; discontinuous spans joined to their outer bounds.
    RAISES InputFileError: a malformed line, an offset beyond the text, or
        (strict) a surface mismatch or duplicate id.
    """
    path = Path(path)
    lines = read_t_lines(path, report=report, strict=strict)
    shift = bom_shift(text, lines) if bom and lines else 0
    if bom and lines:
        note = Warnings.W101 if shift else Warnings.W105
        report.note(note.format(path=txt_path or path.with_suffix(".txt"), ann=path.name))
    spans: list[CharSpan] = []
    for order, raw in enumerate(lines):
        line = raw.shifted(shift)
        start = min(s for s, _ in line.fragments)
        end = max(e for _, e in line.fragments)
        if end > len(text):
            message = Errors.E107.format(start=start, end=end, length=len(text))
            raise InputFileError(message, path=path, line=line.line_no)
        surface = check_surface(text, line.fragments, line.surface)
        if surface == SURFACE_MISMATCH:
            if strict:
                found = " ".join(text[s:e] for s, e in line.fragments)
                message = Errors.E117.format(surface=line.surface, start=start, end=end, found=found)
                raise InputFileError(message, path=path, line=line.line_no)
            report.count_dropped(SURFACE_MISMATCH, line.corpus_type)
            continue
        if surface is not None:
            report.count_adjusted(surface, line.corpus_type)
        if len(line.fragments) > 1:
            report.count_adjusted("discontinuous_joined", line.corpus_type)
        spans.append(CharSpan(start, end, line.corpus_type, order, line.assertion))
    return spans


def parse_brat_document(
    txt_path: str | Path,
    ann_path: str | Path,
    report: ConversionReport,
    *,
    doc_id: str | None = None,
    strict: bool = False,
) -> ParsedDoc:
    """Parse one .txt/.ann pair; turn it into a Doc with `convert.make_docs`.

    txt_path (Union[str, Path]): the text file.
    ann_path (Union[str, Path]): the standoff file.
    report (ConversionReport): receives the counts (see `parse_ann`).
    doc_id (Optional[str]): the document id; defaults to the file stem.
    strict (bool): a surface mismatch or a duplicate T id is an error.
    RETURNS (ParsedDoc): the document; its text is the .txt file's without a BOM.
    RAISES InputFileError: a missing file or malformed input.
    """
    txt_path, ann_path = Path(txt_path), Path(ann_path)
    if not txt_path.exists():
        raise InputFileError(Errors.E104.format(txt=txt_path), path=ann_path)
    if not ann_path.exists():
        raise InputFileError(Errors.E105.format(ann=ann_path), path=txt_path)
    text, bom = read_text_and_bom(txt_path)
    spans = parse_ann(ann_path, text, report=report, strict=strict, bom=bom, txt_path=txt_path)
    return ParsedDoc(doc_id if doc_id is not None else txt_path.stem, spans, text=text)


def _document_files(brat_dir: Path) -> dict[str, list[str]]:
    """Document id (path below `brat_dir` without suffix) → its .txt/.ann files,
    in every folder below and with suffixes in any case."""
    files: dict[str, list[str]] = {}
    for path in sorted(brat_dir.rglob("*")):
        if path.suffix.lower() in (".txt", ".ann") and path.is_file():
            rel = path.relative_to(brat_dir)
            files.setdefault(rel.with_suffix("").as_posix(), []).append(rel.as_posix())
    return files


def _check_doc_id(brat_dir: Path, doc_id: str, split: str) -> None:
    root = brat_dir.resolve()
    target = (brat_dir / doc_id).resolve()
    if not doc_id or "\x00" in doc_id or Path(doc_id).is_absolute() or root not in target.parents:
        raise ClinkdError(Errors.E119.format(doc_id=doc_id, split=split, folder=brat_dir))


MAX_LISTED = 20


def parse_brat_split(
    brat_dir: str | Path, split: dict[str, list[str]], report: ConversionReport, *, strict: bool = False
) -> Iterator[tuple[str, Iterator[ParsedDoc]]]:
    """Parse the documents of each split (for `convert.convert`).

    Document ids may name subfolders ("batch2/0042"), never a path outside
    `brat_dir`. Once every split is read, the documents in the folder (or
    below it, or with upper-case suffixes) that no split names are counted as
    `documents not in split` and listed in a note.

    brat_dir (Union[str, Path]): folder holding ID.txt and ID.ann files.
    split (Dict[str, List[str]]): split name → document ids (see `load_split`).
    report (ConversionReport): receives the counts.
    strict (bool): a surface mismatch or a duplicate T id is an error.
    YIELDS (Tuple[str, Iterator[ParsedDoc]]): split name → its documents, in
        split-file order, each parsed when asked for.
    RAISES ClinkdError: an id has neither file or points outside `brat_dir`
        (InputFileError: one file is missing).
    """
    brat_dir = Path(brat_dir)
    if not brat_dir.is_dir():
        raise ClinkdError(Errors.E022.format(path=brat_dir, reason="not a directory"))
    for name, ids in split.items():
        for doc_id in ids:
            _check_doc_id(brat_dir, doc_id, name)
    for name, ids in split.items():
        yield name, _parse_ids(brat_dir, name, ids, report, strict=strict)
    # Documents in the folder that no split names are not converted: count
    # and name them, so that nothing disappears without trace (e.g. a fuller
    # upstream copy, a stray placeholder file, a subfolder, "X.TXT").
    listed = {doc_id for ids in split.values() for doc_id in ids}
    unlisted: list[str] = []
    for doc_id, files in _document_files(brat_dir).items():
        odd = [f for f in files if not f.endswith((".txt", ".ann"))]
        if doc_id not in listed:
            unlisted.append(doc_id)
        elif odd:
            unlisted.append(doc_id + " (" + ", ".join(odd) + ")")
    if unlisted:
        report.count_skipped("documents not in split", len(unlisted))
        names = ", ".join(unlisted[:MAX_LISTED]) + (", ..." if len(unlisted) > MAX_LISTED else "")
        report.note(Warnings.W104.format(n=len(unlisted), folder=brat_dir, names=names))


def _parse_ids(
    brat_dir: Path, name: str, ids: list[str], report: ConversionReport, *, strict: bool
) -> Iterator[ParsedDoc]:
    for doc_id in ids:
        txt_path = brat_dir / f"{doc_id}.txt"
        ann_path = brat_dir / f"{doc_id}.ann"
        if not txt_path.exists() and not ann_path.exists():
            raise ClinkdError(Errors.E103.format(doc_id=doc_id, split=name, txt=txt_path, ann=ann_path))
        yield parse_brat_document(txt_path, ann_path, report, doc_id=doc_id, strict=strict)


def convert_brat(
    brat_dir: str | Path,
    output_dir: str | Path,
    *,
    split_path: str | Path,
    labels_path: str | Path,
    aux_labels_path: str | Path | None = None,
    context_labels_path: str | Path | None = None,
    limit: int | None = None,
    strict: bool = False,
) -> ConversionReport:
    """Convert a brat corpus to OUTPUT_DIR/{split}.spacy plus OUTPUT_DIR/report.json.

    The outputs are checked before anything is read (a file where the folder
    should be, a folder where a file should be, no permission, an output that
    is an input), and each is written atomically.

    brat_dir (Union[str, Path]): folder holding ID.txt and ID.ann files.
    output_dir (Union[str, Path]): folder for the .spacy files and report.json.
    split_path (Union[str, Path]): JSON split file (see `load_split`).
    labels_path (Union[str, Path]): JSON label map (see `load_label_map`).
    aux_labels_path (Optional[Union[str, Path]]): JSON label map of
        auxiliary types, kept where they overlap no entity of the label map
        (see `spans.set_entities`); a type in both maps is an error (E125).
    context_labels_path (Optional[Union[str, Path]]): JSON map of corpus
        type → context value (see `labels.load_context_map`); its spans mark
        the context regions of `doc.user_data["clinkd_contexts"]`.
    limit (Optional[int]): keep only the first `limit` docs of each split.
    strict (bool): a surface mismatch or a duplicate T id is an error.
    RETURNS (ConversionReport): the counts, also written to report.json.
    """
    split = load_split(split_path)
    label_map = load_label_map(labels_path)
    aux_map = load_label_map(aux_labels_path) if aux_labels_path is not None else None
    if aux_map is not None:
        check_aux_map(label_map, aux_map, path=aux_labels_path)
    context_map = load_context_map(context_labels_path) if context_labels_path is not None else None
    output_dir = Path(output_dir)
    inputs = {"the split file": split_path, "the label map": labels_path}
    if aux_labels_path is not None:
        inputs["the auxiliary label map"] = aux_labels_path
    if context_labels_path is not None:
        inputs["the context label map"] = context_labels_path
    check_output_dir(output_dir, inputs={"the brat folder": brat_dir})
    outputs = {name: output_dir / f"{name}.spacy" for name in split}
    report_path = output_dir / REPORT_FILE
    for path in [*outputs.values(), report_path]:
        check_output_file(path, inputs=inputs)
    report = ConversionReport(source=str(brat_dir))
    splits = parse_brat_split(brat_dir, split, report, strict=strict)
    return convert(
        splits, outputs, report=report, label_map=label_map, aux_map=aux_map, context_map=context_map,
        report_path=report_path, limit=limit,
    )
