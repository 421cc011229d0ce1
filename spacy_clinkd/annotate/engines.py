"""Engines: how notes reach a pipeline, and outcomes come back to the writer.

Both engines produce `Chunk`s, the unit the writer makes durable: the
records, error records and (optionally) DocBin bytes of a few hundred notes.

- `LocalEngine`: one pipeline in this process, `nlp.pipe(..., n_process=N)`
  (spaCy's worker processes for N > 1).
- `DaskEngine`: `dask.distributed`. Notes are cut into partitions
  (`partition_size` notes), each partition is one task, and at most a few
  tasks per worker are in flight; results stream back with `as_completed`
  to the one writer in this process. Each worker loads the pipeline once:
  `PipelinePlugin` loads it when the worker starts (and on every worker
  that joins later), into a per-process cache keyed by the model path that
  every task reads (`worker_pipeline`).

A note that fails inside the pipeline does not stop the others
(`annotate_notes`): spaCy drops a batch whose component raised (with the
error handler set to skip), the gap is seen by its note ids, and the notes
of that batch are run again one at a time, so only the note that really
fails becomes an error record, with the exception as its reason.
"""
from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc, DocBin
from spacy.util import raise_error

from ..errors import ClinkdError, Errors
from ..pipeline.loading import load_pipeline
from .inputs import Note
from .records import doc_record, error_record
from .writer import NOTE_ID

ENGINES = ("local", "dask")


@dataclass
class Chunk:
    """The outcome of some notes, written by the writer in one go.

    records (List[Dict]): output records of the notes annotated.
    errors (List[Dict]): error records of the notes that failed.
    docbin (Optional[bytes]): a DocBin of the annotated docs (when asked for).
    """

    records: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    docbin: bytes | None = None

    def __len__(self) -> int:
        return len(self.records) + len(self.errors)


def _skip_failed_batch(proc_name: str | None, proc: Any, docs: Any, error: Exception) -> None:
    """spaCy error handler: drop the batch (its notes are retried one by one)."""


def _run_one(nlp: Language, note: Note) -> tuple[Doc | None, str | None]:
    """Run the pipeline's components on one note with spaCy's raising error
    handler (a TrainablePipe's `__call__` also goes through the handler, and
    the skipping one would return the doc unannotated as if it had worked)."""
    nlp.set_error_handler(raise_error)
    try:
        doc = nlp.make_doc(note.text or "")
        for _, proc in nlp.pipeline:
            doc = proc(doc)
        return doc, None
    except Exception as err:  # any failure of the pipeline on this note
        return None, f"{type(err).__name__}: {err}"
    finally:
        nlp.set_error_handler(_skip_failed_batch)


def annotate_notes(
    nlp: Language, notes: Iterable[Note], *, batch_size: int, n_process: int = 1
) -> Iterator[tuple[Note, Doc | None, str | None]]:
    """Annotate notes; yield `(note, doc, None)` or `(note, None, reason)` for every note.

    nlp (Language): the pipeline; its error handler is set to skip failed
        batches (they are retried note by note).
    notes (Iterable[Note]): the notes; those with `error` set are yielded as failures.
    batch_size (int): `nlp.pipe` batch size.
    n_process (int): `nlp.pipe` processes.
    """
    nlp.set_error_handler(_skip_failed_batch)
    pending: deque[Note] = deque()
    unreadable: deque[Note] = deque()

    def texts() -> Iterator[tuple[str, str]]:
        for note in notes:
            if note.text is None:
                unreadable.append(note)
                continue
            pending.append(note)
            yield note.text, note.id

    for doc, note_id in nlp.pipe(texts(), as_tuples=True, batch_size=batch_size, n_process=n_process):
        while unreadable:
            note = unreadable.popleft()
            yield note, None, note.error or "unreadable"
        while pending and pending[0].id != note_id:
            note = pending.popleft()  # in a batch spaCy dropped
            yield (note, *_run_one(nlp, note))
        yield pending.popleft(), doc, None
    while unreadable:
        note = unreadable.popleft()
        yield note, None, note.error or "unreadable"
    while pending:
        note = pending.popleft()
        yield (note, *_run_one(nlp, note))


