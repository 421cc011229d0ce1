"""The batching queue, by its behaviour: requests that wait together go into
one `nlp.pipe` call (counted by wrapping `nlp.pipe`), batches stop at
batch_size without splitting a request, a failing text fails its request
only, a cancelled request is not annotated, stop finishes what is queued."""
import threading
import time

import pytest

from spacy_clinkd.annotate.records import doc_record
from spacy_clinkd.serve.batcher import Busy, PipeBatcher, PipelineFailed, ShuttingDown


class PipeSpy:
    """Stands in for `nlp.pipe`: records the texts of each call, and holds the
    first call at a gate until the test opens it (so that the next requests
    queue behind it, as they do behind a busy worker)."""

    def __init__(self, nlp, *, hold_first: bool = True) -> None:
        self.pipe = nlp.pipe
        self.calls: list[list[str]] = []
        self.entered = threading.Event()
        self.gate = threading.Event()
        if not hold_first:
            self.gate.set()

        self.depth = 0  # spaCy's pipe(as_tuples=True) calls self.pipe again: count the outer call only

    def __call__(self, texts, **kwargs):
        if self.depth:
            yield from self.pipe(texts, **kwargs)
            return
        items = list(texts)
        firsts = [item[0] if kwargs.get("as_tuples") else item for item in items]
        self.calls.append([getattr(doc, "text", doc) for doc in firsts])  # texts, or docs made from them
        first = len(self.calls) == 1
        self.entered.set()
        if first:
            assert self.gate.wait(60), "the test never opened the gate"
        self.depth += 1
        try:
            yield from self.pipe(iter(items), **kwargs)
        finally:
            self.depth -= 1


@pytest.fixture
def spy(serve_nlp, monkeypatch):
    spy = PipeSpy(serve_nlp)
    monkeypatch.setattr(serve_nlp, "pipe", spy)
    return spy


