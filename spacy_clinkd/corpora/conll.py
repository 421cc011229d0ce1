"""CoNLL/BIO token-per-line files → Docs and DocBins.

Format: `token<TAB>tag` per line, a blank line between sentences, tags `O`,
`B-TYPE`, `I-TYPE` (NCBI-disease and BC5CDR `conll/*.tsv`). A `-DOCSTART-`
line (first whitespace-separated field) marks a document boundary.

The corpora are pre-tokenized, so each Doc is built from the given words
(a space between words, none after the last) and not re-tokenized. By
default one Doc per sentence; `n_sents` groups up to N consecutive sentences
of the same document per Doc (sentence starts are set either way). Types not
in the label map are dropped and counted as `unmapped_label`.

The file is read line by line (`textio.LineReader`: "\\n", "\\r\\n" or a
lone "\\r" ends a line; a file that mixes them gets a note; a byte order
mark is removed, so it can neither hide a -DOCSTART- line nor join the first
token) and documents are parsed one at a time (`parse_conll`): the conversion
holds one DocBin, never the file or its Docs, in memory.

Malformed input raises InputFileError with the file and line: a non-blank
line without exactly 2 tab-separated columns, an empty token, a token that
holds whitespace (a trailing space, an NBSP-only token) or only zero-width
characters, a tag that holds whitespace, a tag that is not O/B-X/I-X, or an
I-X that does not follow B-X or I-X in the same sentence. The output file
may not be the input (`convert-conll x.bio x.bio`); it is checked before the
input is read and written atomically.
"""
import re
from collections.abc import Iterator
from pathlib import Path

from ..errors import ClinkdError, Errors, InputFileError
from ..tokenizer import ZERO_WIDTH
from .conversion_report import ConversionReport
from .convert import ParsedDoc
from .spans import CharSpan
from .textio import LineReader

DOCSTART = "-DOCSTART-"

# (first line number, words, entities as (start, end, corpus type)): the
# offsets are characters of the sentence's words joined by spaces
_Sentence = tuple[int, list[str], list[tuple[int, int, str]]]


# `\s` in a str pattern is what `str.isspace` calls whitespace (NBSP too).
_WHITESPACE = re.compile(r"\s")
_ONLY_ZERO_WIDTH = re.compile(f"[{ZERO_WIDTH}]+")


def _check_token(word: str, tag: str, *, path: Path, line_no: int) -> None:
    if not word:
        raise InputFileError(Errors.E114, path=path, line=line_no)
    if _WHITESPACE.search(word) or _ONLY_ZERO_WIDTH.fullmatch(word):
        raise InputFileError(Errors.E122.format(token=word), path=path, line=line_no)
    if _WHITESPACE.search(tag):
        raise InputFileError(Errors.E123.format(tag=tag), path=path, line=line_no)


def _read_sentences(path: Path, report: ConversionReport) -> Iterator[_Sentence | None]:
    """Yield sentences in file order, and None at each -DOCSTART- line."""
    words: list[str] = []
    ents: list[tuple[int, int, str]] = []
    n_chars = 0
    first_line = 0
    prev_tag = "O"
    reader = LineReader(path)
    for line_no, line in reader:
        if not line.strip() or line.split()[0] == DOCSTART:
            if words:
                yield first_line, words, ents
            words, ents, n_chars, prev_tag = [], [], 0, "O"
            if line.strip():
                yield None
            continue
        columns = line.split("\t")
        if len(columns) != 2:
            message = Errors.E109.format(n=len(columns), text=line)
            raise InputFileError(message, path=path, line=line_no)
        word, tag = columns
        _check_token(word, tag, path=path, line_no=line_no)
        if not words:
            first_line = line_no
        start = n_chars + 1 if words else 0
        if tag != "O":
            prefix, _, corpus_type = tag.partition("-")
            if prefix not in ("B", "I") or not corpus_type:
                raise InputFileError(Errors.E111.format(tag=tag), path=path, line=line_no)
            if prefix == "B":
                ents.append((start, start + len(word), corpus_type))
            elif prev_tag[2:] == corpus_type and prev_tag != "O":
                ents[-1] = (ents[-1][0], start + len(word), corpus_type)
            else:
                message = Errors.E110.format(tag=tag, label=corpus_type, prev=prev_tag)
                raise InputFileError(message, path=path, line=line_no)
        words.append(word)
        n_chars = start + len(word)
        prev_tag = tag
    if words:
        yield first_line, words, ents
    report.note(reader.note())


def _document(path: Path, group: list[_Sentence]) -> ParsedDoc:
    """The sentences of one Doc as a pre-tokenized document; its id is
    "FILENAME:LINE" with the line of its first token."""
    words: list[str] = []
    sent_starts: list[bool] = []
    spans: list[CharSpan] = []
    offset = 0  # where the sentence starts in the Doc's text
    for _, sent_words, sent_ents in group:
        for start, end, corpus_type in sent_ents:
            spans.append(CharSpan(offset + start, offset + end, corpus_type, len(spans)))
        words.extend(sent_words)
        sent_starts.extend([True] + [False] * (len(sent_words) - 1))
        offset += sum(len(word) + 1 for word in sent_words)
    return ParsedDoc(f"{path.name}:{group[0][0]}", spans, words=words, sent_starts=sent_starts)


def parse_conll(path: str | Path, report: ConversionReport, *, n_sents: int = 1) -> Iterator[ParsedDoc]:
    """Parse a CoNLL/BIO file, one document at a time (bounded memory); turn
    them into Docs with `convert.make_docs`.

    path (Union[str, Path]): the token-per-line file.
    report (ConversionReport): receives the notes.
    n_sents (int): sentences per Doc (never across a -DOCSTART- boundary).
    YIELDS (ParsedDoc): the documents, in file order.
    RAISES InputFileError: malformed input (see the module docstring).
    """
    if n_sents < 1:
        raise ClinkdError(Errors.E116.format(name="n_sents", value=n_sents))
    path = Path(path)
    group: list[_Sentence] = []
    for sentence in _read_sentences(path, report):
        if sentence is not None:
            group.append(sentence)
        if group and (sentence is None or len(group) >= n_sents):
            yield _document(path, group)
            group = []
    if group:
        yield _document(path, group)
