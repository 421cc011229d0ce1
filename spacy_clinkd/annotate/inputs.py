"""Notes to annotate: a folder of .txt files, a JSONL file or a CSV file.

Every source is read twice: once for its ids only (`note_ids`: duplicate ids
stop the run before any work, and the count sizes the progress bar), then
for the notes themselves (`NoteSource.notes`), lazily, so memory does not
grow with the input. An input that cannot be read twice (a pipe such as
`/dev/stdin`, a device) is first copied once into a temporary file (a
"spool", removed by `NoteSource.close`) and read from there.

- folder: every `*.txt` below it, recursively, in sorted order; the id is the
  path relative to the folder, with "/" separators (`ward3/0001.txt`). A
  file name that is not UTF-8 keeps its bytes in the id, escaped
  (`caf\\xe9.txt`), so it is annotated like any other.
- JSONL: one object per line, `{"id": str or int, "text": str}`; blank lines
  are ignored. An int id becomes its decimal string.
- CSV: a header row, then one note per row; `id_column` and `text_column`
  name the columns (defaults "id" and "text"). Quoting is strict: a quote
  that is never closed, or text after a closing quote, is an error naming
  the line where the row starts, never rows merged into one note's text.

Text is decoded as UTF-8 without newline translation, and never changed,
so the character offsets of the output count into the note exactly as
read. A byte order mark at the start of a .txt file is part of the note
(character 0; offsets count it); the byte order mark of a JSONL or CSV file
stands before its first line, belongs to no note and is skipped.

What is a note's problem and what is the file's:

- a note that cannot be read (bytes that are not UTF-8 in its text, a file
  that cannot be opened, a text field that is missing or not a string)
  becomes a `Note` with `error` set; `annotate` writes it to the errors file
  and goes on;
- a problem that hides which note it is (a JSONL line that is not a JSON
  object, an id that is missing, empty, not a string or not UTF-8, a CSV row
  without the id column, a CSV quote that swallows the rows after it, a CSV
  row with more non-empty fields than the header) is the file's, and stops
  the run with an `InputFileError` naming the file and line, before any note
  is annotated: skipping it would lose a note without a trace.
"""
from __future__ import annotations

import csv
import fnmatch
import json
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import ClinkdError, Errors, InputFileError

FORMATS = ("folder", "jsonl", "csv")
UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Note:
    """One note of the input.

    id (str): the note's id, unique in the input.
    text (Optional[str]): the text as read; None when it could not be read.
    error (Optional[str]): why the note could not be read (None: it could).
    """

    id: str
    text: str | None
    error: str | None = None


