"""Corpus file I/O: one way to read text, lines and JSON objects, errors
naming file and line; DocBins written without a copy in memory.

Every text format is read here. A UTF-8 byte order mark is removed once, when
the file is opened. Line-based files (brat .ann, CoNLL, PubTator, text
specs) go through `LineReader`, which ends a line at "\\n", "\\r\\n" or a lone
"\\r" (old Mac tools) and records which of them a file uses, so that a
reader can say when a file mixes them. Whole texts (brat .txt) are decoded
without newline translation, so character offsets into them match the
offsets that brat counts. An unreadable file or a byte that is not UTF-8
stops with a numbered error naming the file (and line), never a traceback.
"""
import io
import re
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

import numpy
import srsly
from spacy.tokens import DocBin

from ..errors import ClinkdError, Errors, InputFileError, Warnings

BOM = "\ufeff"
_LINE_BREAK = re.compile(rb"\r\n|\r|\n")
_PRINTABLE_ENDS = {"\n": "\\n", "\r\n": "\\r\\n", "\r": "\\r"}


def _unreadable(path: Path, err: OSError) -> ClinkdError:
    return ClinkdError(Errors.E022.format(path=path, reason=err.strerror or err))


def decode_error(path: Path, data: bytes, err: UnicodeDecodeError) -> InputFileError:
    """RETURNS (InputFileError): E100 with the line and column of the first bad byte.

    path (Path): the file.
    data (bytes): its content, at least up to the bad byte.
    err (UnicodeDecodeError): the error `data.decode("utf8")` raised.
    """
    breaks = list(_LINE_BREAK.finditer(data, 0, err.start))
    line = len(breaks) + 1
    column = err.start - (breaks[-1].end() if breaks else 0) + 1
    byte = f"0x{data[err.start]:02x}"
    message = Errors.E100.format(byte=byte, column=column, reason=err.reason)
    return InputFileError(message, path=path, line=line)


def _locate_decode_error(path: Path) -> InputFileError | None:
    # Only on the error path: the whole file is read to find the bad byte.
    data = path.read_bytes()
    try:
        data.decode("utf8")
    except UnicodeDecodeError as err:
        return decode_error(path, data, err)
    return None


def _unreadable_text(path: Path) -> ClinkdError:
    return ClinkdError(Errors.E022.format(path=path, reason="not valid UTF-8"))


@contextmanager
def open_text(path: str | Path) -> Iterator[TextIO]:
    """Open a UTF-8 text file for a reader that needs a file object (csv).

    Lines are returned untranslated (newline=""), a leading byte order mark is
    removed, and an error while the block reads the file becomes E022 or
    E100 (with the line of the first bad byte), naming the file.

    path (Union[str, Path]): the file.
    YIELDS (TextIO): the open file.
    """
    path = Path(path)
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as err:
        raise _unreadable(path, err) from None
    try:
        with handle:
            yield handle
    except UnicodeDecodeError:
        raise (_locate_decode_error(path) or _unreadable_text(path)) from None


