"""`annotate MODEL INPUT OUTPUT`: annotate every note of INPUT into OUTPUT, resumably.

The run, in order:

1. read the input's ids (duplicates stop the run here, before any work);
2. open OUTPUT and its errors file (`notes.errors.jsonl` beside
   `notes.jsonl`), cutting a torn last line, and collect the ids already
   done: a note with a record in OUTPUT, or in the errors file unless
   `retry_failed` (then its error record is dropped and it is tried again);
3. start the engine (`LocalEngine` or `DaskEngine`) and stream the remaining
   notes through it; each chunk that comes back is written whole (DocBin
   shard first, then records, then error records), and the progress bar
   advances;
4. return the counts: written, skipped (done before), failed.

A run killed at any point leaves complete records plus perhaps one torn
line; the same command then resumes and ends with exactly the records of an
uninterrupted run (see `spacy_clinkd.annotate.writer`).
"""
from __future__ import annotations

import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import ClinkdError, Errors
from .engines import ENGINES, DaskEngine, LocalEngine
from .inputs import note_ids, open_source
from .writer import JsonlLog, ShardWriter, errors_path


@dataclass
class AnnotateSummary:
    """What a run did.

    total (int): notes in the input.
    written (int): records written by this run.
    failed (int): error records written by this run.
    skipped (int): notes already done before this run.
    seconds (float): wall time of the annotation (after the pipeline loaded).
    output (str): the output file.
    errors (str): the errors file.
    """

    total: int
    written: int
    failed: int
    skipped: int
    seconds: float
    output: str
    errors: str

    @property
    def notes_per_second(self) -> float:
        done = self.written + self.failed
        return done / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "notes_per_second": self.notes_per_second}

    def message(self) -> str:
        return (
            f"{self.written} written, {self.skipped} skipped (done before), {self.failed} failed "
            f"(reasons in {self.errors}) of {self.total} notes, in {self.seconds:.1f} s "
            f"({self.notes_per_second:.2f} notes/s)"
        )


def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if value < 1:
            raise ClinkdError(Errors.E412.format(name=name, value=value))


def annotate(
    model: str,
    input_path: str | Path,
    output: str | Path,
    *,
    input_format: str | None = None,
    id_column: str = "id",
    text_column: str = "text",
    engine: str = "local",
    batch_size: int = 32,
    n_process: int = 1,
    workers: int = 1,
    scheduler: str | None = None,
    partition_size: int = 256,
    docbin: str | Path | None = None,
    retry_failed: bool = False,
    progress: bool = True,
) -> AnnotateSummary:
    """Annotate the notes of `input_path` with a pipeline into JSONL records.

    model (str): pipeline directory or installed package name.
    input_path (Union[str, Path]): folder of .txt files, .jsonl or .csv file.
    output (Union[str, Path]): the JSONL output (appended to when resuming).
    input_format (Optional[str]): "folder", "jsonl" or "csv"; None: from the path.
    id_column (str): CSV column of the note id.
    text_column (str): CSV column of the note text.
    engine (str): "local" (nlp.pipe) or "dask" (dask.distributed).
    batch_size (int): `nlp.pipe` batch size.
    n_process (int): `nlp.pipe` processes (local engine).
    workers (int): LocalCluster workers (dask engine without `scheduler`).
    scheduler (Optional[str]): address of a Dask scheduler to join.
    partition_size (int): notes per written chunk and per Dask task.
    docbin (Optional[Union[str, Path]]): folder for DocBin shards of the docs.
    retry_failed (bool): annotate again the notes of the errors file.
    progress (bool): show a progress bar (notes/s, ETA) on stderr.
    RETURNS (AnnotateSummary): the counts.
    RAISES ClinkdError: bad options, bad input, an unwritable output, a
        missing dask, a pipeline that does not load.
    """
    _check_positive(batch_size=batch_size, n_process=n_process, workers=workers, partition_size=partition_size)
    if engine not in ENGINES:
        raise ClinkdError(Errors.E411.format(engine=engine, options=list(ENGINES)))
    if engine == "dask":
        runner: LocalEngine | DaskEngine = DaskEngine(
            model, batch_size=batch_size, partition_size=partition_size, workers=workers, scheduler=scheduler
        )
    else:
        runner = LocalEngine(model, batch_size=batch_size, n_process=n_process, partition_size=partition_size)
    source = open_source(input_path, input_format=input_format, id_column=id_column, text_column=text_column)
    ids = note_ids(source)
    records = JsonlLog(output)
    errors = JsonlLog(errors_path(output))
    records.open()
    try:
        errors.open()
    except ClinkdError:
        records.close()
        raise
    try:
        if retry_failed:
            errors.rewrite_without(errors.ids - records.ids)
        shards = ShardWriter(docbin) if docbin is not None else None
        if shards is not None:
            shards.open(records.ids)
        input_ids = set(ids)
        done = (records.ids | errors.ids) & input_ids
        todo = len(ids) - len(done)
        written = failed = 0
        runner.start()
        start = time.perf_counter()
        bar = _progress_bar(todo, enabled=progress)
        try:
            for chunk in runner.run(source.notes(skip=done), with_docs=shards is not None):
                if shards is not None and chunk.docbin is not None and chunk.records:
                    shards.write(chunk.docbin)
                records.append(chunk.records)
                errors.append(chunk.errors)
                written += len(chunk.records)
                failed += len(chunk.errors)
                bar.update(len(chunk))
        finally:
            bar.close()
            runner.close()
        seconds = time.perf_counter() - start
    finally:
        records.close()
        errors.close()
    return AnnotateSummary(
        total=len(ids),
        written=written,
        failed=failed,
        skipped=len(done),
        seconds=seconds,
        output=str(output),
        errors=str(errors.path),
    )


def _progress_bar(total: int, *, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, unit="notes", desc="annotate", disable=not enabled, file=sys.stderr, smoothing=0.1)
