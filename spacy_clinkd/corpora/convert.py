"""The one conversion body of brat, CoNLL and PubTator: parsed documents →
Docs with entities → one DocBin per split, counted in a ConversionReport.

A format module only parses. It yields `ParsedDoc`s (an id, the text or the
given words, the entities as `CharSpan`s) and counts in the report what it
skips or drops while parsing. `make_docs` makes the Docs (the clinical
tokenizer, or the given words of a pre-tokenized corpus; entities by
`spans.set_entities`); `convert` writes them: every split is read before any
file is written, so malformed input leaves no output behind, and each file
is written atomically.
"""
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from itertools import islice
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc, DocBin

from ..paths import check_distinct, check_output_file, write_atomic
from ..tokenizer import clinical_blank
from .conversion_report import ConversionReport
from .labels import load_label_map
from .spans import CharSpan, set_entities
from .textio import stream_docbin


@dataclass(frozen=True)
class ParsedDoc:
    """One document as a format reader parsed it.

    doc_id (str): stored in `doc.user_data["doc_id"]`.
    spans (List[CharSpan]): its entities, as offsets into the Doc's text.
    text (str): the text, tokenized by the clinical tokenizer (unless `words`).
    words (Optional[List[str]]): the words of a pre-tokenized corpus, taken as
        they are: one space between two words, none after the last.
    sent_starts (Optional[List[bool]]): the sentence starts of `words`.
    """

    doc_id: str
    spans: list[CharSpan]
    text: str = ""
    words: list[str] | None = None
    sent_starts: list[bool] | None = None


def make_docs(
    documents: Iterable[ParsedDoc],
    *,
    nlp: Language,
    label_map: dict[str, str],
    report: ConversionReport,
    split: str,
    aux_map: dict[str, str] | None = None,
    context_map: dict[str, str] | None = None,
    limit: int | None = None,
) -> Iterator[Doc]:
    """Make the Docs of parsed documents, one at a time, and count them.

    documents (Iterable[ParsedDoc]): the documents of one split.
    nlp (Language): supplies the tokenizer and vocab (use `clinical_blank()`).
    label_map (Dict[str, str]): corpus type → pipeline label.
    report (ConversionReport): receives the counts.
    split (str): the split name, for the report.
    aux_map (Optional[Dict[str, str]]): corpus type → auxiliary label (see
        `spans.set_entities`).
    context_map (Optional[Dict[str, str]]): corpus type → context value (see
        `spans.set_entities`).
    limit (Optional[int]): stop after this many documents; the rest are not
        even parsed.
    YIELDS (Doc): the Docs with `doc.ents` and `user_data["doc_id"]` set.
    """
    report.count_doc(split, 0)
    for parsed in islice(documents, limit):
        if parsed.words is None:
            doc = nlp.make_doc(parsed.text)
        else:
            spaces = [True] * (len(parsed.words) - 1) + [False] if parsed.words else []
            doc = Doc(nlp.vocab, words=parsed.words, spaces=spaces, sent_starts=parsed.sent_starts)
        doc.user_data["doc_id"] = parsed.doc_id
        set_entities(
            doc, parsed.spans, label_map=label_map, report=report, split=split, aux_map=aux_map,
            context_map=context_map,
        )
        report.count_doc(split)
        yield doc


def convert(
    splits: Iterable[tuple[str, Iterable[ParsedDoc]]],
    outputs: Mapping[str, Path],
    *,
    report: ConversionReport,
    label_map: dict[str, str],
    aux_map: dict[str, str] | None = None,
    context_map: dict[str, str] | None = None,
    report_path: str | Path | None = None,
    limit: int | None = None,
) -> ConversionReport:
    """Convert parsed splits to DocBins; the outputs are checked by the caller.

    splits (Iterable[Tuple[str, Iterable[ParsedDoc]]]): (split name, its
        documents), each split read before the next is asked for.
    outputs (Mapping[str, Path]): split name → the .spacy file to write.
    report (ConversionReport): the report the parser counts in, too.
    label_map (Dict[str, str]): corpus type → pipeline label.
    aux_map (Optional[Dict[str, str]]): corpus type → auxiliary label.
    context_map (Optional[Dict[str, str]]): corpus type → context value.
    report_path (Optional[Union[str, Path]]): where to write the report JSON.
    limit (Optional[int]): keep only the first `limit` documents of each split.
    RETURNS (ConversionReport): `report`.
    """
    nlp = clinical_blank()
    docbins: dict[str, DocBin] = {}
    for split, documents in splits:
        docbin = docbins[split] = DocBin(store_user_data=True)
        for doc in make_docs(
            documents, nlp=nlp, label_map=label_map, report=report, split=split, aux_map=aux_map,
            context_map=context_map, limit=limit,
        ):
            docbin.add(doc)
    for split, docbin in docbins.items():
        write_atomic(outputs[split], partial(stream_docbin, docbin))
    if report_path is not None:
        report.write_json(report_path)
    return report


def convert_file(
    parse: Callable[[Path, ConversionReport], Iterable[ParsedDoc]],
    input_file: str | Path,
    output_file: str | Path,
    *,
    labels_path: str | Path,
    report_path: str | Path | None = None,
    limit: int | None = None,
    split: str | None = None,
) -> ConversionReport:
    """Convert one corpus file (CoNLL, PubTator) to one .spacy file.

    The outputs are checked before the input is read: neither the DocBin nor
    the report may be an input or each other, or a folder, and their folders
    must be writable (E020, E021, E023).

    parse (Callable[[Path, ConversionReport], Iterable[ParsedDoc]]): the
        format's parser, e.g. `conll.parse_conll`.
    input_file (Union[str, Path]): the corpus file.
    output_file (Union[str, Path]): the .spacy file to write.
    labels_path (Union[str, Path]): JSON label map (see `load_label_map`).
    report_path (Optional[Union[str, Path]]): where to write the report JSON.
    limit (Optional[int]): keep only the first `limit` Docs.
    split (Optional[str]): split name in the report; default: the output stem.
    RETURNS (ConversionReport): the counts.
    """
    inputs = {"the input file": input_file, "the label map": labels_path}
    check_output_file(output_file, inputs=inputs)
    if report_path is not None:
        check_output_file(report_path, inputs=inputs)
        check_distinct({"the output file": output_file, "the report": report_path})
    label_map = load_label_map(labels_path)
    report = ConversionReport(source=str(input_file))
    split = split if split is not None else Path(output_file).stem
    documents = parse(Path(input_file), report)
    return convert(
        [(split, documents)], {split: Path(output_file)}, report=report, label_map=label_map,
        report_path=report_path, limit=limit,
    )