def read_text_and_bom(path: str | Path) -> tuple[str, bool]:
    """Read a whole file as UTF-8; a leading byte order mark is removed.

    path (Union[str, Path]): the file.
    RETURNS (Tuple[str, bool]): the text, newlines untouched, and whether a
        byte order mark was removed (brat offsets may count it).
    RAISES ClinkdError: the file cannot be read (E022).
    RAISES InputFileError: a byte sequence that is not UTF-8 (E100, with line).
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise _unreadable(path, err) from None
    try:
        text = data.decode("utf8")
    except UnicodeDecodeError as err:
        raise decode_error(path, data, err) from None
    if text.startswith(BOM):
        return text[1:], True
    return text, False


def read_json_object(path: Path, error: str, **fields: str) -> dict:
    """Read a JSON file that holds an object (a label map, a split file).

    path (Path): the file.
    error (str): the message raised otherwise, with `{path}` and `{reason}`.
    **fields (str): the message's other placeholders.
    RETURNS (dict): the object.
    RAISES ClinkdError: `error`: the file is missing, not JSON, or not an object.
    """
    try:
        data = srsly.read_json(path)
    except (OSError, ValueError) as err:
        raise ClinkdError(error.format(path=path, reason=err, **fields)) from err
    if not isinstance(data, dict):
        raise ClinkdError(error.format(path=path, reason=f"found {type(data).__name__}", **fields))
    return data


def read_text(path: str | Path) -> str:
    """Read a whole file as UTF-8, without a byte order mark (see `read_text_and_bom`).

    path (Union[str, Path]): the file.
    RETURNS (str): the decoded text, newlines untouched.
    """
    return read_text_and_bom(path)[0]


_TEXT_BREAK = re.compile("\r\n|\r|\n")
CHUNK_CHARS = 1 << 20


def _split_lines(text: TextIO) -> Iterator[tuple[str, str]]:
    """(line, its ending) of an untranslated text stream, read in chunks of
    CHUNK_CHARS characters (so memory is bounded by the longest line)."""
    buffer = ""
    while True:
        chunk = text.read(CHUNK_CHARS)
        eof = not chunk
        buffer += chunk
        pos = 0
        for match in _TEXT_BREAK.finditer(buffer):
            if not eof and match.end() == len(buffer) and match.group() == "\r":
                break  # perhaps the first half of a "\r\n" cut by the chunk
            yield buffer[pos : match.start()], match.group()
            pos = match.end()
        buffer = buffer[pos:]
        if eof:
            if buffer:
                yield buffer, ""
            return


class LineReader:
    """The lines of a UTF-8 file, streamed: (1-based line number, line).

    A line ends at "\\n", "\\r\\n" or a lone "\\r"; the ending is not part of
    the line. Other Unicode line breaks (U+2028, U+0085, ...) stay inside
    their line, as text editors show them. A byte order mark before the first
    line is removed. After iterating, `ends` counts each ending and `note()`
    says whether the file mixed them.

    path (Union[str, Path]): the file.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.ends: dict[str, int] = {}

    def __iter__(self) -> Iterator[tuple[int, str]]:
        try:
            handle = self.path.open("rb")
        except OSError as err:
            raise _unreadable(self.path, err) from None
        with handle:
            # newline="": nothing translated; line ends are found below.
            text = io.TextIOWrapper(handle, encoding="utf8", newline="")
            ends = self.ends
            try:
                for line_no, (line, end) in enumerate(_split_lines(text), start=1):
                    if line_no == 1 and line.startswith(BOM):
                        line = line[1:]
                    if end:
                        ends[end] = ends.get(end, 0) + 1
                    yield line_no, line
            except UnicodeDecodeError:
                raise (_locate_decode_error(self.path) or _unreadable_text(self.path)) from None
            except OSError as err:
                raise _unreadable(self.path, err) from None

    @property
    def mixed(self) -> bool:
        """RETURNS (bool): whether the lines read so far end in more than one way."""
        return len(self.ends) > 1

    def note(self) -> str | None:
        """RETURNS (Optional[str]): a report note (W100) if the file mixed line ends."""
        if not self.mixed:
            return None
        counts = ", ".join(f"{_PRINTABLE_ENDS[end]} {n}" for end, n in sorted(self.ends.items()))
        return Warnings.W100.format(path=self.path, counts=counts)


def read_lines(path: str | Path) -> list[str]:
    """Read a file's lines (see `LineReader`) into a list.

    path (Union[str, Path]): the file.
    RETURNS (List[str]): the lines without their line ending.
    """
    return [line for _, line in LineReader(path)]


def _bin_header(n: int) -> bytes:
    """msgpack's header of a bin object of n bytes (bin 8, bin 16 or bin 32)."""
    if n < 1 << 8:
        return b"\xc4" + n.to_bytes(1, "big")
    if n < 1 << 16:
        return b"\xc5" + n.to_bytes(2, "big")
    return b"\xc6" + n.to_bytes(4, "big")


def stream_docbin(docbin: DocBin, path: str | Path) -> None:
    """Write a DocBin as `DocBin.to_disk` does, without building it in memory.

    `DocBin.to_bytes` stacks all token arrays into one (a copy), turns that
    into bytes (a second), packs the message (a third) and compresses it. Here
    the same msgpack message, byte for byte (a test checks it against
    `to_bytes`), is packed piece by piece into a zlib stream, so the peak is
    the DocBin itself; `DocBin.from_disk` reads the file as usual.

    docbin (DocBin): the documents.
    path (Union[str, Path]): the file to write.
    """
    packer = srsly.msgpack.Packer(use_bin_type=True)
    compressor = zlib.compressobj()
    with Path(path).open("wb") as out:

        def write(data: bytes) -> None:
            out.write(compressor.compress(data))

        def write_arrays(arrays: list) -> None:
            write(_bin_header(sum(a.nbytes for a in arrays)))
            for array in arrays:
                write(numpy.ascontiguousarray(array).tobytes("C"))

        lengths = numpy.asarray([len(t) for t in docbin.tokens], dtype="int32")
        fields: list[tuple[str, object]] = [
            ("version", docbin.version),
            ("attrs", docbin.attrs),
            ("tokens", docbin.tokens),
            ("spaces", docbin.spaces),
            ("lengths", lengths.tobytes("C")),
            ("strings", sorted(docbin.strings)),
            ("cats", docbin.cats),
            ("flags", docbin.flags),
            ("span_groups", docbin.span_groups),
        ]
        if docbin.store_user_data:
            fields.append(("user_data", docbin.user_data))
        write(packer.pack_map_header(len(fields)))
        for key, value in fields:
            write(srsly.msgpack_dumps(key))
            if key in ("tokens", "spaces"):
                write_arrays(value)  # type: ignore[arg-type]
            else:
                write(srsly.msgpack_dumps(value))
        out.write(compressor.flush())