def chunk_outcomes(
    outcomes: Iterable[tuple[Note, Doc | None, str | None]], *, size: int, with_docs: bool
) -> Iterator[Chunk]:
    """Group outcomes into chunks of `size` notes (records, errors, DocBin bytes)."""
    chunk, docs = Chunk(), []
    for note, doc, reason in outcomes:
        if doc is None:
            chunk.errors.append(error_record(note.id, reason or "unknown error"))
        else:
            chunk.records.append(doc_record(note.id, doc))
            if with_docs:
                doc.user_data[NOTE_ID] = note.id
                docs.append(doc)
        if len(chunk) >= size:
            if with_docs:
                chunk.docbin = DocBin(docs=docs, store_user_data=True).to_bytes()
            yield chunk
            chunk, docs = Chunk(), []
    if len(chunk):
        if with_docs:
            chunk.docbin = DocBin(docs=docs, store_user_data=True).to_bytes()
        yield chunk


def partitions(notes: Iterable[Note], size: int) -> Iterator[list[Note]]:
    """Consecutive lists of `size` notes (the last may be shorter)."""
    iterator = iter(notes)
    while batch := list(islice(iterator, size)):
        yield batch


class LocalEngine:
    """`nlp.pipe` in this process (and spaCy's worker processes for n_process > 1).

    model (str): pipeline directory or package name.
    batch_size (int): `nlp.pipe` batch size.
    n_process (int): `nlp.pipe` processes.
    partition_size (int): notes per written chunk.
    """

    def __init__(self, model: str, *, batch_size: int, n_process: int, partition_size: int) -> None:
        self.model = model
        self.batch_size = batch_size
        self.n_process = n_process
        self.partition_size = partition_size
        self.nlp: Language | None = None

    def start(self) -> None:
        self.nlp = load_pipeline(self.model)

    def run(self, notes: Iterable[Note], *, with_docs: bool) -> Iterator[Chunk]:
        if self.nlp is None:
            self.start()
        assert self.nlp is not None
        outcomes = annotate_notes(self.nlp, notes, batch_size=self.batch_size, n_process=self.n_process)
        yield from chunk_outcomes(outcomes, size=self.partition_size, with_docs=with_docs)

    def close(self) -> None:
        self.nlp = None


# -- Dask ----------------------------------------------------------------------

# Per worker process: model path → pipeline, and how often each was loaded.
_PIPELINES: dict[str, Language] = {}
LOADS: dict[str, int] = {}


def worker_pipeline(model: str, *, torch_threads: int | None = None) -> Language:
    """The pipeline of this process for `model`, loaded on first use only.

    model (str): pipeline directory or package name (as the worker sees it).
    torch_threads (Optional[int]): torch intra-op threads to set at load time.
    RETURNS (Language): the cached pipeline.
    """
    nlp = _PIPELINES.get(model)
    if nlp is None:
        if torch_threads is not None:
            import torch

            torch.set_num_threads(torch_threads)
        nlp = load_pipeline(model)
        _PIPELINES[model] = nlp
        LOADS[model] = LOADS.get(model, 0) + 1
    return nlp


def pipeline_loads() -> dict[str, Any]:
    """Load counts of this process, with its pid (run on each worker by tests and logs)."""
    return {"pid": os.getpid(), "loads": dict(LOADS)}


def annotate_partition(
    model: str, notes: list[Note], *, batch_size: int, with_docs: bool, torch_threads: int | None = None
) -> Chunk:
    """The task of the Dask engine: one partition of notes → one chunk."""
    nlp = worker_pipeline(model, torch_threads=torch_threads)
    outcomes = annotate_notes(nlp, notes, batch_size=batch_size)
    chunks = list(chunk_outcomes(outcomes, size=max(1, len(notes)), with_docs=with_docs))
    return chunks[0] if chunks else Chunk()


