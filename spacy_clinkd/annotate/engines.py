"""Engines: how notes reach a pipeline, and outcomes come back to the writer.

Both engines produce `Chunk`s, the unit the writer makes durable: the
records, error records and (optionally) DocBin bytes of a few hundred notes.

- `LocalEngine`: one pipeline in this process, `nlp.pipe`; with
  `n_process` > 1, a `WorkerPool` of forked worker processes (see
  `processes.py`), each annotating whole partitions, in input order.
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
fails becomes an error record, with the exception as its reason. A failure
that is not about one note (a `ClinkdError` such as a missing onnxruntime,
an `ImportError`) stops the run instead (E425): filed as per-note errors it
would mark every note as failed, and a re-run would skip them all. Before
any note, `warm_up` runs the pipeline on a one-line note (E424).

A note longer than `window_chars` characters (or than the pipeline's
`max_length`) is annotated in windows: cut after the last line break in
the second half of each window (else after the last whitespace, else at the
limit), each window a doc of its own, joined back into one doc whose
offsets count into the whole note (`join_windows`). An entity cannot span
a cut, which falls at a line break wherever the note has one. With
`max_chars`, a longer note is an error record instead (E429).
"""
from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import KW_ONLY, dataclass, field
from itertools import count, islice
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc, DocBin
from spacy.util import raise_error

from ..errors import ClinkdError, Errors
from ..pipeline.loading import load_pipeline
from .inputs import Note
from .manifest import model_identity
from .processes import WorkerPool
from .records import doc_record, error_record
from .writer import NOTE_ID

ENGINES = ("local", "dask")
WINDOW_CHARS = 100_000
WARMUP_TEXT = "The patient has no fever and takes aspirin 100 mg daily."
# Raised inside a component, these are about the pipeline or its environment, not one note.
FATAL_ERRORS = (ClinkdError, ImportError)


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


def _fatal(err: BaseException) -> ClinkdError:
    return ClinkdError(Errors.E425.format(reason=f"{type(err).__name__}: {err}"))


def _skip_failed_batch(proc_name: str | None, proc: Any, docs: Any, error: Exception) -> None:
    """spaCy error handler: drop the batch (its notes are retried one by one),
    unless the error is not about the notes."""
    if isinstance(error, FATAL_ERRORS):
        raise _fatal(error) from error


def _apply(nlp: Language, text: str) -> Doc:
    """Run the pipeline's components on one text with spaCy's raising error
    handler (a TrainablePipe's `__call__` also goes through the handler, and
    the skipping one would return the doc unannotated as if it had worked)."""
    nlp.set_error_handler(raise_error)
    try:
        doc = nlp.make_doc(text)
        for _, proc in nlp.pipeline:
            doc = proc(doc)
        return doc
    finally:
        nlp.set_error_handler(_skip_failed_batch)


def _run_one(nlp: Language, text: str) -> tuple[Doc | None, str | None]:
    try:
        return _apply(nlp, text), None
    except FATAL_ERRORS as err:
        raise _fatal(err) from err
    except Exception as err:  # any other failure of the pipeline on this note
        return None, f"{type(err).__name__}: {err}"


def warm_up(nlp: Language) -> None:
    """Annotate a one-line note, so that a pipeline that cannot work stops the
    run before its first note.

    RAISES ClinkdError: E424.
    """
    try:
        _apply(nlp, WARMUP_TEXT)
    except Exception as err:
        raise ClinkdError(Errors.E424.format(reason=f"{type(err).__name__}: {err}")) from err


def split_windows(text: str, size: int) -> list[tuple[int, int]]:
    """Cut a text into windows of at most `size` characters.

    Each cut falls after the last line break in the second half of the window,
    else after its last whitespace, else at `size`.
    RETURNS (List[Tuple[int, int]]): (start, end) of each window; they tile the text.
    """
    bounds: list[tuple[int, int]] = []
    start, length = 0, len(text)
    while length - start > size:
        end = start + size
        low = start + size // 2
        cut = text.rfind("\n", low, end)
        if cut < 0:
            cut = next((i for i in range(end - 1, low - 1, -1) if text[i].isspace()), -1)
        end = cut + 1 if cut >= 0 else end
        bounds.append((start, end))
        start = end
    bounds.append((start, length))
    return bounds


