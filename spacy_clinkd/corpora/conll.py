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
token) and Docs are made one at a time (`iter_conll`): `convert_conll` holds
one DocBin, never the file or its Docs, in memory.

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

from spacy.language import Language
from spacy.tokens import Doc, Span

from ..errors import ClinkdError, Errors, InputFileError
from ..tokenizer import ZERO_WIDTH, clinical_blank
from .conversion_report import ConversionReport, check_conversion_outputs
from .labels import load_label_map
from .textio import LineReader, write_docbin

DOCSTART = "-DOCSTART-"

# (first line number, words, entities as (start token, end token, corpus type))
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
    first_line = 0
    prev_tag = "O"
    reader = LineReader(path)
    for line_no, line in reader:
        if not line.strip() or line.split()[0] == DOCSTART:
            if words:
                yield first_line, words, ents
            words, ents, prev_tag = [], [], "O"
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
        if tag != "O":
            prefix, _, corpus_type = tag.partition("-")
            if prefix not in ("B", "I") or not corpus_type:
                raise InputFileError(Errors.E111.format(tag=tag), path=path, line=line_no)
            if prefix == "B":
                ents.append((len(words), len(words) + 1, corpus_type))
            elif prev_tag[2:] == corpus_type and prev_tag != "O":
                start, _, _ = ents[-1]
                ents[-1] = (start, len(words) + 1, corpus_type)
            else:
                message = Errors.E110.format(tag=tag, label=corpus_type, prev=prev_tag)
                raise InputFileError(message, path=path, line=line_no)
        words.append(word)
        prev_tag = tag
    if words:
        yield first_line, words, ents
    report.note(reader.note())


def _make_doc(
    nlp: Language,
    group: list[_Sentence],
    *,
    doc_id: str,
    label_map: dict[str, str],
    report: ConversionReport,
    split: str,
) -> Doc:
    words: list[str] = []
    sent_starts: list[bool] = []
    spans: list[tuple[int, int, str]] = []
    for _, sent_words, sent_ents in group:
        offset = len(words)
        spans.extend((offset + s, offset + e, t) for s, e, t in sent_ents)
        words.extend(sent_words)
        sent_starts.extend([True] + [False] * (len(sent_words) - 1))
    spaces = [True] * (len(words) - 1) + [False]
    doc = Doc(nlp.vocab, words=words, spaces=spaces, sent_starts=sent_starts)
    ents = []
    for start, end, corpus_type in spans:
        label = label_map.get(corpus_type)
        if label is None:
            report.count_dropped("unmapped_label", corpus_type)
            continue
        ents.append(Span(doc, start, end, label=label))
        report.count_kept(split, label)
    doc.ents = ents
    doc.user_data["doc_id"] = doc_id
    report.count_doc(split)
    return doc


def iter_conll(
    path: str | Path,
    *,
    nlp: Language,
    label_map: dict[str, str],
    report: ConversionReport,
    split: str,
    n_sents: int = 1,
    limit: int | None = None,
) -> Iterator[Doc]:
    """Convert a CoNLL/BIO file to Docs, one at a time (bounded memory).

    path (Union[str, Path]): the token-per-line file.
    nlp (Language): supplies the vocab (use `clinical_blank()`).
    label_map (Dict[str, str]): corpus type → pipeline label.
    report (ConversionReport): receives the counts.
    split (str): the split name, for the report.
    n_sents (int): sentences per Doc (never across a -DOCSTART- boundary).
    limit (Optional[int]): stop after this many Docs.
    YIELDS (Doc): the Docs; `user_data["doc_id"]` is "FILENAME:LINE" with the
        line of the Doc's first token.
    RAISES InputFileError: malformed input (see the module docstring).
    """
    if n_sents < 1:
        raise ClinkdError(Errors.E116.format(name="n_sents", value=n_sents))
    path = Path(path)
    n_docs = 0
    group: list[_Sentence] = []
    report.count_doc(split, 0)

    def make() -> Doc:
        doc_id = f"{path.name}:{group[0][0]}"
        doc = _make_doc(nlp, group, doc_id=doc_id, label_map=label_map, report=report, split=split)
        group.clear()
        return doc

    for sentence in _read_sentences(path, report):
        if limit is not None and n_docs >= limit:
            return
        if sentence is not None:
            group.append(sentence)
        if group and (sentence is None or len(group) >= n_sents):
            n_docs += 1
            yield make()
    if group and (limit is None or n_docs < limit):
        yield make()


def read_conll(
    path: str | Path,
    *,
    nlp: Language,
    label_map: dict[str, str],
    report: ConversionReport,
    split: str,
    n_sents: int = 1,
    limit: int | None = None,
) -> list[Doc]:
    """Convert a CoNLL/BIO file to a list of Docs (see `iter_conll`).

    RETURNS (List[Doc]): the Docs.
    """
    return list(
        iter_conll(path, nlp=nlp, label_map=label_map, report=report, split=split, n_sents=n_sents, limit=limit)
    )


def convert_conll(
    input_file: str | Path,
    output_file: str | Path,
    *,
    labels_path: str | Path,
    n_sents: int = 1,
    report_path: str | Path | None = None,
    limit: int | None = None,
    split: str | None = None,
) -> ConversionReport:
    """Convert a CoNLL/BIO file to a .spacy file, streaming.

    The outputs are checked before the input is read: neither may be an
    input or a folder, and their folders must be writable.

    input_file (Union[str, Path]): the token-per-line file.
    output_file (Union[str, Path]): the .spacy file to write (atomically).
    labels_path (Union[str, Path]): JSON label map (see `load_label_map`).
    n_sents (int): sentences per Doc.
    report_path (Optional[Union[str, Path]]): where to write the report JSON.
    limit (Optional[int]): keep only the first `limit` Docs.
    split (Optional[str]): split name in the report; default: the output stem.
    RETURNS (ConversionReport): the counts.
    """
    check_conversion_outputs(input_file, output_file, labels_path=labels_path, report_path=report_path)
    label_map = load_label_map(labels_path)
    report = ConversionReport(source=str(input_file))
    split = split if split is not None else Path(output_file).stem
    docs = iter_conll(
        input_file,
        nlp=clinical_blank(),
        label_map=label_map,
        report=report,
        split=split,
        n_sents=n_sents,
        limit=limit,
    )
    write_docbin(docs, output_file)
    if report_path is not None:
        report.write_json(report_path)
    return report
