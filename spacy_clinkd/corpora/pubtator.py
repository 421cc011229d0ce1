"""PubTator files (e.g. BC5CDR `pubtator/*.txt`) → Docs and DocBins.

Per document: `PMID|t|title`, `PMID|a|abstract`, then tab-separated lines,
and a blank line between documents. A tab-separated line whose second field
is an integer is a mention, `PMID start end text type [id [...]]`, parsed by
position (composite mentions carry a 7th column); any other tab-separated
line (`PMID CID chemical disease`, ...) is a relation, skipped and counted per
kind (its second field). The document text is `title + " " + abstract`
(the title alone if there is no abstract line); `doc.user_data["doc_id"]` is
the PMID.

Lines end at "\\n", "\\r\\n" or a lone "\\r" (`textio.LineReader`; a file
that mixes them gets a note) and a byte order mark is removed. Offsets are
ASCII digits only. A mention's fourth column is compared with
`text[start:end]` (`spans.check_surface`): equal but for whitespace, it is
read and counted as `surface_whitespace`; otherwise it is dropped and counted
as `surface_mismatch` (an error with `strict`), as in the brat reader. A PMID
that a second document uses again is noted (an error with `strict`); both
documents are read. Label mapping, token alignment and overlap resolution
follow `spacy_clinkd.corpora.spans` (longest span wins; ties by earlier
start, then file order).

Malformed input raises InputFileError with the file and line: offsets beyond
the text, an offset that is not ASCII digits, start > end, fewer than 5
columns, a mention or abstract whose PMID differs from the title's, or one
with no title before it, an abstract after mentions, or a line that is
neither.
"""
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import Errors, InputFileError, Warnings
from .conversion_report import ConversionReport
from .convert import ParsedDoc
from .spans import SURFACE_MISMATCH, CharSpan, check_surface, parse_offset
from .textio import LineReader

_TEXT_LINE = re.compile(r"^([^\t|]+)\|([ta])\|(.*)$")


@dataclass
class PubTatorDocument:
    """One parsed PubTator document.

    pmid (str): the document id.
    title (str): the title line's text.
    abstract (Optional[str]): the abstract line's text, if any.
    mentions (List[CharSpan]): the mentions read, in file order.
    n_dropped (int): mentions dropped as `surface_mismatch`.
    """

    pmid: str
    title: str
    abstract: str | None = None
    mentions: list[CharSpan] = field(default_factory=list)
    n_dropped: int = 0

    @property
    def text(self) -> str:
        """RETURNS (str): title + " " + abstract (the title if no abstract)."""
        return self.title if self.abstract is None else f"{self.title} {self.abstract}"


def _error(reason: str, line: str, path: Path, line_no: int) -> InputFileError:
    return InputFileError(Errors.E112.format(reason=reason, text=line), path=path, line=line_no)


def iter_pubtator(
    path: str | Path, *, report: ConversionReport, strict: bool = False
) -> Iterator[PubTatorDocument]:
    """Parse a PubTator file document by document.

    path (Union[str, Path]): the PubTator file.
    report (ConversionReport): receives `skipped` relation lines,
        `surface_whitespace` and `surface_mismatch` counts and notes.
    strict (bool): a surface mismatch or a PMID used twice is an error.
    YIELDS (PubTatorDocument): the documents in file order.
    RAISES InputFileError: malformed input (see the module docstring).
    """
    path = Path(path)
    doc: PubTatorDocument | None = None
    first_use: dict[str, int] = {}
    reader = LineReader(path)
    for line_no, line in reader:
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
                if pmid in first_use:
                    if strict:
                        message = Errors.E121.format(pmid=pmid, first=first_use[pmid])
                        raise InputFileError(message, path=path, line=line_no)
                    report.note(Warnings.W103.format(path=path, line=line_no, pmid=pmid, first=first_use[pmid]))
                else:
                    first_use[pmid] = line_no
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
        start = parse_offset(columns[1])
        if start is None:
            raise _error("non-integer start offset (offsets are ASCII digits)", line, path, line_no)
        if len(columns) < 5:
            raise _error(f"mention with {len(columns)} columns, expected at least 5", line, path, line_no)
        end = parse_offset(columns[2])
        if end is None:
            raise _error("non-integer end offset (offsets are ASCII digits)", line, path, line_no)
        surface, corpus_type = columns[3], columns[4]
        if start > end:
            raise _error(f"start {start} > end {end}", line, path, line_no)
        text = doc.text
        if end > len(text):
            message = Errors.E107.format(start=start, end=end, length=len(text))
            raise InputFileError(message, path=path, line=line_no)
        check = check_surface(text, [(start, end)], surface)
        n_read = len(doc.mentions) + doc.n_dropped
        if check == SURFACE_MISMATCH:
            if strict:
                message = Errors.E117.format(surface=surface, start=start, end=end, found=text[start:end])
                raise InputFileError(message, path=path, line=line_no)
            report.count_dropped(SURFACE_MISMATCH, corpus_type)
            doc.n_dropped += 1
            continue
        if check is not None:
            report.count_adjusted(check, corpus_type)
        doc.mentions.append(CharSpan(start, end, corpus_type, n_read))
    if doc is not None:
        yield doc
    report.note(reader.note())


def parse_pubtator(
    path: str | Path, report: ConversionReport, *, strict: bool = False
) -> Iterator[ParsedDoc]:
    """The documents of `iter_pubtator` as `convert.ParsedDoc`s (id: the PMID)."""
    for document in iter_pubtator(path, report=report, strict=strict):
        yield ParsedDoc(document.pmid, document.mentions, text=document.text)
