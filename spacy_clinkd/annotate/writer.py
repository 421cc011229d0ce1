"""The single writer of an annotate run: resumable JSONL files and DocBin shards.

Resuming rests on three facts:

1. Each record is one line written whole: the run appends complete lines
   (`write_all`), so after a kill at any moment the file is a sequence of
   complete records, perhaps followed by one torn line without its newline.
   Opening the file again (`JsonlLog.open`: `lock`, then `load`) reads the
   complete records, cuts the torn tail off, and returns the ids it holds; a
   complete line that is not a record is somebody else's change and stops
   the run (E408). `annotate` calls `load` only once the output's manifest
   says the file is this run's (`manifest.py`): a file that is not is never
   cut.
2. One writer per output: the log holds an exclusive `flock` on the file, so
   a second run on the same output stops at once (E409) instead of
   interleaving lines. The kernel drops the lock when a process dies, so a
   killed run never leaves it behind.
3. DocBin shards (optional) are written before the records of their notes,
   each by write-then-rename. On resume, `ShardWriter.open` keeps only the
   docs of notes whose record is in the output (a shard whose records never
   made it is cut down, or removed), so shards and records end up holding
   the same notes, once each.

A write that fails (full disk, lost permission) raises `ClinkdError` (E407):
everything before it is complete on disk, and the same command resumes.
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from spacy.tokens import DocBin
from spacy.vocab import Vocab

from ..errors import ClinkdError, Errors
from .records import dumps

try:  # not on Windows: there, a second run on the same output is not refused
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

NOTE_ID = "note_id"  # key of the note id in the user_data of DocBin docs


def errors_path(output: str | Path) -> Path:
    """The errors file beside an output: notes.jsonl → notes.errors.jsonl."""
    output = Path(output)
    stem = output.name[: -len(".jsonl")] if output.name.endswith(".jsonl") else output.name
    return output.with_name(f"{stem}.errors.jsonl")


def write_all(fd: int, data: bytes) -> None:
    """Write all of `data` to a file descriptor (os.write may write less)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class JsonlLog:
    """An append-only JSONL file of records with a string "id".

    path (Union[str, Path]): the file; created (with its folder) if missing.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._fd: int | None = None
        self.ids: set[str] = set()
        self.torn_bytes = 0

    def open(self) -> set[str]:
        """Lock the file, drop a torn last line, and read the ids it holds (`lock`, then `load`).

        RETURNS (Set[str]): the ids of the complete records.
        RAISES ClinkdError: the file cannot be created or written (E407), is
            locked by another run (E409), or holds a line that is not a record (E408).
        """
        self.lock()
        return self.load()

    def lock(self) -> int:
        """Open (create) the file and take its lock; nothing in it is changed yet.

        RETURNS (int): its size in bytes.
        RAISES ClinkdError: E407 or E409.
        """
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise ClinkdError(Errors.E407.format(path=self.path, reason=err.strerror or err)) from err
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                raise ClinkdError(Errors.E409.format(path=self.path, lock=self.path)) from None
        self._fd = fd
        return os.fstat(fd).st_size

    def load(self) -> set[str]:
        """Read the records of the locked file and cut a torn last line.

        RETURNS (Set[str]): the ids of the complete records.
        RAISES ClinkdError: E407 or E408.
        """
        if self._fd is None:
            raise RuntimeError(f"{self.path} is not locked")
        fd = self._fd
        try:
            good_end = self._scan()
            size = os.lseek(fd, 0, os.SEEK_END)
            if good_end < size:
                self.torn_bytes = size - good_end
                os.ftruncate(fd, good_end)
            os.lseek(fd, 0, os.SEEK_END)
        except OSError as err:
            self.close()
            raise ClinkdError(Errors.E407.format(path=self.path, reason=err.strerror or err)) from err
        except ClinkdError:
            self.close()
            raise
        return set(self.ids)

    def _scan(self) -> int:
        """Read the records; RETURNS the byte offset after the last complete line."""
        offset = 0
        with open(self.path, "rb") as file:
            for line_no, line in enumerate(file, start=1):
                if not line.endswith(b"\n"):
                    break  # torn: the run that wrote it was killed mid-line
                try:
                    record = json.loads(line)
                except ValueError as err:
                    raise ClinkdError(Errors.E408.format(path=self.path, line=line_no, reason=err)) from None
                if not isinstance(record, dict) or not isinstance(record.get("id"), str):
                    reason = "no string \"id\""
                    raise ClinkdError(Errors.E408.format(path=self.path, line=line_no, reason=reason))
                self.ids.add(record["id"])
                offset += len(line)
        return offset

    def append(self, records: Iterable[dict[str, Any]]) -> None:
        """Append records, each a whole line, and hand them to the OS.

        RAISES ClinkdError: the write failed (E407).
        """
        records = list(records)
        if not records:
            return
        if self._fd is None:
            raise RuntimeError(f"{self.path} is not open")
        data = b"".join(dumps(record) for record in records)
        try:
            write_all(self._fd, data)
        except OSError as err:
            raise ClinkdError(Errors.E407.format(path=self.path, reason=err.strerror or err)) from err
        self.ids.update(record["id"] for record in records)

    def rewrite_without(self, ids: set[str]) -> None:
        """Drop the records of `ids` (write-then-rename, so a kill keeps either
        the old file or the new one)."""
        if self._fd is None or not ids & self.ids:
            return
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            with open(self.path, "rb") as src, open(tmp, "wb") as dst:
                for line in src:
                    if json.loads(line)["id"] not in ids:
                        dst.write(line)
                dst.flush()
                os.fsync(dst.fileno())
            self.close()
            os.replace(tmp, self.path)
        except OSError as err:
            raise ClinkdError(Errors.E407.format(path=self.path, reason=err.strerror or err)) from err
        self.ids = set()
        self.open()

    def close(self) -> None:
        """Flush to disk and release the lock."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.fsync(fd)
        except OSError:
            pass  # the records were handed to the OS; fsync only guards against power loss
        finally:
            os.close(fd)


