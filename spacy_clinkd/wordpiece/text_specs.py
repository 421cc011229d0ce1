"""Text specs: the texts the vocabulary statistics count, where they come
from and how to read them, streamed one text at a time (no corpus is held in
memory; a PubTator or DocBin file is read whole, one file at a time). The
corpus readers that make training data are `spacy_clinkd.corpora`.

A spec is one string, `FORMAT[*WEIGHT][:COLUMN]:GLOB`:

    txt:assets/mtsamples/cogstack_txt_small/*.txt      one text per file
    lines:notes/*.txt                                  one text per line
    csv:5:assets/mtsamples/kaggle_csv_rows0-400/*.csv  CSV without header, 5th column (1-based)
    csv:note:assets/aci_bench/challenge_data/*.csv!*_metadata.csv
                                                       CSV with a header row, column "note";
                                                       files whose name matches the glob after
                                                       "!" are excluded
    tsv:3:assets/brown/brown_sentences.part*.tsv       TSV without header, 3rd column (1-based)
    jsonl:text:corpus/transfer/transfer.jsonl          JSON Lines, the "text" field of each record
    wikitext:assets/wikitext2_raw_test/wiki.test.raw   WikiText raw: one line per text, @-@ @,@ @.@ undone
    spacy:corpus/maccrobat/train.spacy                 the texts of a DocBin
    ents:corpus/maccrobat/train.spacy                  the entity mentions of a DocBin, one
                                                       text per Doc, a mention per line
                                                       (task-adaptive counts: the words NER
                                                       must read; use the train split only)
    pubtator:assets/ncbi_disease/original/NCBItrainset_corpus.txt
                                                       PubTator: title + abstract per
                                                       document (annotations are ignored)

`*WEIGHT` (a whole number, default 1) multiplies the counts of that source,
e.g. `spacy*3:corpus/maccrobat/train.spacy` counts the in-domain labelled
split three times against the transcription notes.

Globs are expanded relative to the working directory and sorted, so the order
of texts (and of everything counted from them) never depends on the file
system. A glob that matches nothing is an error, not an empty corpus.
"""
import csv
import fnmatch
import glob
import hashlib
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..corpora.textio import LineReader, open_text, read_text
from ..errors import ClinkdError, Errors

FORMATS_WITH_COLUMN = ("csv", "tsv", "jsonl")
FORMATS = ("txt", "lines", "csv", "tsv", "jsonl", "wikitext", "spacy", "ents", "pubtator")
# Formats whose texts are not documents, so identical texts are not copies.
NOT_DEDUPED = ("ents",)

# Defaults for this project (paths as `fetch-assets` lays out assets/). The
# clinical side is the MACCROBAT *train* split plus unlabeled notes: never dev
# or test text, which the fragmentation report measures. Train's entity
# mentions count five more times: on dev entity words this cut pieces by
# 31.8% against 27.2% without them (K = 1,500; docs/RESULTS.md).
DEFAULT_CLINICAL: list[str] = [
    "spacy:corpus/maccrobat/train.spacy",
    "ents*5:corpus/maccrobat/train.spacy",
    "txt:assets/mtsamples/cogstack_txt_small/*.txt",
    "csv:5:assets/mtsamples/kaggle_csv_rows0-400/*.csv",
    "csv:note:assets/aci_bench/challenge_data/*.csv!*_metadata.csv",
]
DEFAULT_GENERAL: list[str] = [
    "tsv:3:assets/brown/brown_sentences.part*.tsv",
    "wikitext:assets/wikitext2_raw_test/wiki.test.raw",
]

WIKITEXT_MARKERS = re.compile(r" @([-,.])@ ")
# "!" starts the exclusion glob, except as "[!" (a negated character class).
EXCLUDE_SEP = re.compile(r"(?<!\[)!")


@dataclass(frozen=True)
class CorpusSpec:
    """One source of texts.

    fmt (str): one of FORMATS.
    pattern (str): a path or glob, optionally followed by "!" and a glob of
        file names to leave out.
    column (Optional[str]): csv/tsv only: a 1-based column number (file has
        no header row) or a column name (first row is the header); jsonl:
        the field of each record.
    weight (int): counts from this source are multiplied by it.
    """

    fmt: str
    pattern: str
    column: str | None = None
    weight: int = 1

    def __str__(self) -> str:
        fmt = self.fmt if self.weight == 1 else f"{self.fmt}*{self.weight}"
        if self.column is None:
            return f"{fmt}:{self.pattern}"
        return f"{fmt}:{self.column}:{self.pattern}"

    def paths(self) -> list[Path]:
        """RETURNS (List[Path]): the matching files, sorted."""
        include, *excludes = EXCLUDE_SEP.split(self.pattern)
        matches = sorted(glob.glob(include, recursive=True))
        files = [
            Path(m)
            for m in matches
            if Path(m).is_file() and not any(fnmatch.fnmatch(Path(m).name, x) for x in excludes)
        ]
        if not files:
            raise ClinkdError(Errors.E300.format(spec=str(self)))
        return files