def join_windows(docs: list[Doc]) -> Doc:
    """One doc from the docs of a note's windows, offsets into the whole note
    (`Doc.from_docs`); the span scores of `doc.spans` are joined too."""
    if len(docs) == 1:
        return docs[0]
    for doc in docs:
        # from_docs keeps span and token extension values (shifting their
        # offsets) and warns about doc-level ones, which a join cannot keep
        doc.user_data = {
            key: value
            for key, value in doc.user_data.items()
            if isinstance(key, tuple) and len(key) == 4 and key[0] == "._." and key[2] is not None
        }
    joined = Doc.from_docs(docs, ensure_whitespace=False, exclude=["tensor"])
    for key in list(joined.spans):
        scores = [float(s) for doc in docs if key in doc.spans for s in doc.spans[key].attrs.get("scores", [])]
        if scores and len(scores) == len(joined.spans[key]):
            joined.spans[key].attrs["scores"] = scores
    return joined


@dataclass
class _Slot:
    """A note on its way through `annotate_notes`."""

    note: Note
    bounds: list[tuple[int, int]] = field(default_factory=list)
    docs: list[Doc | None] = field(default_factory=list)
    left: int = 0
    reason: str | None = None

    @property
    def done(self) -> bool:
        return self.reason is not None or self.left == 0

    def fill(self, window: int, doc: Doc | None, reason: str | None) -> None:
        if self.reason is not None:
            return  # an earlier window failed: the note is an error already
        if doc is None:
            if len(self.bounds) > 1:
                start, end = self.bounds[window]
                reason = f"window {window + 1} of {len(self.bounds)} (characters {start}-{end}): {reason}"
            self.reason = reason or "unknown error"
            self.docs = []
            return
        self.docs[window] = doc
        self.left -= 1


def annotate_notes(
    nlp: Language,
    notes: Iterable[Note],
    *,
    batch_size: int,
    window_chars: int = WINDOW_CHARS,
    max_chars: int | None = None,
) -> Iterator[tuple[Note, Doc | None, str | None]]:
    """Annotate notes; yield `(note, doc, None)` or `(note, None, reason)` for every note, in input order.

    nlp (Language): the pipeline; its error handler is set to skip failed
        batches (they are retried note by note).
    notes (Iterable[Note]): the notes; those with `error` set are yielded as failures.
    batch_size (int): `nlp.pipe` batch size (in windows).
    window_chars (int): longest window; longer notes are cut (module docstring).
    max_chars (Optional[int]): longer notes are failures (E429); None: no limit.
    RAISES ClinkdError: E425, a failure that is not about one note.
    """
    nlp.set_error_handler(_skip_failed_batch)
    size = max(1, min(window_chars, nlp.max_length))
    slots: deque[_Slot] = deque()  # every note read and not yet yielded, in input order
    sent: deque[tuple[int, _Slot, int]] = deque()  # (key, note, window) given to nlp.pipe
    keys = count()

    def inputs() -> Iterator[tuple[Doc, int]]:
        for note in notes:
            slot = _Slot(note)
            slots.append(slot)
            if note.text is None:
                slot.reason = note.error or "unreadable"
                continue
            if max_chars is not None and len(note.text) > max_chars:
                slot.reason = Errors.E429.format(chars=len(note.text), limit=max_chars)
                continue
            slot.bounds = split_windows(note.text, size)
            slot.docs = [None] * len(slot.bounds)
            slot.left = len(slot.bounds)
            for window, (start, end) in enumerate(slot.bounds):
                try:  # here, not in nlp.pipe, where a tokenizer error would end the run
                    doc = nlp.make_doc(note.text[start:end])
                except Exception as err:
                    slot.fill(window, None, f"{type(err).__name__}: {err}")
                    break
                key = next(keys)
                sent.append((key, slot, window))
                yield doc, key

    def retry(slot: _Slot, window: int) -> None:
        if slot.reason is None:
            start, end = slot.bounds[window]
            slot.fill(window, *_run_one(nlp, slot.note.text[start:end]))  # type: ignore[index]

    def finished() -> Iterator[tuple[Note, Doc | None, str | None]]:
        while slots and slots[0].done:
            slot = slots.popleft()
            if slot.reason is not None:
                yield slot.note, None, slot.reason
            else:
                yield slot.note, join_windows(slot.docs), None  # type: ignore[arg-type]

    for doc, key in nlp.pipe(inputs(), as_tuples=True, batch_size=batch_size):
        while sent[0][0] != key:  # in a batch spaCy dropped: alone, again
            _, slot, window = sent.popleft()
            retry(slot, window)
        _, slot, window = sent.popleft()
        slot.fill(window, doc, None)
        yield from finished()
    while sent:
        _, slot, window = sent.popleft()
        retry(slot, window)
    yield from finished()


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


