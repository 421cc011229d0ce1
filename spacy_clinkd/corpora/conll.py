"""CoNLL/BIO token-per-line files → Docs and DocBins.

Format: `token<TAB>tag` per line, a blank line between sentences, tags `O`,
`B-TYPE`, `I-TYPE` (NCBI-disease and BC5CDR `conll/*.tsv`). A `-DOCSTART-`
line (first whitespace-separated field) marks a document boundary.

The corpora are pre-tokenized, so each Doc is built from the given words
(a space between words, none after the last) and not re-tokenized. By
default one Doc per sentence; `n_sents` groups up to N consecutive sentences
of the same document per Doc (sentence starts are set either way). Types not
in the label map are dropped and counted as `unmapped_label`.

Malformed input raises InputFileError with the file and line: a non-blank
line without exactly 2 tab-separated columns, an empty token, a tag that is
not O/B-X/I-X, or an I-X that does not follow B-X or I-X in the same
sentence.
"""
from collections.abc import Iterator
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc, Span

from ..errors import ClinkdError, Errors, InputFileError
from ..tokenizer import clinical_blank
from .conversion_report import ConversionReport
from .labels import load_label_map
from .textio import read_lines, write_docbin

DOCSTART = "-DOCSTART-"

# (first line number, words, entities as (start token, end token, corpus type))
_Sentence = tuple[int, list[str], list[tuple[int, int, str]]]


def _read_sentences(path: Path) -> Iterator[_Sentence | None]:
    """Yield sentences in file order, and None at each -DOCSTART- line."""
    words: list[str] = []
    ents: list[tuple[int, int, str]] = []
    first_line = 0
    prev_tag = "O"
    for line_no, line in enumerate(read_lines(path), start=1):
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
        if not word:
            raise InputFileError(Errors.E114, path=path, line=line_no)
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
    """Convert a CoNLL/BIO file to Docs.

    path (Union[str, Path]): the token-per-line file.
    nlp (Language): supplies the vocab (use `clinical_blank()`).
    label_map (Dict[str, str]): corpus type → pipeline label.
    report (ConversionReport): receives the counts.
    split (str): the split name, for the report.
    n_sents (int): sentences per Doc (never across a -DOCSTART- boundary).
    limit (Optional[int]): stop after this many Docs.
    RETURNS (List[Doc]): the Docs; `user_data["doc_id"]` is "FILENAME:LINE"
        with the line of the Doc's first token.
    RAISES InputFileError: malformed input (see the module docstring).
    """
    if n_sents < 1:
        raise ClinkdError(Errors.E116.format(name="n_sents", value=n_sents))
    path = Path(path)
    docs: list[Doc] = []
    group: list[_Sentence] = []
    report.count_doc(split, 0)

    def flush() -> None:
        if group:
            doc_id = f"{path.name}:{group[0][0]}"
            docs.append(
                _make_doc(nlp, group, doc_id=doc_id, label_map=label_map, report=report, split=split)
            )
            group.clear()

    for sentence in _read_sentences(path):
        if limit is not None and len(docs) >= limit:
            break
        if sentence is None:
            flush()
            continue
        group.append(sentence)
        if len(group) >= n_sents:
            flush()
    if limit is None or len(docs) < limit:
        flush()
    return docs


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
    """Convert a CoNLL/BIO file to a .spacy file.

    input_file (Union[str, Path]): the token-per-line file.
    output_file (Union[str, Path]): the .spacy file to write.
    labels_path (Union[str, Path]): JSON label map (see `load_label_map`).
    n_sents (int): sentences per Doc.
    report_path (Optional[Union[str, Path]]): where to write the report JSON.
    limit (Optional[int]): keep only the first `limit` Docs.
    split (Optional[str]): split name in the report; default: the output stem.
    RETURNS (ConversionReport): the counts.
    """
    label_map = load_label_map(labels_path)
    report = ConversionReport(source=str(input_file))
    split = split if split is not None else Path(output_file).stem
    docs = read_conll(
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
