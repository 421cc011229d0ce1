"""Requests that arrive together are annotated together.

One worker thread owns the pipeline (a spaCy pipeline is not meant to be run
from several threads at once, and one `nlp.pipe` call on many texts is
faster than one call per text). A request puts a `Job` (its texts and ids)
on a queue and waits on the job's future. The worker takes the first job
that is waiting, then every job already queued behind it, up to
`batch_size` texts (a job is never split), and annotates all of their texts
in one `nlp.pipe` call. Under load, requests queue while the worker is busy,
so batches fill by themselves; an idle server answers a lone request at
once (`max_wait` = 0) or after waiting that long for company.

A text the pipeline fails on does not fail the batch: the pipe goes through
annotate's `annotate_notes`, which retries a failed batch text by text, so
only the request holding the failing text gets an error (`PipelineFailed`).

The records are annotate's (`doc_record`), made in the worker thread, so no
`Doc` crosses threads.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from ..annotate.engines import annotate_notes
from ..annotate.inputs import Note
from ..annotate.records import doc_record
from .settings import DEFAULT_MAX_QUEUED

logger = logging.getLogger("spacy_clinkd.serve")


class Busy(Exception):
    """The queue holds too many texts to take this request."""

    def __init__(self, queued: int, limit: int) -> None:
        super().__init__(f"{queued} texts queued, limit {limit}")
        self.queued = queued
        self.limit = limit


class ShuttingDown(Exception):
    """The batcher stopped before this job ran."""


class PipelineFailed(Exception):
    """The pipeline raised on one text of the job.

    index (int): the text's position in the request.
    reason (str): the exception, as annotate writes it into its errors file.
    """

    def __init__(self, index: int, reason: str) -> None:
        super().__init__(reason)
        self.index = index
        self.reason = reason


@dataclass
class JobResult:
    """What a request gets back.

    records (List[Dict]): one annotate record per text, in order.
    queue_seconds (float): from submit to the start of its batch.
    pipe_seconds (float): the batch's `nlp.pipe` time (shared with the batch).
    batch_texts (int): texts in that batch (this request's and others').
    """

    records: list[dict[str, Any]]
    queue_seconds: float
    pipe_seconds: float
    batch_texts: int


@dataclass
class Job:
    texts: list[str]
    ids: list[str]
    future: Future = field(default_factory=Future)
    queued_at: float = field(default_factory=time.perf_counter)


_STOP = object()


class PipeBatcher:
    """A queue in front of one pipeline, drained by one thread in batches.

    nlp (Language): the loaded pipeline; only the worker thread uses it.
    batch_size (int): at most this many texts per `nlp.pipe` call (a request
        with more texts is one call of its own), and `nlp.pipe`'s batch size.
    max_queued (int): texts waiting at most; a request past it gets `Busy`.
    max_wait (float): seconds the worker waits for more jobs after the first
        before it starts a batch that is not full (0: it never waits).
    """

    def __init__(
        self, nlp: Any, *, batch_size: int = 32, max_queued: int = DEFAULT_MAX_QUEUED, max_wait: float = 0.0
    ) -> None:
        self.nlp = nlp
        self.batch_size = batch_size
        self.max_queued = max_queued
        self.max_wait = max_wait
        self._queue: queue.Queue[Any] = queue.Queue()
        self._queued = 0
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self.batches = 0  # nlp.pipe batches run (also counted by tests through nlp.pipe)

    @property
    def queued(self) -> int:
        """RETURNS (int): texts waiting for the worker."""
        return self._queued

    @property
    def alive(self) -> bool:
        """RETURNS (bool): whether the worker thread runs (or has not been needed yet)."""
        return not self._stopping and (self._thread is None or self._thread.is_alive())

    def start(self) -> None:
        """Start the worker thread (idempotent; `submit` starts it too)."""
        with self._lock:
            if self._stopping:
                raise ShuttingDown()
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="clinkd-serve-batcher", daemon=True)
                self._thread.start()

    def stop(self, timeout: float | None = 30.0) -> None:
        """Annotate the jobs already queued, then stop the worker; jobs still
        queued after `timeout` seconds fail with `ShuttingDown`. A stopped
        batcher starts again on the next `start` or `submit`."""
        with self._lock:
            self._stopping = True
            thread = self._thread
            self._queue.put(_STOP)
        if thread is not None:
            thread.join(timeout)
        self._drain()
        with self._lock:
            if thread is None or not thread.is_alive():
                self._thread = None
                self._stopping = False

    def submit(self, texts: list[str], ids: list[str]) -> Future:
        """Queue texts to annotate.

        texts (List[str]): the texts of one request.
        ids (List[str]): their record ids.
        RETURNS (Future[JobResult]): resolved by the worker thread.
        RAISES Busy: too many texts are waiting. ShuttingDown: the batcher stopped.
        """
        self.start()
        with self._lock:
            if self._stopping:
                raise ShuttingDown()
            if self._queued and self._queued + len(texts) > self.max_queued:
                raise Busy(self._queued, self.max_queued)
            self._queued += len(texts)
            job = Job(texts=list(texts), ids=list(ids))
            # under the lock: a job is never queued behind the stop signal
            self._queue.put(job)
        return job.future

    def _take(self, job: Job) -> Job:
        with self._lock:
            self._queued -= len(job.texts)
        return job

    def _next_batch(self, first: Job) -> tuple[list[Job], Any]:
        """The first job and those queued behind it, up to batch_size texts.

        RETURNS (Tuple[List[Job], Any]): the batch, and what was taken off the
            queue but is not in it (a job that would overfill it, or the stop
            signal), for the next round; None if nothing.
        """
        jobs = [self._take(first)]
        n_texts = len(first.texts)
        deadline = time.perf_counter() + self.max_wait
        while n_texts < self.batch_size:
            try:
                if self.max_wait > 0:
                    item = self._queue.get(timeout=max(0.0, deadline - time.perf_counter()))
                else:
                    item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is _STOP or n_texts + len(item.texts) > self.batch_size:
                return jobs, item  # a job is never split: it starts the next batch
            jobs.append(self._take(item))
            n_texts += len(item.texts)
        return jobs, None

    def _work(self) -> None:
        carry: Any = None
        while True:
            item = carry if carry is not None else self._queue.get()
            if item is _STOP:
                return
            jobs, carry = self._next_batch(item)
            self._run(jobs)

    def _run(self, jobs: list[Job]) -> None:
        # a job whose client went away (its future cancelled) is not annotated
        jobs = [job for job in jobs if job.future.set_running_or_notify_cancel()]
        if not jobs:
            return
        start = time.perf_counter()
        notes = [Note(id=f"{j}:{i}", text=text) for j, job in enumerate(jobs) for i, text in enumerate(job.texts)]
        outcomes: dict[str, tuple[Any, str | None]] = {}
        try:
            for note, doc, reason in annotate_notes(self.nlp, notes, batch_size=self.batch_size):
                outcomes[note.id] = (doc, reason)
        except Exception as err:  # the whole batch failed outside a component
            for job in jobs:
                job.future.set_exception(err)
            logger.error("batch of %d texts failed: %s", len(notes), type(err).__name__)
            return
        pipe_seconds = time.perf_counter() - start
        self.batches += 1
        for j, job in enumerate(jobs):
            try:
                records = []
                for i, note_id in enumerate(job.ids):
                    doc, reason = outcomes.get(f"{j}:{i}", (None, "no output for this text"))
                    if doc is None:
                        raise PipelineFailed(i, reason or "unknown error")
                    records.append(doc_record(note_id, doc))
            except Exception as err:
                job.future.set_exception(err)
                continue
            job.future.set_result(
                JobResult(
                    records=records,
                    queue_seconds=start - job.queued_at,
                    pipe_seconds=pipe_seconds,
                    batch_texts=len(notes),
                )
            )

    def _drain(self) -> None:
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is not _STOP:
                self._take(item)
                if item.future.set_running_or_notify_cancel():
                    item.future.set_exception(ShuttingDown())
