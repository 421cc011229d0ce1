"""brat standoff (.txt + .ann pairs) → Docs and DocBins, split by document id.

Only text-bound annotations (T lines) become entities. The other line kinds
(E events, R relations, A/M attributes, N normalizations, * equivalences,
# notes) are skipped and counted per kind in the report's `skipped`.

T lines are parsed with `line.split("\\t", 2)` and the offsets are trusted,
not the surface field (one MACCROBAT file has a stray tab in a surface).
Discontinuous spans (`Type 10 15;20 25`) are joined to their outer bounds and
counted as `discontinuous_joined`. Label mapping, token alignment and overlap
resolution follow `spacy_clinkd.corpora.spans` (longest span wins; ties by
earlier start, then file order).

Errors, never silent skips: a bad T line (not 3 tab-separated fields, a
non-integer offset, start > end), an offset beyond the text, an unknown line
kind, an .ann without its .txt or a .txt without its .ann (InputFileError,
with file and line); a split id with neither file, an id in two splits or a
malformed split file (ClinkdError).
"""
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
    RETURNS (List[CharSpan]): one span per T line, in file order; discontinuous
        spans joined to their outer bounds.
    RAISES InputFileError: a malformed line or an offset beyond the text.
    """
    path = Path(path)
    spans: list[CharSpan] = []
    for line_no, line in enumerate(read_lines(path), start=1):
        if not line.strip():
            continue
        kind = line[0]
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
        spans.append(CharSpan(start, end, corpus_type, len(spans)))
    return spans


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