def wait_until(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


@pytest.fixture
def batcher_of():
    made = []

    def make(nlp, **settings):
        batcher = PipeBatcher(nlp, **settings)
        made.append(batcher)
        return batcher

    yield make
    for batcher in made:
        batcher.stop()


def test_requests_waiting_together_share_one_pipe_call(serve_nlp, spy, batcher_of):
    batcher = batcher_of(serve_nlp, batch_size=32)
    first = batcher.submit(["the patient has fever"], ["a"])
    assert spy.entered.wait(30)  # the worker is busy with the first request
    jobs = [
        batcher.submit(["denies chest pain . no fever"], ["b"]),
        batcher.submit(["took aspirin", "no chest pain , has diabetes"], ["c1", "c2"]),
        batcher.submit(["has dyspnea"], ["d"]),
    ]
    assert batcher.queued == 4
    spy.gate.set()
    results = [job.result(60) for job in [first, *jobs]]
    assert spy.calls == [
        ["the patient has fever"],
        ["denies chest pain . no fever", "took aspirin", "no chest pain , has diabetes", "has dyspnea"],
    ]
    assert [[r["id"] for r in result.records] for result in results] == [["a"], ["b"], ["c1", "c2"], ["d"]]
    assert [result.batch_texts for result in results] == [1, 4, 4, 4]
    # each request gets the records of its own texts, as annotate makes them
    assert results[2].records[1] == doc_record("c2", serve_nlp("no chest pain , has diabetes"))


def test_concurrent_http_requests_end_up_in_one_pipe_call(serve_nlp, spy, make_client):
    client = make_client(serve_nlp, batch_size=32)
    batcher = client.app.state.batcher
    texts = [f"the patient has fever and cough {i}" for i in range(8)]
    responses = {}

    def send(i):
        responses[i] = client.post("/v1/annotate", json={"text": texts[i], "id": f"r{i}"})

    threads = [threading.Thread(target=send, args=(0,))]
    threads[0].start()
    assert spy.entered.wait(30)
    threads += [threading.Thread(target=send, args=(i,)) for i in range(1, 8)]
    for thread in threads[1:]:
        thread.start()
    wait_until(lambda: batcher.queued == 7)
    spy.gate.set()
    for thread in threads:
        thread.join(60)
    assert len(spy.calls) == 2  # 8 requests, 2 pipe calls
    assert spy.calls[0] == texts[:1] and sorted(spy.calls[1]) == texts[1:]
    for i, response in responses.items():
        record = response.json()["records"][0]
        assert record["id"] == f"r{i}"
        assert all(texts[i][e["start"] : e["end"]] == e["text"] for e in record["entities"])
        assert record["entities"]


def test_a_batch_stops_at_batch_size_and_never_splits_a_request(serve_nlp, spy, batcher_of):
    batcher = batcher_of(serve_nlp, batch_size=3)
    jobs = [batcher.submit(["no fever"], ["0"])]
    assert spy.entered.wait(30)
    for n in (2, 2, 1, 4):
        jobs.append(batcher.submit([f"has cough {n}.{i}" for i in range(n)], [str(i) for i in range(n)]))
    spy.gate.set()
    for job in jobs:
        job.result(60)
    # [held] [2] (2 + 2 > 3) [2, 1] [4: one request over batch_size is a batch of its own]
    assert [len(call) for call in spy.calls] == [1, 2, 3, 4]


def test_max_wait_gathers_requests_that_arrive_apart(serve_nlp, monkeypatch, batcher_of):
    spy = PipeSpy(serve_nlp, hold_first=False)
    monkeypatch.setattr(serve_nlp, "pipe", spy)
    batcher = batcher_of(serve_nlp, batch_size=2, max_wait=30.0)
    first = batcher.submit(["no fever"], ["a"])
    time.sleep(0.1)  # the worker has the first request and waits for company
    second = batcher.submit(["has cough"], ["b"])
    # a full batch starts at once, not after max_wait
    assert [first.result(60).batch_texts, second.result(60).batch_texts] == [2, 2]
    assert spy.calls == [["no fever", "has cough"]]


def test_a_failing_text_fails_its_request_only(boom_nlp, monkeypatch, batcher_of):
    spy = PipeSpy(boom_nlp)
    monkeypatch.setattr(boom_nlp, "pipe", spy)
    batcher = batcher_of(boom_nlp)
    held = batcher.submit(["no fever"], ["held"])
    assert spy.entered.wait(30)
    good = batcher.submit(["has cough"], ["good"])
    bad = batcher.submit(["no fever", "BOOM here"], ["b0", "b1"])
    also_good = batcher.submit(["took aspirin"], ["also"])
    spy.gate.set()
    assert [r["id"] for r in held.result(60).records] == ["held"]
    assert [r["id"] for r in good.result(60).records] == ["good"]
    assert [r["id"] for r in also_good.result(60).records] == ["also"]
    with pytest.raises(PipelineFailed) as failed:
        bad.result(60)
    assert failed.value.index == 1 and "ValueError: this component refuses BOOM" in failed.value.reason
    assert len(spy.calls) == 2 and len(spy.calls[1]) == 4  # one batch; the failure retried text by text


def test_a_cancelled_request_is_not_annotated(serve_nlp, spy, batcher_of):
    batcher = batcher_of(serve_nlp)
    batcher.submit(["no fever"], ["a"])
    assert spy.entered.wait(30)
    gone = batcher.submit(["the client went away"], ["b"])
    kept = batcher.submit(["has cough"], ["c"])
    assert gone.cancel()
    spy.gate.set()
    kept.result(60)
    assert spy.calls == [["no fever"], ["has cough"]]
    assert batcher.queued == 0


def test_busy_and_stop(serve_nlp, spy, batcher_of):
    batcher = batcher_of(serve_nlp, max_queued=2)
    held = batcher.submit(["no fever"], ["a"])
    assert spy.entered.wait(30)
    queued = batcher.submit(["has cough", "took aspirin"], ["b", "c"])
    with pytest.raises(Busy):
        batcher.submit(["one more"], ["d"])
    stopper = threading.Thread(target=batcher.stop)
    stopper.start()
    wait_until(lambda: not batcher.alive)
    with pytest.raises(ShuttingDown):
        batcher.submit(["after stop"], ["e"])
    spy.gate.set()
    stopper.join(60)
    # stop finished what was queued before it
    assert [r["id"] for r in held.result(60).records] == ["a"]
    assert [r["id"] for r in queued.result(60).records] == ["b", "c"]
    # and a stopped batcher starts again
    assert [r["id"] for r in batcher.submit(["again"], ["f"]).result(60).records] == ["f"]
