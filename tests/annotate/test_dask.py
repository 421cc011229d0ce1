"""The Dask engine on a real 2-worker LocalCluster (processes, one thread each)."""
import json

import pytest

distributed = pytest.importorskip("distributed")

from spacy_clinkd.annotate.engines import DaskEngine  # noqa: E402
from spacy_clinkd.annotate.inputs import JsonlNotes  # noqa: E402
from spacy_clinkd.annotate.run import annotate  # noqa: E402
from tests.util import synthetic_notes  # noqa: E402

N_NOTES = 30
PARTITION = 3  # 10 tasks for 2 workers


def without_scores(records):
    return {r["id"]: [{k: v for k, v in e.items() if k != "score"} for e in r["entities"]] for r in records}


@pytest.fixture(scope="module")
def notes_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("dask_notes") / "notes.jsonl"
    path.write_text("".join(json.dumps(n) + "\n" for n in synthetic_notes(N_NOTES)), encoding="utf8")
    return path


@pytest.fixture(scope="module")
def dask_run(tiny_pipeline, notes_file, tmp_path_factory):
    """Run the engine on a LocalCluster; keep the records and each worker's load counts."""
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
    )
    try:
        engine = DaskEngine(
            str(tiny_pipeline), batch_size=1, partition_size=PARTITION, scheduler=cluster.scheduler_address
        )
        engine.start()
        chunks = list(engine.run(JsonlNotes(notes_file).notes(), with_docs=False))
        loads = engine.worker_loads()
        engine.close()
    finally:
        cluster.close()
    return chunks, loads


@pytest.mark.slow
def test_dask_records_equal_the_single_process_records(tiny_pipeline, notes_file, dask_run, tmp_path):
    chunks, _ = dask_run
    records = [r for chunk in chunks for r in chunk.records]
    out = tmp_path / "single.jsonl"
    annotate(str(tiny_pipeline), notes_file, out, batch_size=1, progress=False)
    single = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(chunks) == N_NOTES // PARTITION and not any(chunk.errors for chunk in chunks)
    assert sorted(r["id"] for r in records) == sorted(r["id"] for r in single)  # each note once
    assert without_scores(records) == without_scores(single)
    assert sum(len(e) for e in without_scores(single).values()) > 10
    by_id = {r["id"]: r for r in records}
    for record in single:
        for ent, dask_ent in zip(record["entities"], by_id[record["id"]]["entities"]):
            assert dask_ent["score"] == pytest.approx(ent["score"], abs=1e-3)


@pytest.mark.slow
def test_the_pipeline_is_loaded_once_per_worker(tiny_pipeline, dask_run):
    _, loads = dask_run
    assert len(loads) == 2
    # 10 tasks ran on 2 workers: loading per task would count more than 1
    assert [info["loads"] for info in loads.values()] == [{str(tiny_pipeline): 1}] * 2
    assert len({info["pid"] for info in loads.values()}) == 2
