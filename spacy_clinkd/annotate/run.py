"""`annotate MODEL INPUT OUTPUT`: annotate every note of INPUT into OUTPUT, resumably.

The run, in order:

1. check the outputs (OUTPUT, its errors file `notes.errors.jsonl`, its
   manifest `notes.manifest.json`, the summary, the DocBin folder): no two
   are one file (E418);
2. read the input's ids (duplicates stop the run here, before any work),
   and check that no output is part of the input, compared by device and
   inode, so `./in.jsonl`, an absolute path, a symlink or a hard link to the
   input are all refused (E417) before any byte is written;
3. load the pipeline and try it on a one-line note (E424), and start the
   engine's workers;
4. lock OUTPUT and its errors file; if they hold records, their manifest
   must name the same input (its ids), model (name, version, precision)
   and window size as this run (E419, E420; `manifest.py`); then cut a torn
   last line and collect the ids already done: a note with a record in
   OUTPUT, or in the errors file unless `retry_failed` (then its error
   record is dropped and it is tried again); write the manifest if new;
5. stream the remaining notes through the engine; each chunk that comes
   back is written whole (DocBin shard first, then records, then error
   records), and the progress bar advances. A note that is not among the
   ids read in step 2, or a note of them that never comes, stops the run
   (E422: the input changed under it);
6. check that written + failed + skipped == total (E423), write the
   summary (`--summary`, atomically) and return the counts.

A run killed at any point leaves complete records plus perhaps one torn
line; the same command then resumes and ends with exactly the records of an
uninterrupted run (see `spacy_clinkd.annotate.writer`). SIGTERM, SIGINT and
SIGHUP stop it in order (`processes.py`): workers terminated, files closed,
`AnnotateInterrupted` raised with the counts so far.
"""
from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ClinkdError, Errors
from ..models.precision import check_precision
from ..paths import write_text_atomic
from .engines import ENGINES, WINDOW_CHARS, DaskEngine, LocalEngine
from .inputs import Note, NoteSource, note_ids, open_source
from .manifest import check_resume, input_identity, make_manifest, manifest_path, write_manifest
from .processes import AnnotateInterrupted, interruptible
from .writer import JsonlLog, ShardWriter, errors_path


@dataclass
class AnnotateSummary:
    """What a run did.

    total (int): notes in the input.
    written (int): records written by this run.
    failed (int): error records written by this run.
    skipped (int): notes already done before this run (a record or an error record).
    seconds (float): wall time of the annotation (after the pipeline loaded).
    output (str): the output file.
    errors (str): the errors file.
    failed_before (int): of the skipped notes, those whose earlier outcome is
        an error record (`retry_failed` tries them again).
    model (Dict[str, Any]): name, version, precision and source of the pipeline.
    input (Dict[str, Any]): the input's path, format, notes and ids digest.
    manifest (str): the manifest file.
    """

    total: int
    written: int
    failed: int
    skipped: int
    seconds: float
    output: str
    errors: str
    failed_before: int = 0
    model: dict[str, Any] = field(default_factory=dict)
    input: dict[str, Any] = field(default_factory=dict)
    manifest: str = ""

    @property
    def notes_per_second(self) -> float:
        done = self.written + self.failed
        return done / self.seconds if self.seconds > 0 else 0.0

    @property
    def not_annotated(self) -> int:
        """Notes of the input without a record: failed now or before."""
        return self.failed + self.failed_before

    @property
    def complete(self) -> bool:
        """Whether every note of the input has a record in the output."""
        return self.not_annotated == 0 and self.written + self.skipped == self.total

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "notes_per_second": self.notes_per_second,
            "not_annotated": self.not_annotated,
            "complete": self.complete,
        }

    def message(self) -> str:
        before = f", {self.failed_before} failed before" if self.failed_before else ""
        return (
            f"{self.written} written, {self.skipped} skipped (done before{before}), {self.failed} failed "
            f"(reasons in {self.errors}) of {self.total} notes, in {self.seconds:.1f} s "
            f"({self.notes_per_second:.2f} notes/s)"
        )


def _check_positive(**values: int | None) -> None:
    for name, value in values.items():
        if value is not None and value < 1:
            raise ClinkdError(Errors.E116.format(name=name, value=value))


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except (OSError, ValueError):
        return None
    return st.st_dev, st.st_ino


