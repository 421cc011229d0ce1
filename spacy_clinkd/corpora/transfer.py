"""Transfer texts: unlabelled notes for distillation, read as spaCy Examples.

`clinkd.transfer_corpus.v1` (a spaCy reader) reads a folder of .txt files, a
CSV column or JSONL `{"text": ...}` and cuts each note into chunks of whole
lines of at most `max_tokens` tokens. The examples' references carry no entity
annotation, so they add only the teacher's soft term to the distillation loss.
"""
import csv
import hashlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import srsly
from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example

from ..errors import ClinkdError, Errors, InputFileError
from ..models.windows import line_windows
from .textio import LineReader, open_text, read_text

# Set on chunks cut from a longer document (see `chunk_doc`): the key of the
# whole document and the chunk's character offset into it.
CHUNK_KEY = "clinkd_chunk"


def text_key(text: str) -> str:
    """The key of a text (chunks, teacher-target cache): its SHA-1, hex."""
    return hashlib.sha1(text.encode("utf8")).hexdigest()


def read_jsonl_lines(path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, object) for each non-blank line of a JSONL file; a line
    that is not a JSON object raises E359 naming the file and line. Lines are
    read by `textio.LineReader`, so a U+2028 inside a JSON string (valid
    JSON) does not cut its record in two, as `str.splitlines` would."""
    for line_no, line in LineReader(path):
        if not line.strip():
            continue
        try:
            record = srsly.json_loads(line)
        except ValueError as err:
            raise InputFileError(Errors.E359.format(reason=err), path=path, line=line_no) from None
        if not isinstance(record, dict):
            raise InputFileError(Errors.E359.format(reason="not an object"), path=path, line=line_no)
        yield line_no, record


def read_jsonl(path: Path) -> Iterator[dict]:
    """The JSON objects of a JSONL file, one per non-blank line (see
    `read_jsonl_lines`, which also gives each one's line number)."""
    for _, record in read_jsonl_lines(path):
        yield record


def read_texts(
    path: str | Path,
    *,
    pattern: str = "*",
    exclude: str = "",
    column: str = "note",
    field: str = "text",
) -> Iterator[str]:
    """Texts from a .txt file (whole file), a .csv file (`column`), a .jsonl
    file (`field`), or a directory of such files (`pattern`, minus names
    matching `exclude`), in sorted path order.

    RETURNS (Iterator[str]): the non-blank texts.
    """
    path = Path(path)
    if path.is_dir():
        files = sorted(
            p for p in path.rglob(pattern)
            if p.is_file() and not (exclude and p.match(exclude))
        )
    elif path.is_file():
        files = [path]
    else:
        raise ClinkdError(Errors.E360.format(path=path, reason="no such file or directory"))
    for file in files:
        suffix = file.suffix.lower()
        if suffix == ".csv":
            texts: Iterator[str] = _csv_texts(file, column)
        elif suffix == ".jsonl":
            texts = (str(r.get(field, "")) for r in read_jsonl(file))
        elif suffix == ".txt":
            texts = iter([read_text(file)])
        else:
            raise ClinkdError(Errors.E360.format(path=file, reason="expected .txt, .csv or .jsonl"))
        for text in texts:
            if text.strip():
                yield text


def _csv_texts(path: Path, column: str) -> Iterator[str]:
    # Clinical notes in one CSV field can exceed csv's default 128 KB limit.
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    with open_text(path) as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or column not in reader.fieldnames:
            raise ClinkdError(
                Errors.E361.format(path=path, column=column, columns=reader.fieldnames)
            )
        for row in reader:
            yield row[column] or ""


def chunk_doc(doc: Doc, max_tokens: int, make_doc: Callable[[str], Doc] | None = None) -> list[Doc]:
    """Cut a doc into docs of whole lines with at most `max_tokens` tokens
    (a longer line is cut), using the encoder's `line_windows`. Each chunk
    records (key of the whole text, character offset) in
    `user_data["clinkd_chunk"]`, so span-file teachers can find its spans.

    make_doc (Optional[Callable[[str], Doc]]): the tokenizer of the chunks'
        texts. A cut inside a line can fall between tokens the tokenizer
        splits only in context ("15/15" read from "/15" on is "/15"), and a
        teacher that tokenizes the chunk's text must see the chunk's tokens:
        with `make_doc`, each chunk is its text as `make_doc` tokenizes it.
        None: the window's own tokens (`Span.as_doc`).
    RETURNS (List[Doc]): the chunks that hold a non-space token.
    """
    if len(doc) <= max_tokens:
        return [doc] if any(not t.is_space for t in doc) else []
    key = text_key(doc.text)
    chunks: list[Doc] = []
    for window in line_windows(doc, max_tokens):
        if all(t.is_space for t in window):
            continue
        chunk = make_doc(window.text_with_ws) if make_doc is not None else window.as_doc()
        chunk.user_data[CHUNK_KEY] = (key, window.start_char)
        chunks.append(chunk)
    return chunks


def create_transfer_corpus(
    path: str | None,
    *,
    pattern: str = "*",
    exclude: str = "",
    column: str = "note",
    field: str = "text",
    max_docs: int = 0,
    max_tokens: int = 256,
) -> Callable[[Language], Iterator[Example]]:
    """Registered as `clinkd.transfer_corpus.v1` (spacy_readers): unlabelled
    texts as Examples whose reference has no entity annotation, so they add
    only the soft (teacher) term to the distillation loss.

    path (Optional[str]): a file or folder (see `read_texts`); None: no texts.
    pattern (str): file glob inside a folder, e.g. "*.txt".
    exclude (str): file names to skip, e.g. "*_metadata.csv".
    column (str): the text column of CSV files.
    field (str): the text field of JSONL records.
    max_docs (int): read at most this many texts (0: all), before chunking.
    max_tokens (int): the most spaCy tokens per chunk.
    RETURNS (Callable[[Language], Iterator[Example]]): the reader.
    """
    if max_tokens < 1:
        raise ClinkdError(Errors.E116.format(name="max_tokens", value=max_tokens))

    def read(nlp: Language) -> Iterator[Example]:
        if path is None:
            return
        for i, text in enumerate(read_texts(path, pattern=pattern, exclude=exclude, column=column, field=field)):
            if max_docs and i >= max_docs:
                break
            for chunk in chunk_doc(nlp.make_doc(text), max_tokens, make_doc=nlp.make_doc):
                yield Example.from_dict(chunk, {})

    return read