def printable(text: str) -> str:
    """`text` made writable as UTF-8: lone surrogates (a file name's bytes
    that are not UTF-8, as Python decodes them) become `\\xNN` escapes."""
    try:
        text.encode("utf8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        return text.encode("utf8", "surrogateescape").decode("utf8", "backslashreplace")
    except UnicodeEncodeError:
        return text.encode("utf8", "backslashreplace").decode("utf8")


def _bad_utf8(data: bytes, err: UnicodeDecodeError) -> str:
    line = data.count(b"\n", 0, err.start) + 1
    column = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
    return f"not valid UTF-8 (byte 0x{data[err.start]:02x} at line {line}, column {column} of the text)"


def _unencodable(text: str) -> str | None:
    """Why a str cannot be written as UTF-8 (lone surrogates), or None."""
    try:
        text.encode("utf8")
    except UnicodeEncodeError as err:
        return f"not valid UTF-8 (character {err.start} of the text: {err.reason})"
    return None


def _identity(path: str | Path) -> tuple[int, int] | None:
    """(device, inode) of the file a path names, symlinks followed; None if there is none."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_dev, st.st_ino


class NoteSource:
    """Base class of the three input formats.

    path (Path): the input as given (named in messages).
    read_path (Path): where it is read from (a spool for a pipe).
    format (str): "folder", "jsonl" or "csv".
    """

    format: str
    path: Path
    read_path: Path
    spooled: bool = False

    def ids(self) -> Iterator[tuple[str, str]]:
        """Yield `(note id, where it is)` for every note, in input order.

        RAISES InputFileError: a note's id cannot be read.
        """
        raise NotImplementedError

    def notes(self, skip: Iterable[str] = ()) -> Iterator[Note]:
        """Yield the notes in input order, except those whose id is in `skip`.

        skip (Iterable[str]): ids not to read (already annotated).
        """
        raise NotImplementedError

    def clash(self, outputs: Mapping[str, Path]) -> tuple[str, Path, str] | None:
        """The first output that is (or, once written, would be) part of this input.

        outputs (Mapping[str, Path]): what → output path.
        RETURNS (Optional[Tuple[str, Path, str]]): what, its path, and which
            input it is; None if no output is.
        """
        mine = _identity(self.path)
        for what, path in outputs.items():
            if mine is not None and _identity(path) == mine:
                return what, path, f"the input {self.path}"
        return None

    def close(self) -> None:
        """Remove the spool, if any."""
        if self.spooled:
            self.read_path.unlink(missing_ok=True)
            self.spooled = False


def _is_under(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


class TextFolder(NoteSource):
    """Every .txt file below a folder; id = relative path with "/"."""

    format = "folder"

    def __init__(self, path: str | Path) -> None:
        self.path = self.read_path = Path(path)

    def _files(self) -> list[Path]:
        return sorted(p for p in self.path.rglob("*.txt") if p.is_file())

    def _id(self, file: Path) -> str:
        # A name that is not UTF-8 comes back from the OS with lone
        # surrogates, which no JSON line can hold: escape its bytes.
        return os.fsencode(file.relative_to(self.path).as_posix()).decode("utf8", "backslashreplace")

    def ids(self) -> Iterator[tuple[str, str]]:
        for file in self._files():
            yield self._id(file), printable(str(file))

    def notes(self, skip: Iterable[str] = ()) -> Iterator[Note]:
        skip = set(skip)
        for file in self._files():
            note_id = self._id(file)
            if note_id in skip:
                continue
            where = printable(str(file))
            try:
                data = file.read_bytes()
            except OSError as err:
                yield Note(note_id, None, f"cannot read {where}: {err.strerror or err}")
                continue
            try:
                yield Note(note_id, data.decode("utf8"))  # a BOM stays: character 0
            except UnicodeDecodeError as err:
                yield Note(note_id, None, f"{where}: {_bad_utf8(data, err)}")

    def clash(self, outputs: Mapping[str, Path]) -> tuple[str, Path, str] | None:
        folder, root = _identity(self.path), self.path.resolve()
        wanted: dict[tuple[int, int], tuple[str, Path]] = {}
        for what, path in outputs.items():
            identity = _identity(path)
            if identity is not None and identity == folder:
                return what, path, f"the input folder {self.path}"
            if _is_under(path.resolve(), root) and fnmatch.fnmatchcase(path.name, "*.txt"):
                return what, path, f"a .txt file in the input folder {self.path}: the next run would read it as a note"
            if identity is not None:
                wanted[identity] = (what, path)
        if wanted:  # a hard link or a symlink elsewhere may still be one of the notes
            for file in self._files():
                identity = _identity(file)
                if identity in wanted:
                    what, path = wanted[identity]
                    return what, path, f"the note file {printable(str(file))}"
        return None


class JsonlNotes(NoteSource):
    """One `{"id", "text"}` object per line."""

    format = "jsonl"

    def __init__(self, path: str | Path, *, read_path: str | Path | None = None) -> None:
        self.path = Path(path)
        self.read_path = Path(read_path) if read_path is not None else self.path

    def _parse(self, raw: bytes, line_no: int) -> Note | None:
        try:
            line = raw.decode("utf8")
            bad_bytes = None
        except UnicodeDecodeError as err:
            # The id may still be readable: decode the bad bytes reversibly.
            line = raw.decode("utf8", errors="surrogateescape")
            bad_bytes = _bad_utf8(raw, err)
        if not line.strip():
            return None
        try:
            obj = json.loads(line)
        except ValueError as err:
            reason = f"not JSON: {err}"
            raise InputFileError(Errors.E403.format(reason=reason), path=self.path, line=line_no) from None
        if not isinstance(obj, dict):
            reason = f"a JSON {type(obj).__name__}, not an object"
            raise InputFileError(Errors.E403.format(reason=reason), path=self.path, line=line_no)
        note_id = obj.get("id")
        if isinstance(note_id, int) and not isinstance(note_id, bool):
            note_id = str(note_id)
        if not isinstance(note_id, str) or not note_id or _unencodable(note_id):
            reason = "no id" if note_id is None else f"bad id {note_id!r}"
            raise InputFileError(Errors.E403.format(reason=reason), path=self.path, line=line_no)
        text = obj.get("text")
        if bad_bytes is not None:
            return Note(note_id, None, f"{self.path}:{line_no}: {bad_bytes}")
        if not isinstance(text, str):
            found = "no \"text\"" if text is None else f"\"text\" is a {type(text).__name__}, not a string"
            return Note(note_id, None, f"{self.path}:{line_no}: {found}")
        problem = _unencodable(text)
        if problem is not None:
            return Note(note_id, None, f"{self.path}:{line_no}: {problem}")
        return Note(note_id, text)

    def _lines(self) -> Iterator[tuple[int, bytes]]:
        try:
            with self.read_path.open("rb") as file:
                for line_no, raw in enumerate(file, start=1):
                    if line_no == 1 and raw.startswith(UTF8_BOM):
                        raw = raw[len(UTF8_BOM) :]  # the file's BOM, before the first object
                    yield line_no, raw
        except OSError as err:
            raise ClinkdError(Errors.E022.format(path=self.path, reason=err)) from err

    def ids(self) -> Iterator[tuple[str, str]]:
        for line_no, raw in self._lines():
            note = self._parse(raw, line_no)
            if note is not None:
                yield note.id, f"{self.path}:{line_no}"

    def notes(self, skip: Iterable[str] = ()) -> Iterator[Note]:
        skip = set(skip)
        for line_no, raw in self._lines():
            note = self._parse(raw, line_no)
            if note is not None and note.id not in skip:
                yield note


def _csv_reason(err: csv.Error) -> str:
    message = str(err)
    if "unexpected end of data" in message:
        return (
            "a quoted field opens in this row and is never closed: every line after it would be "
            "read as its text"
        )
    if "expected after" in message:
        return "a field goes on after its closing quote: a quote inside a quoted field must be doubled (\"\")"
    return message


class CsvNotes(NoteSource):
    """A CSV file with a header row; one note per row."""

    format = "csv"

    def __init__(
        self,
        path: str | Path,
        *,
        id_column: str = "id",
        text_column: str = "text",
        read_path: str | Path | None = None,
    ) -> None:
        self.path = Path(path)
        self.read_path = Path(read_path) if read_path is not None else self.path
        self.id_column = id_column
        self.text_column = text_column

    def _rows(self) -> Iterator[tuple[int, str, str | None, str | None]]:
        """(line, id, text, problem with the text) per row."""
        # Notes are longer than the csv module's default field limit (128 KiB).
        csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
        try:
            # utf-8-sig: the BOM that spreadsheet programs write is the file's, not the header's
            file = self.read_path.open(encoding="utf-8-sig", errors="surrogateescape", newline="")
        except OSError as err:
            raise ClinkdError(Errors.E022.format(path=self.path, reason=err)) from err
        with file:
            # strict: a stray quote is an error, not a field that runs on over the next rows
            reader = csv.reader(file, strict=True)
            try:
                header = next(reader, None)
            except csv.Error as err:
                raise InputFileError(Errors.E405.format(reason=_csv_reason(err)), path=self.path, line=1) from None
            header = header or []
            for column in (self.id_column, self.text_column):
                if column not in header:
                    raise ClinkdError(Errors.E361.format(path=self.path, column=column, columns=header))
            id_index, text_index = header.index(self.id_column), header.index(self.text_column)
            while True:
                line_no = reader.line_num + 1
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except csv.Error as err:
                    reason = _csv_reason(err)
                    raise InputFileError(Errors.E405.format(reason=reason), path=self.path, line=line_no) from None
                if not row:
                    continue
                if any(field.strip() for field in row[len(header) :]):
                    reason = (
                        f"{len(row)} fields under a header of {len(header)}: a field that holds a comma "
                        "must be quoted, or part of the note would be lost"
                    )
                    raise InputFileError(Errors.E405.format(reason=reason), path=self.path, line=line_no)
                note_id = row[id_index] if id_index < len(row) else ""
                if not note_id or _unencodable(note_id):
                    reason = f"bad id {note_id!r} in column '{self.id_column}'"
                    raise InputFileError(Errors.E405.format(reason=reason), path=self.path, line=line_no)
                if text_index >= len(row):
                    reason = f"the row has {len(row)} fields and no '{self.text_column}'"
                    yield line_no, note_id, None, f"{self.path}:{line_no}: {reason}"
                    continue
                text = row[text_index]
                problem = _unencodable(text)
                yield line_no, note_id, text, None if problem is None else f"{self.path}:{line_no}: {problem}"

    def ids(self) -> Iterator[tuple[str, str]]:
        for line_no, note_id, _, _ in self._rows():
            yield note_id, f"{self.path}:{line_no}"

    def notes(self, skip: Iterable[str] = ()) -> Iterator[Note]:
        skip = set(skip)
        for _, note_id, text, problem in self._rows():
            if note_id in skip:
                continue
            yield Note(note_id, None, problem) if problem is not None else Note(note_id, text)


def _spool(path: Path) -> Path:
    """Copy a pipe or device, which can be read only once, into a temporary file.

    RETURNS (Path): the copy (in the temp folder, `TMPDIR`).
    RAISES ClinkdError: E428.
    """
    fd, name = tempfile.mkstemp(prefix="clinkd-annotate-", suffix=".spool")
    try:
        with open(path, "rb") as src, os.fdopen(fd, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
    except OSError as err:
        Path(name).unlink(missing_ok=True)
        raise ClinkdError(Errors.E428.format(path=path, reason=err.strerror or err)) from err
    return Path(name)


def open_source(
    path: str | Path,
    *,
    input_format: str | None = None,
    id_column: str = "id",
    text_column: str = "text",
) -> NoteSource:
    """The note source for a path: a folder, a .jsonl or a .csv file, or a
    pipe or device (read once into a spool; call `close()` to remove it).

    path (Union[str, Path]): the input.
    input_format (Optional[str]): "folder", "jsonl" or "csv"; None: from the
        path (a directory, or the file suffix .jsonl/.ndjson or .csv).
    id_column (str): CSV column of the note id.
    text_column (str): CSV column of the note text.
    RETURNS (NoteSource): the source.
    RAISES ClinkdError: the path does not exist or its format is unknown.
    """
    path = Path(path)
    if not path.exists():
        raise ClinkdError(Errors.E400.format(path=path))
    if input_format is None:
        if path.is_dir():
            input_format = "folder"
        elif path.suffix.lower() in (".jsonl", ".ndjson"):
            input_format = "jsonl"
        elif path.suffix.lower() == ".csv":
            input_format = "csv"
        else:
            raise ClinkdError(Errors.E401.format(path=path))
    if input_format not in FORMATS:
        raise ClinkdError(Errors.E415.format(format=input_format, options=list(FORMATS)))
    if input_format == "folder":
        return TextFolder(path)
    mode = path.stat().st_mode
    read_path = None if stat.S_ISREG(mode) or stat.S_ISDIR(mode) else _spool(path)
    source: NoteSource
    if input_format == "jsonl":
        source = JsonlNotes(path, read_path=read_path)
    else:
        source = CsvNotes(path, id_column=id_column, text_column=text_column, read_path=read_path)
    source.spooled = read_path is not None
    return source


def note_ids(source: NoteSource) -> list[str]:
    """Every note id of a source, in input order, checked to be unique.

    source (NoteSource): the input.
    RETURNS (List[str]): the ids.
    RAISES ClinkdError: an id occurs twice (E402), or a note's id cannot be read.
    """
    first: dict[str, str] = {}
    ids: list[str] = []
    for note_id, where in source.ids():
        if note_id in first:
            raise ClinkdError(Errors.E402.format(note_id=note_id, first=first[note_id], second=where))
        first[note_id] = where
        ids.append(note_id)
    return ids