def _check_distinct(outputs: dict[str, Path]) -> None:
    """RAISES ClinkdError: E418, two outputs are one file (by path or inode)."""
    seen: dict[Any, str] = {}
    for what, path in outputs.items():
        for key in (path.resolve(), _identity(path)):
            if key is None:
                continue
            if key in seen:
                raise ClinkdError(Errors.E418.format(first=seen[key], second=what, path=path))
            seen[key] = what


def _as_read(notes: Iterable[Note], expected: set[str], path: Path) -> Iterator[Note]:
    """The notes, checked against the ids read before (`expected`, consumed)."""
    for note in notes:
        if note.id not in expected:
            reason = f"note {note.id!r} was not there, or came twice, when its ids were read"
            raise ClinkdError(Errors.E422.format(path=path, reason=reason))
        expected.remove(note.id)
        yield note
    if expected:
        first = next(iter(expected))
        reason = f"{len(expected)} of its notes are gone, e.g. {first!r}"
        raise ClinkdError(Errors.E422.format(path=path, reason=reason))


def _open_logs(output: Path, manifest: dict[str, Any], manifest_file: Path) -> tuple[JsonlLog, JsonlLog]:
    """Lock OUTPUT and its errors file, check them against the manifest, then read them."""
    records, errors = JsonlLog(output), JsonlLog(errors_path(output))
    try:
        size = records.lock()
        size += errors.lock()
        rewrite = check_resume(
            manifest, path=manifest_file, output=output, errors=errors.path, has_records=size > 0
        )
        records.load()
        errors.load()
        if rewrite:
            write_manifest(manifest_file, manifest)
    except BaseException:
        records.close()
        errors.close()
        raise
    return records, errors


def annotate(
    model: str,
    input_path: str | Path,
    output: str | Path,
    *,
    input_format: str | None = None,
    id_column: str = "id",
    text_column: str = "text",
    engine: str = "local",
    inference: str | None = None,
    batch_size: int = 32,
    n_process: int = 1,
    workers: int = 1,
    scheduler: str | None = None,
    partition_size: int = 256,
    window_chars: int = WINDOW_CHARS,
    max_chars: int | None = None,
    docbin: str | Path | None = None,
    summary: str | Path | None = None,
    retry_failed: bool = False,
    progress: bool = True,
) -> AnnotateSummary:
    """Annotate the notes of `input_path` with a pipeline into JSONL records.

    model (str): pipeline directory or installed package name (`NAME@int8` too).
    input_path (Union[str, Path]): folder of .txt files, .jsonl or .csv file,
        or a pipe of one of the two (with `input_format`).
    output (Union[str, Path]): the JSONL output (appended to when resuming).
    input_format (Optional[str]): "folder", "jsonl" or "csv"; None: from the path.
    id_column (str): CSV column of the note id.
    text_column (str): CSV column of the note text.
    engine (str): "local" (nlp.pipe) or "dask" (dask.distributed).
    inference (Optional[str]): "fp32" or "int8" for clinkd_ner; None: as saved.
    batch_size (int): `nlp.pipe` batch size.
    n_process (int): worker processes (local engine).
    workers (int): LocalCluster workers (dask engine without `scheduler`).
    scheduler (Optional[str]): address of a Dask scheduler to join.
    partition_size (int): notes per written chunk, per worker process task and per Dask task.
    window_chars (int): a longer note is annotated in windows of at most this many characters.
    max_chars (Optional[int]): a longer note is an error record; None: no limit.
    docbin (Optional[Union[str, Path]]): folder for DocBin shards of the docs.
    summary (Optional[Union[str, Path]]): also write the summary here as JSON.
    retry_failed (bool): annotate again the notes of the errors file.
    progress (bool): show a progress bar (notes/s, ETA) on stderr.
    RETURNS (AnnotateSummary): the counts; `complete` says whether every note has a record.
    RAISES ClinkdError: bad options, bad input, an output that is an input or
        holds another run's records, an unwritable output, a missing dask, a
        pipeline that does not load or work, an input that changed.
    RAISES AnnotateInterrupted: SIGINT, SIGTERM or SIGHUP stopped the run.
    """
    _check_positive(
        batch_size=batch_size,
        n_process=n_process,
        workers=workers,
        partition_size=partition_size,
        window_chars=window_chars,
        max_chars=max_chars,
    )
    if engine not in ENGINES:
        raise ClinkdError(Errors.E411.format(engine=engine, options=list(ENGINES)))
    if inference is not None:
        check_precision(inference)
    output = Path(output)
    manifest_file = manifest_path(output)
    outputs = {"output": output, "errors file": errors_path(output), "manifest": manifest_file}
    if summary is not None:
        outputs["summary"] = Path(summary)
    if docbin is not None:
        outputs["DocBin folder"] = Path(docbin)
    _check_distinct(outputs)
    runner: LocalEngine | DaskEngine
    if engine == "dask":
        runner = DaskEngine(
            model,
            precision=inference,
            batch_size=batch_size,
            partition_size=partition_size,
            workers=workers,
            scheduler=scheduler,
            window_chars=window_chars,
            max_chars=max_chars,
        )
    else:
        runner = LocalEngine(
            model,
            precision=inference,
            batch_size=batch_size,
            n_process=n_process,
            partition_size=partition_size,
            window_chars=window_chars,
            max_chars=max_chars,
        )
    with interruptible():
        source = open_source(input_path, input_format=input_format, id_column=id_column, text_column=text_column)
        try:
            ids = note_ids(source)
            clash = source.clash(outputs)
            if clash is not None:
                what, path, which = clash
                raise ClinkdError(Errors.E417.format(what=what, path=path, input=which))
            input_info = input_identity(source.path, input_format=source.format, text_column=text_column, ids=ids)
            result = _run(
                runner,
                source,
                ids,
                output=output,
                manifest_file=manifest_file,
                input_info=input_info,
                window_chars=window_chars,
                docbin=docbin,
                retry_failed=retry_failed,
                progress=progress,
            )
        finally:
            source.close()
    if summary is not None:
        write_text_atomic(summary, json.dumps(result.to_dict(), indent=2) + "\n")
    return result


