"""PubTator files (e.g. BC5CDR `pubtator/*.txt`) → Docs and DocBins.

Per document: `PMID|t|title`, `PMID|a|abstract`, then tab-separated lines,
and a blank line between documents. A tab-separated line whose second field
is an integer is a mention, `PMID start end text type [id [...]]`, parsed by
position (composite mentions carry a 7th column); any other tab-separated
line (`PMID CID chemical disease`, ...) is a relation, skipped and counted per
kind (its second field). The document text is `title + " " + abstract`
(the title alone if there is no abstract line); `doc.user_data["doc_id"]` is
the PMID.

Offsets are trusted: a mention whose text differs from `text[start:end]` is
kept and counted as `surface_mismatch`. Label mapping, token alignment and
overlap resolution follow `spacy_clinkd.corpora.spans` (longest span wins;
ties by earlier start, then file order).

Malformed input raises InputFileError with the file and line: offsets beyond
the text, non-integer end offset, start > end, fewer than 5 columns, a
mention or abstract whose PMID differs from the title's, or one with no
title before it, an abstract after mentions, or a line that is neither.
"""
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc

from ..errors import Errors, InputFileError
from ..tokenizer import clinical_blank
from .conversion_report import ConversionReport
from .labels import load_label_map
from .spans import CharSpan, set_entities
from .textio import read_lines, write_docbin

_TEXT_LINE = re.compile(r"^([^\t|]+)\|([ta])\|(.*)$")


@dataclass
class PubTatorDocument:
    """One parsed PubTator document.

    pmid (str): the document id.
    title (str): the title line's text.
    abstract (Optional[str]): the abstract line's text, if any.
    mentions (List[CharSpan]): the mentions, in file order.
    """

    pmid: str
    title: str
    abstract: str | None = None
    mentions: list[CharSpan] = field(default_factory=list)

    @property
    def text(self) -> str:
        """RETURNS (str): title + " " + abstract (the title if no abstract)."""
        return self.title if self.abstract is None else f"{self.title} {self.abstract}"


def _error(reason: str, line: str, path: Path, line_no: int) -> InputFileError:
    return InputFileError(Errors.E112.format(reason=reason, text=line), path=path, line=line_no)


def iter_pubtator(path: str | Path, *, report: ConversionReport) -> Iterator[PubTatorDocument]:
    """Parse a PubTator file document by document.

    path (Union[str, Path]): the PubTator file.
    report (ConversionReport): receives `skipped` relation lines and
        `surface_mismatch` counts.
    YIELDS (PubTatorDocument): the documents in file order.
    RAISES InputFileError: malformed input (see the module docstring).
    """
    path = Path(path)
    doc: PubTatorDocument | None = None
    for line_no, line in enumerate(read_lines(path), start=1):
        if not line.strip():
            if doc is not None:
                yield doc
            doc = None
            continue
        match = _TEXT_LINE.match(line)
        if match is not None:
            pmid, kind, content = match.groups()
            if kind == "t":
                if doc is not None:
                    yield doc
                doc = PubTatorDocument(pmid=pmid, title=content)
                continue
            if doc is None or doc.pmid != pmid:
                raise _error("abstract without a title line of the same PMID", line, path, line_no)
            if doc.abstract is not None or doc.mentions:
                raise _error("second abstract, or abstract after mentions", line, path, line_no)
            doc.abstract = content
            continue
        columns = line.split("\t")
        if len(columns) < 2:
            raise _error("neither a title/abstract line nor tab-separated", line, path, line_no)
        if doc is None or columns[0] != doc.pmid:
            raise _error("annotation without a title line of the same PMID", line, path, line_no)
        if len(columns) == 4 and columns[1].isalpha():
            # a relation line, e.g. PMID<TAB>CID<TAB>chemical<TAB>disease
            report.count_skipped(columns[1])
            continue
        if not columns[1].isdigit():
            raise _error("non-integer start offset", line, path, line_no)
        if len(columns) < 5:
            raise _error(f"mention with {len(columns)} columns, expected at least 5", line, path, line_no)
        if not columns[2].isdigit():
            raise _error("non-integer end offset", line, path, line_no)
        start, end = int(columns[1]), int(columns[2])
        surface, corpus_type = columns[3], columns[4]
        if start > end:
            raise _error(f"start {start} > end {end}", line, path, line_no)
        text = doc.text
        if end > len(text):
            message = Errors.E107.format(start=start, end=end, length=len(text))
            raise InputFileError(message, path=path, line=line_no)
        if text[start:end] != surface:
            report.count_adjusted("surface_mismatch", corpus_type)
        doc.mentions.append(CharSpan(start, end, corpus_type, len(doc.mentions)))
    if doc is not None:
        yield doc


def read_pubtator(
    path: str | Path,
    *,
    nlp: Language,
    label_map: dict[str, str],
    report: ConversionReport,
    split: str,
    limit: int | None = None,
) -> list[Doc]:
    """Convert a PubTator file to Docs with `doc.ents` set.

    path (Union[str, Path]): the PubTator file.
    nlp (Language): supplies the tokenizer (use `clinical_blank()`).
    label_map (Dict[str, str]): corpus type → pipeline label.
    report (ConversionReport): receives the counts.
    split (str): the split name, for the report.
    limit (Optional[int]): stop after this many documents.
    RETURNS (List[Doc]): one Doc per document, in file order.
    RAISES InputFileError: malformed input (see the module docstring).
    """
    docs: list[Doc] = []
    report.count_doc(split, 0)
    if limit is not None and limit < 1:
        return docs
    for document in iter_pubtator(path, report=report):
        doc = nlp.make_doc(document.text)
        doc.user_data["doc_id"] = document.pmid
        set_entities(doc, document.mentions, label_map=label_map, report=report, split=split)
        report.count_doc(split)
        docs.append(doc)
        if limit is not None and len(docs) >= limit:
            break
    return docs


def convert_pubtator(
    input_file: str | Path,
    output_file: str | Path,
    *,
    labels_path: str | Path,
    report_path: str | Path | None = None,
    limit: int | None = None,
    split: str | None = None,
) -> ConversionReport:
    """Convert a PubTator file to a .spacy file.

    input_file (Union[str, Path]): the PubTator file.
    output_file (Union[str, Path]): the .spacy file to write.
    labels_path (Union[str, Path]): JSON label map (see `load_label_map`).
    report_path (Optional[Union[str, Path]]): where to write the report JSON.
    limit (Optional[int]): keep only the first `limit` documents.
    split (Optional[str]): split name in the report; default: the output stem.
    RETURNS (ConversionReport): the counts.
    """
    label_map = load_label_map(labels_path)
    report = ConversionReport(source=str(input_file))
    split = split if split is not None else Path(output_file).stem
    docs = read_pubtator(
        input_file, nlp=clinical_blank(), label_map=label_map, report=report, split=split, limit=limit
    )
    write_docbin(docs, output_file)
    if report_path is not None:
        report.write_json(report_path)
    return report
