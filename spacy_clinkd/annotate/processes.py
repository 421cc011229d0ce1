"""The processes of an annotate run: `--n-process` workers, and what a signal does.

Workers (`WorkerPool`, the local engine with `n_process` > 1):

- They are forked after the pipeline is loaded, so each has the parent's copy
  (where there is no fork, each loads it with `load_pipeline`), and before
  the output is opened, so none of them holds the output's lock. A forked
  worker runs torch on one thread (`models/threads.py`: GNU OpenMP is not
  fork-safe); the N workers share the cores.
- Partition i goes to worker i mod N and the results are taken back in the
  same order: the output is in input order, as with one process.
- A worker ignores SIGINT (Ctrl-C reaches the whole process group; the
  parent decides what happens) and, on Linux, is killed when its parent dies
  (`prctl(PR_SET_PDEATHSIG)`), so even a parent killed with SIGKILL leaves
  no worker behind.
- A worker that dies (out of memory, say) stops the run with E426 instead of
  a hang; a pipeline error that is not about one note stops it with the
  worker's message.

Signals (`interruptible`): while a run is on, SIGTERM, SIGINT and SIGHUP raise
`AnnotateInterrupted` in the main thread. The run stops taking notes,
terminates its workers, and closes its files (whole records, or one torn
last line that the resume cuts); the CLI then exits with 128 + the signal
number. Further signals while it stops are ignored: one Ctrl-C is enough.
"""
from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import sys
import threading
import traceback
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from ..errors import ClinkdError, Errors
from .inputs import Note

# The pipeline a forked worker inherits from the parent (set just before the fork).
_INHERITED: dict[str, Any] = {}
PR_SET_PDEATHSIG = 1
JOIN_SECONDS = 10.0
POLL_SECONDS = 0.2


class AnnotateInterrupted(KeyboardInterrupt):
    """A signal stopped the run.

    signum (int): the signal.
    summary (Optional[AnnotateSummary]): the counts so far (set by `annotate`).
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
        self.summary: Any = None

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def _stop_signals() -> list[signal.Signals]:
    names = ("SIGINT", "SIGTERM", "SIGHUP")
    return [getattr(signal, name) for name in names if hasattr(signal, name)]


@contextmanager
def interruptible() -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP raise `AnnotateInterrupted` while the block
    runs (in the main thread only; elsewhere signals cannot be handled)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []

    def stop(signum: int, frame: Any) -> None:
        if caught:
            return  # already stopping
        caught.append(signum)
        raise AnnotateInterrupted(signum)

    previous = {signum: signal.signal(signum, stop) for signum in _stop_signals()}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _die_with_parent(parent: int) -> None:
    """In a worker: be killed when the parent dies (Linux), ignore Ctrl-C."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for signum in _stop_signals():
        if signum != signal.SIGINT:
            signal.signal(signum, signal.SIG_DFL)  # not the parent's handler
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the prctl
        os._exit(1)


def _work(tasks: Any, results: Any, settings: dict[str, Any], parent: int) -> None:
    """A worker: annotate partitions until the sentinel (None) comes."""
    _die_with_parent(parent)
    from .engines import annotate_chunk

    try:
        nlp = _INHERITED.get("nlp")
        if nlp is None:
            from ..pipeline.loading import load_pipeline

            nlp = load_pipeline(settings["model"], settings["precision"])
    except ClinkdError as err:
        results.put((None, None, ("clinkd", str(err))))
        return
    while True:
        task = tasks.get()
        if task is None:
            return
        number, notes, with_docs = task
        try:
            chunk = annotate_chunk(
                nlp,
                notes,
                batch_size=settings["batch_size"],
                with_docs=with_docs,
                window_chars=settings["window_chars"],
                max_chars=settings["max_chars"],
            )
        except ClinkdError as err:
            results.put((number, None, ("clinkd", str(err))))
            return
        except Exception:  # a bug: its traceback goes to the parent
            results.put((number, None, ("bug", traceback.format_exc())))
            return
        results.put((number, chunk, None))