def _run(
    runner: LocalEngine | DaskEngine,
    source: NoteSource,
    ids: list[str],
    *,
    output: Path,
    manifest_file: Path,
    input_info: dict[str, Any],
    window_chars: int,
    docbin: str | Path | None,
    retry_failed: bool,
    progress: bool,
) -> AnnotateSummary:
    """Steps 3-6 of the module docstring."""
    counts = AnnotateSummary(
        total=len(ids),
        written=0,
        failed=0,
        skipped=0,
        seconds=0.0,
        output=str(output),
        errors=str(errors_path(output)),
        input=input_info,
        manifest=str(manifest_file),
    )
    aborted = True
    try:
        runner.start()
        counts.model = runner.identity()
        manifest = make_manifest(input_info, counts.model, {"window_chars": window_chars})
        records, errors = _open_logs(output, manifest, manifest_file)
        try:
            _write(runner, source, ids, records, errors, counts, docbin=docbin, retry_failed=retry_failed, progress=progress)
        finally:
            records.close()
            errors.close()
        aborted = False
    except AnnotateInterrupted as err:
        err.summary = counts
        raise
    finally:
        runner.close(abort=aborted)  # workers: at once when the run did not end well
    if counts.written + counts.failed + counts.skipped != counts.total:
        raise ClinkdError(Errors.E423.format(**{k: getattr(counts, k) for k in ("written", "failed", "skipped", "total")}))
    return counts


def _write(
    runner: LocalEngine | DaskEngine,
    source: NoteSource,
    ids: list[str],
    records: JsonlLog,
    errors: JsonlLog,
    counts: AnnotateSummary,
    *,
    docbin: str | Path | None,
    retry_failed: bool,
    progress: bool,
) -> None:
    """Skip what is done, annotate the rest, write each chunk whole; `counts` is kept up to date."""
    if retry_failed:
        errors.rewrite_without(errors.ids - records.ids)
    shards = ShardWriter(docbin) if docbin is not None else None
    if shards is not None:
        shards.open(records.ids)
    input_ids = set(ids)
    done = (records.ids | errors.ids) & input_ids
    counts.skipped = len(done)
    counts.failed_before = len((errors.ids - records.ids) & input_ids)
    todo = input_ids - done
    bar = _progress_bar(len(todo), enabled=progress)
    start = time.perf_counter()
    try:
        notes = _as_read(source.notes(skip=done), todo, source.path)
        for chunk in runner.run(notes, with_docs=shards is not None):
            if shards is not None and chunk.docbin is not None and chunk.records:
                shards.write(chunk.docbin)
            records.append(chunk.records)
            errors.append(chunk.errors)
            counts.written += len(chunk.records)
            counts.failed += len(chunk.errors)
            bar.update(len(chunk))
    finally:
        counts.seconds = time.perf_counter() - start
        bar.close()


def _progress_bar(total: int, *, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, unit="notes", desc="annotate", disable=not enabled, file=sys.stderr, smoothing=0.1)