class ShardWriter:
    """DocBin shards `part-NNNNNN.spacy` in a folder, one per written chunk.

    path (Union[str, Path]): the folder.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._next = 0

    def _shards(self) -> list[Path]:
        return sorted(self.path.glob("part-*.spacy"))

    def open(self, done: set[str]) -> None:
        """Keep, in the shards of an earlier run, only the first doc of each note in `done`.

        done (Set[str]): the ids whose record is in the output.
        """
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise ClinkdError(Errors.E407.format(path=self.path, reason=err.strerror or err)) from err
        for tmp in self.path.glob("part-*.spacy.tmp"):  # only ours: the folder may hold other files
            tmp.unlink()
        seen: set[str] = set()
        vocab = Vocab()
        for shard in self._shards():
            try:
                docs = list(DocBin().from_disk(shard).get_docs(vocab))
            except (OSError, ValueError) as err:
                raise ClinkdError(Errors.E416.format(path=shard, reason=err)) from err
            keep = []
            for doc in docs:
                note_id = doc.user_data.get(NOTE_ID)
                if note_id in done and note_id not in seen:
                    keep.append(doc)
                    seen.add(note_id)
            if not keep:
                shard.unlink()
            elif len(keep) < len(docs):
                self._replace(shard, DocBin(docs=keep, store_user_data=True).to_bytes())
        numbers = [int(p.stem.split("-")[1]) for p in self._shards()]
        self._next = max(numbers, default=-1) + 1

    def _replace(self, target: Path, data: bytes) -> None:
        tmp = target.with_name(target.name + ".tmp")
        try:
            with open(tmp, "wb") as file:
                file.write(data)
            os.replace(tmp, target)
        except OSError as err:
            raise ClinkdError(Errors.E407.format(path=target, reason=err.strerror or err)) from err

    def write(self, data: bytes) -> None:
        """Write one shard (the bytes of a DocBin) under the next free number."""
        self._replace(self.path / f"part-{self._next:06d}.spacy", data)
        self._next += 1


def read_shards(path: str | Path, vocab: Vocab | None = None) -> list:
    """Every doc of a shard folder, in shard order.

    path (Union[str, Path]): the folder written with `--docbin`.
    vocab (Optional[Vocab]): the vocab for the docs (a new one if None).
    RETURNS (List[Doc]): the docs; `doc.user_data["note_id"]` holds the note id.
    """
    vocab = vocab if vocab is not None else Vocab()
    docs = []
    for shard in sorted(Path(path).glob("part-*.spacy")):
        docs.extend(DocBin().from_disk(shard).get_docs(vocab))
    return docs