def _distributed():
    try:
        import distributed
    except ImportError as err:
        raise ClinkdError(Errors.E410) from err
    return distributed


def make_pipeline_plugin(model: str, torch_threads: int | None):
    """A WorkerPlugin that loads `model` into the worker's cache at worker start."""
    distributed = _distributed()

    class PipelinePlugin(distributed.WorkerPlugin):
        name = f"clinkd-pipeline-{model}"

        def __init__(self) -> None:
            self.model = model
            self.torch_threads = torch_threads

        def setup(self, worker) -> None:
            worker_pipeline(self.model, torch_threads=self.torch_threads)

    return PipelinePlugin()


class DaskEngine:
    """Partitions of notes as `dask.distributed` tasks; one writer in this process.

    model (str): pipeline directory or package name, as the workers see it.
    batch_size (int): `nlp.pipe` batch size inside a task.
    partition_size (int): notes per task.
    workers (int): workers of the LocalCluster started when `scheduler` is None.
    scheduler (Optional[str]): address of a running scheduler to join instead.
    torch_threads (Optional[int]): torch threads per worker; None: for a
        LocalCluster the cores divided by the workers, for a scheduler the
        workers' own setting.
    in_flight (int): tasks per worker submitted ahead (bounds memory).
    """

    def __init__(
        self,
        model: str,
        *,
        batch_size: int,
        partition_size: int,
        workers: int = 1,
        scheduler: str | None = None,
        torch_threads: int | None = None,
        in_flight: int = 2,
    ) -> None:
        _distributed()  # fail before any work if dask is missing
        self.model = model
        self.batch_size = batch_size
        self.partition_size = partition_size
        self.workers = workers
        self.scheduler = scheduler
        self.torch_threads = torch_threads
        self.in_flight = in_flight
        self.client = None
        self.cluster = None

    def start(self) -> None:
        distributed = _distributed()
        if self.scheduler is not None:
            try:
                self.client = distributed.Client(self.scheduler, timeout="30s")
            except (OSError, TimeoutError) as err:
                raise ClinkdError(Errors.E414.format(address=self.scheduler, reason=err)) from err
        else:
            if self.torch_threads is None:
                self.torch_threads = max(1, (os.cpu_count() or 1) // self.workers)
            self.cluster = distributed.LocalCluster(
                n_workers=self.workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=40,  # logging.ERROR
            )
            self.client = distributed.Client(self.cluster)
        # A task runs `annotate_partition`, which loads the pipeline if a worker
        # missed the plugin; the plugin only loads it before the first task.
        self.client.register_plugin(make_pipeline_plugin(self.model, self.torch_threads))

    def n_workers(self) -> int:
        assert self.client is not None
        return max(1, len(self.client.scheduler_info(n_workers=-1).get("workers", {})))

    def run(self, notes: Iterable[Note], *, with_docs: bool) -> Iterator[Chunk]:
        distributed = _distributed()
        if self.client is None:
            self.start()
        assert self.client is not None
        parts = partitions(notes, self.partition_size)
        futures = distributed.as_completed()

        def submit() -> bool:
            part = next(parts, None)
            if part is None:
                return False
            futures.add(
                self.client.submit(
                    annotate_partition,
                    self.model,
                    part,
                    batch_size=self.batch_size,
                    with_docs=with_docs,
                    torch_threads=self.torch_threads,
                    pure=False,
                    retries=2,
                )
            )
            return True

        for _ in range(self.in_flight * self.n_workers()):
            if not submit():
                break
        for future in futures:
            try:
                chunk = future.result()
            except ClinkdError:
                raise
            except Exception as err:
                raise ClinkdError(f"A Dask task failed: {type(err).__name__}: {err}") from err
            future.release()
            submit()
            yield chunk

    def worker_loads(self) -> dict[str, dict[str, Any]]:
        """Worker address → `pipeline_loads()` of that worker."""
        assert self.client is not None
        return self.client.run(pipeline_loads)

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None
        if self.cluster is not None:
            self.cluster.close()
            self.cluster = None