def parse_spec(spec: str) -> CorpusSpec:
    """Parse `FORMAT[:COLUMN]:GLOB` (see the module docstring).

    spec (str): the spec string.
    RETURNS (CorpusSpec): the parsed spec.
    RAISES ClinkdError: unknown format, missing column or empty glob.
    """
    fmt, sep, rest = spec.partition(":")
    fmt, star, weight_str = fmt.strip().lower().partition("*")
    weight = 1
    if star:
        if not weight_str.isdigit() or int(weight_str) < 1:
            raise ClinkdError(Errors.E314.format(spec=spec))
        weight = int(weight_str)
    if not sep or fmt not in FORMATS or not rest:
        raise ClinkdError(Errors.E301.format(spec=spec, formats=", ".join(FORMATS)))
    column: str | None = None
    if fmt in FORMATS_WITH_COLUMN:
        column, sep, rest = rest.partition(":")
        if not sep or not column or not rest:
            raise ClinkdError(Errors.E301.format(spec=spec, formats=", ".join(FORMATS)))
        if column.isdigit() and int(column) < 1:
            raise ClinkdError(Errors.E302.format(spec=spec, column=column))
    return CorpusSpec(fmt=fmt, pattern=rest, column=column, weight=weight)


def parse_specs(specs: Iterable[str | CorpusSpec]) -> list[CorpusSpec]:
    """RETURNS (List[CorpusSpec]): every spec parsed (CorpusSpec passes through)."""
    return [s if isinstance(s, CorpusSpec) else parse_spec(s) for s in specs]


def undo_wikitext(line: str) -> str:
    """Undo WikiText's number/hyphen markers: ' @-@ ' → '-', ' @,@ ' → ',', ' @.@ ' → '.'."""
    return WIKITEXT_MARKERS.sub(r"\1", line)


def read_spec(spec: CorpusSpec) -> Iterator[str]:
    """Stream the texts of one spec, file by file.

    spec (CorpusSpec): the source.
    YIELDS (str): one text (a document, row or line).
    """
    for path in spec.paths():
        yield from _read_file(spec, path)


def _read_file(spec: CorpusSpec, path: Path) -> Iterator[str]:
    # All text goes through corpora.textio: BOM removed, and an unreadable
    # file or a byte that is not UTF-8 stops with an error naming the file.
    if spec.fmt == "txt":
        yield read_text(path)
    elif spec.fmt in ("lines", "wikitext"):
        for _, line in LineReader(path):
            if spec.fmt == "wikitext":
                line = undo_wikitext(line)
            if line.strip():
                yield line
    elif spec.fmt in ("csv", "tsv"):
        yield from _read_table(spec, path)
    elif spec.fmt == "jsonl":
        from ..corpora.transfer import read_jsonl

        # A malformed line raises InputFileError with the file and line.
        for record in read_jsonl(path):
            text = record.get(spec.column)
            if isinstance(text, str) and text.strip():
                yield text
    elif spec.fmt in ("spacy", "ents"):
        import spacy
        from spacy.tokens import DocBin

        vocab = spacy.blank("en").vocab
        try:
            docs = list(DocBin().from_disk(path).get_docs(vocab))
        except (OSError, ValueError, KeyError) as err:
            raise ClinkdError(Errors.E316.format(path=path, reason=err)) from err
        for doc in docs:
            if spec.fmt == "spacy":
                yield doc.text
            elif doc.ents:
                # One text per Doc, a mention per line; `iter_texts` does not
                # de-duplicate these (two Docs may mention just "fever").
                yield "\n".join(ent.text for ent in doc.ents)
    elif spec.fmt == "pubtator":
        from ..corpora.conversion_report import ConversionReport
        from ..corpora.pubtator import iter_pubtator

        # Malformed files raise InputFileError with the file and line.
        for document in iter_pubtator(path, report=ConversionReport(source=str(path))):
            yield document.text


def _read_table(spec: CorpusSpec, path: Path) -> Iterator[str]:
    # Clinical notes hold many lines per field, far past csv's 128 KiB default.
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    column = spec.column or "1"
    delimiter = "\t" if spec.fmt == "tsv" else ","
    with open_text(path) as f:
        if spec.fmt == "tsv":
            # Brown-style TSVs carry quotes as text (`` and ''): no quoting.
            rows: Iterator[list[str]] = csv.reader(f, delimiter=delimiter, quoting=csv.QUOTE_NONE)
        else:
            rows = csv.reader(f, delimiter=delimiter)
        if column.isdigit():
            index = int(column) - 1
        else:
            header = next(rows, None)
            if header is None:
                return
            if column not in header:
                raise ClinkdError(
                    Errors.E303.format(path=path, column=column, header=header)
                )
            index = header.index(column)
        for row in rows:
            if index < len(row) and row[index].strip():
                yield row[index]


def iter_texts(
    specs: Sequence[CorpusSpec], *, dedupe: bool = True
) -> Iterator[tuple[str, int]]:
    """Stream the texts of all specs in order, with their spec's weight.

    specs (Sequence[CorpusSpec]): the sources; all globs are checked before
        the first text is read, so a typo fails fast.
    dedupe (bool): skip a text whose exact content was already yielded (the
        MTSamples subsets overlap). Only 16-byte digests are kept in memory.
        Mention lists (`ents`) are never skipped: equal lists from two
        documents are two documents' mentions.
    YIELDS (Tuple[str, int]): one text and its weight.
    """
    for spec in specs:
        spec.paths()
    seen: set[bytes] = set()
    for spec in specs:
        for text in read_spec(spec):
            if dedupe and spec.fmt not in NOT_DEDUPED:
                digest = hashlib.blake2b(text.encode("utf8"), digest_size=16).digest()
                if digest in seen:
                    continue
                seen.add(digest)
            yield text, spec.weight