def annotate_chunk(
    nlp: Language,
    notes: list[Note],
    *,
    batch_size: int,
    with_docs: bool,
    window_chars: int = WINDOW_CHARS,
    max_chars: int | None = None,
) -> Chunk:
    """A partition of notes → one chunk (the task of a worker process or a Dask worker)."""
    outcomes = annotate_notes(nlp, notes, batch_size=batch_size, window_chars=window_chars, max_chars=max_chars)
    chunks = list(chunk_outcomes(outcomes, size=max(1, len(notes)), with_docs=with_docs))
    return chunks[0] if chunks else Chunk()


def partitions(notes: Iterable[Note], size: int) -> Iterator[list[Note]]:
    """Consecutive lists of `size` notes (the last may be shorter)."""
    iterator = iter(notes)
    while batch := list(islice(iterator, size)):
        yield batch


@dataclass(eq=False)
class _Engine:
    """What every engine is given: the pipeline, and how it annotates notes.

    model (str): pipeline directory or package name (for Dask: as the workers see it).
    precision (Optional[str]): "fp32" or "int8" for clinkd_ner; None: as saved.
    batch_size (int): `nlp.pipe` batch size (inside a task, for Dask).
    partition_size (int): notes per written chunk (and per worker or Dask task).
    window_chars (int): longest window of a long note.
    max_chars (Optional[int]): longer notes are failures; None: no limit.
    """

    model: str
    _: KW_ONLY
    precision: str | None = None
    batch_size: int
    partition_size: int
    window_chars: int = WINDOW_CHARS
    max_chars: int | None = None


@dataclass(eq=False, kw_only=True)
class LocalEngine(_Engine):
    """`nlp.pipe` in this process, or in a pool of worker processes (n_process > 1).

    n_process (int): worker processes (1: none, the pipeline runs here).
    The other settings: see `_Engine`.
    """

    n_process: int
    nlp: Language | None = field(default=None, init=False)
    pool: WorkerPool | None = field(default=None, init=False)

    def start(self) -> None:
        """Load the pipeline, try it on a one-line note, start the workers."""
        self.nlp = load_pipeline(self.model, self.precision)
        warm_up(self.nlp)
        if self.n_process > 1:
            settings = {
                "model": self.model,
                "precision": self.precision,
                "batch_size": self.batch_size,
                "window_chars": self.window_chars,
                "max_chars": self.max_chars,
            }
            self.pool = WorkerPool(self.nlp, n_process=self.n_process, settings=settings)
            self.pool.start()

    def identity(self) -> dict[str, Any]:
        """RETURNS (Dict[str, Any]): the model's name, version and precision (`model_identity`)."""
        if self.nlp is None:
            self.start()
        return model_identity(self.nlp, self.model)

    def run(self, notes: Iterable[Note], *, with_docs: bool) -> Iterator[Chunk]:
        if self.nlp is None:
            self.start()
        assert self.nlp is not None
        if self.pool is not None:
            yield from self.pool.run(partitions(notes, self.partition_size), with_docs=with_docs)
            return
        outcomes = annotate_notes(
            self.nlp, notes, batch_size=self.batch_size, window_chars=self.window_chars, max_chars=self.max_chars
        )
        yield from chunk_outcomes(outcomes, size=self.partition_size, with_docs=with_docs)

    def close(self, *, abort: bool = False) -> None:
        """Stop the workers (abort: at once) and drop the pipeline."""
        if self.pool is not None:
            self.pool.close(abort=abort)
            self.pool = None
        self.nlp = None


# -- Dask ----------------------------------------------------------------------

# Per worker process: (model path, precision) → pipeline, and how often each was loaded.
_PIPELINES: dict[tuple[str, str | None], Language] = {}
LOADS: dict[str, int] = {}


def worker_pipeline(model: str, *, precision: str | None = None, torch_threads: int | None = None) -> Language:
    """The pipeline of this process for `model`, loaded on first use only.

    model (str): pipeline directory or package name (as the worker sees it).
    precision (Optional[str]): "fp32" or "int8" for clinkd_ner; None: as saved.
    torch_threads (Optional[int]): torch intra-op threads to set at load time.
    RETURNS (Language): the cached pipeline.
    """
    nlp = _PIPELINES.get((model, precision))
    if nlp is None:
        if torch_threads is not None:
            import torch

            torch.set_num_threads(torch_threads)
        nlp = load_pipeline(model, precision)
        _PIPELINES[model, precision] = nlp
        name = model if precision is None else f"{model}@{precision}"
        LOADS[name] = LOADS.get(name, 0) + 1
    return nlp


