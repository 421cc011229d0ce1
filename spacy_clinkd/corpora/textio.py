"""Corpus file I/O: read UTF-8 with errors naming file and line; write DocBins.

Text is decoded without newline translation, so character offsets into the
returned string match the offsets that brat and PubTator count.
"""
from pathlib import Path

from spacy.tokens import Doc, DocBin

from ..errors import ClinkdError, Errors, InputFileError


def read_text(path: str | Path) -> str:
    """Read a whole file as UTF-8 (a leading BOM is kept, as offsets count it).

    path (Union[str, Path]): the file.
    RETURNS (str): the decoded text, newlines untouched.
    RAISES InputFileError: the file holds a byte sequence that is not UTF-8;
        the message names the 1-based line of the first bad byte.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ClinkdError(Errors.E115.format(path=path, reason=err)) from err
    try:
        return data.decode("utf8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        column = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
        byte = f"0x{data[err.start]:02x}"
        message = Errors.E100.format(byte=byte, column=column, reason=err.reason)
        raise InputFileError(message, path=path, line=line) from None


def read_lines(path: str | Path) -> list[str]:
    """Read a file as UTF-8 lines, split on "\\n" only.

    Other Unicode line breaks (U+2028, U+0085, ...) stay inside their line, so
    list index + 1 is the line number a text editor shows. A trailing "\\r" is
    removed from each line.

    path (Union[str, Path]): the file.
    RETURNS (List[str]): the lines without their line ending.
    """
    text = read_text(path)
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


def write_docbin(docs: list[Doc], path: str | Path) -> None:
    """Write Docs (entities and `user_data`, so `doc_id` too) as a .spacy file.

    docs (List[Doc]): the documents.
    path (Union[str, Path]): the output file; parent folders are created.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    DocBin(docs=docs, store_user_data=True).to_disk(path)