class WorkerPool:
    """`n_process` worker processes annotating partitions of notes, in order.

    nlp (Language): the loaded pipeline (forked into the workers).
    n_process (int): worker processes.
    settings (Dict[str, Any]): model, precision, batch_size, window_chars, max_chars.
    in_flight (int): partitions per worker handed out ahead (bounds memory).
    """

    def __init__(self, nlp: Any, *, n_process: int, settings: dict[str, Any], in_flight: int = 2) -> None:
        self.nlp = nlp
        self.n_process = n_process
        self.settings = settings
        self.in_flight = in_flight
        self.procs: list[Any] = []
        self.tasks: list[Any] = []
        self.results: list[Any] = []

    def start(self) -> None:
        methods = multiprocessing.get_all_start_methods()
        method = "fork" if "fork" in methods else "spawn"
        context = multiprocessing.get_context(method)
        self.tasks = [context.Queue() for _ in range(self.n_process)]
        self.results = [context.Queue() for _ in range(self.n_process)]
        if method == "fork":
            _INHERITED["nlp"] = self.nlp
        try:
            for index in range(self.n_process):
                proc = context.Process(
                    target=_work,
                    args=(self.tasks[index], self.results[index], self.settings, os.getpid()),
                    name=f"clinkd-annotate-{index}",
                    daemon=True,
                )
                proc.start()
                self.procs.append(proc)
        finally:
            _INHERITED.clear()

    def _receive(self, index: int, number: int, notes: list[Note]) -> Any:
        worker, results = self.procs[index], self.results[index]
        while True:
            try:
                got, chunk, failure = results.get(timeout=POLL_SECONDS)
            except queue.Empty:
                if worker.is_alive():
                    continue
                try:  # it may have put its result just before it ended
                    got, chunk, failure = results.get(timeout=POLL_SECONDS)
                except queue.Empty:
                    raise ClinkdError(
                        Errors.E426.format(pid=worker.pid, code=worker.exitcode, first=notes[0].id, last=notes[-1].id)
                    ) from None
            if failure is not None:
                kind, text = failure
                if kind == "clinkd":
                    raise ClinkdError(text)
                raise RuntimeError(f"An annotate worker process failed:\n{text}")
            if got != number:  # pragma: no cover - the queues keep order
                raise RuntimeError(f"worker {index} returned partition {got}, expected {number}")
            return chunk

    def run(self, parts: Iterable[list[Note]], *, with_docs: bool) -> Iterator[Any]:
        """Annotate partitions; RETURNS their chunks, in input order."""
        parts = iter(parts)
        waiting: deque[tuple[int, list[Note]]] = deque()
        numbers = iter(range(sys.maxsize))

        def submit() -> bool:
            part = next(parts, None)
            if part is None:
                return False
            number = next(numbers)
            self.tasks[number % self.n_process].put((number, part, with_docs))
            waiting.append((number, part))
            return True

        for _ in range(self.in_flight * self.n_process):
            if not submit():
                break
        while waiting:
            number, part = waiting.popleft()
            chunk = self._receive(number % self.n_process, number, part)
            submit()
            yield chunk

    def close(self, *, abort: bool = False) -> None:
        """Stop the workers: let them finish (abort False) or terminate them now."""
        if not self.procs:
            return
        if not abort:
            for tasks in self.tasks:
                tasks.put(None)
            for proc in self.procs:
                proc.join(JOIN_SECONDS)
        for proc in self.procs:
            if proc.is_alive():
                proc.terminate()
        for channel in self.tasks + self.results:
            # texts a dead worker never read must not keep this process from exiting
            channel.cancel_join_thread()
            channel.close()
        for proc in self.procs:
            proc.join(JOIN_SECONDS)
            if proc.is_alive():
                proc.kill()
                proc.join()
        self.procs = []