def pipeline_loads() -> dict[str, Any]:
    """Load counts of this process, with its pid (run on each worker by tests and logs)."""
    return {"pid": os.getpid(), "loads": dict(LOADS)}


def pipeline_identity(model: str, *, precision: str | None = None, torch_threads: int | None = None) -> dict[str, Any]:
    """A Dask task: the worker's pipeline, tried on a one-line note; RETURNS its `model_identity`."""
    nlp = worker_pipeline(model, precision=precision, torch_threads=torch_threads)
    warm_up(nlp)
    return model_identity(nlp, model)


def annotate_partition(
    model: str,
    notes: list[Note],
    *,
    batch_size: int,
    with_docs: bool,
    precision: str | None = None,
    torch_threads: int | None = None,
    window_chars: int = WINDOW_CHARS,
    max_chars: int | None = None,
) -> Chunk:
    """The task of the Dask engine: one partition of notes → one chunk."""
    nlp = worker_pipeline(model, precision=precision, torch_threads=torch_threads)
    return annotate_chunk(
        nlp, notes, batch_size=batch_size, with_docs=with_docs, window_chars=window_chars, max_chars=max_chars
    )


def _distributed():
    try:
        import distributed
    except ImportError as err:
        raise ClinkdError(Errors.E410) from err
    return distributed


def _task_result(future: Any) -> Any:
    """A Dask task's result. RAISES ClinkdError: the task's own, or any other failure of it."""
    try:
        return future.result()
    except ClinkdError:
        raise
    except Exception as err:
        raise ClinkdError(f"A Dask task failed: {type(err).__name__}: {err}") from err


def make_pipeline_plugin(model: str, torch_threads: int | None, precision: str | None = None):
    """A WorkerPlugin that loads `model` into the worker's cache at worker start."""
    distributed = _distributed()

    class PipelinePlugin(distributed.WorkerPlugin):
        name = f"clinkd-pipeline-{model}@{precision}"

        def __init__(self) -> None:
            self.model = model
            self.precision = precision
            self.torch_threads = torch_threads

        def setup(self, worker) -> None:
            worker_pipeline(self.model, precision=self.precision, torch_threads=self.torch_threads)

    return PipelinePlugin()


@dataclass(eq=False, kw_only=True)
class DaskEngine(_Engine):
    """Partitions of notes as `dask.distributed` tasks; one writer in this process.

    workers (int): workers of the LocalCluster started when `scheduler` is None.
    scheduler (Optional[str]): address of a running scheduler to join instead.
    torch_threads (Optional[int]): torch threads per worker; None: for a
        LocalCluster the cores divided by the workers, for a scheduler the
        workers' own setting.
    in_flight (int): tasks per worker submitted ahead (bounds memory).
    The other settings: see `_Engine`.
    """

    workers: int = 1
    scheduler: str | None = None
    torch_threads: int | None = None
    in_flight: int = 2
    client: Any = field(default=None, init=False)
    cluster: Any = field(default=None, init=False)

    def __post_init__(self) -> None:
        _distributed()  # fail before any work if dask is missing

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
        self.client.register_plugin(make_pipeline_plugin(self.model, self.torch_threads, self.precision))

    def identity(self) -> dict[str, Any]:
        """RETURNS (Dict[str, Any]): the model's identity, as a worker loads it
        (after trying it on a one-line note there)."""
        if self.client is None:
            self.start()
        assert self.client is not None
        future = self.client.submit(
            pipeline_identity, self.model, precision=self.precision, torch_threads=self.torch_threads, pure=False
        )
        return _task_result(future)

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
                    precision=self.precision,
                    torch_threads=self.torch_threads,
                    window_chars=self.window_chars,
                    max_chars=self.max_chars,
                    pure=False,
                    retries=2,
                )
            )
            return True

        for _ in range(self.in_flight * self.n_workers()):
            if not submit():
                break
        for future in futures:
            chunk = _task_result(future)
            future.release()
            submit()
            yield chunk

    def worker_loads(self) -> dict[str, dict[str, Any]]:
        """Worker address → `pipeline_loads()` of that worker."""
        assert self.client is not None
        return self.client.run(pipeline_loads)

    def close(self, *, abort: bool = False) -> None:
        """Close the client and the LocalCluster (abort: the same; Dask cancels the tasks)."""
        if self.client is not None:
            self.client.close()
            self.client = None
        if self.cluster is not None:
            self.cluster.close()
            self.cluster = None
