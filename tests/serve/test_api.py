"""The API through FastAPI's TestClient: annotate's records, offsets into the
text as sent (CRLF, emoji, combining characters), every error of issue 28 as
JSON with a numbered code, and logs without note text."""
import json
import logging
import threading
import time

import pytest
import srsly
from spacy.language import Language

pytest.importorskip("fastapi", reason="serve needs the extra spacy_clinkd[serve]")

from spacy_clinkd.annotate.run import annotate  # noqa: E402
from spacy_clinkd.errors import Errors  # noqa: E402
from spacy_clinkd.pipeline.loading import load_pipeline  # noqa: E402
from spacy_clinkd.serve.app import max_body_bytes  # noqa: E402
from tests.util import NOTE_TEXTS  # noqa: E402

# CRLF; emoji outside the BMP and a ZWJ sequence (two UTF-16 units each, one
# code point each for Python); combining marks; BOM, NBSP and U+2028.
UNICODE_NOTES = [
    "Patient denies fever.\r\nNo cough, has diabetes.\r\nTook aspirin.",
    "😀 the patient has fever 🤒 and cough 👩‍⚕️ took aspirin",
    "the patient has fe\u0301ver and cou\u0308gh, denies chest pain",
    "\ufeffno chest pain\u00a0; has dyspnea\u2028took insulin",
]
# The first character of each note above that a wrong offset unit would trip on.
TRICKY = ["\r", "😀", "\u0301", "\ufeff"]
MARKER = "ZEBRA-7741"  # note text that must never reach a log


def post(client, body, **headers):
    return client.post("/v1/annotate", json=body, headers=headers or None)


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert (error["code"], error["status"]) == (code, status)
    assert hasattr(Errors, code) and error["message"]
    return error


def test_records_are_annotates_records(client, tiny_pipeline, tmp_path):
    notes = [{"id": f"n{i}", "text": text} for i, text in enumerate(NOTE_TEXTS + UNICODE_NOTES)]
    srsly.write_jsonl(tmp_path / "notes.jsonl", notes)
    annotate(str(tiny_pipeline), tmp_path / "notes.jsonl", tmp_path / "out.jsonl", progress=False)
    # json, not srsly (its reader parses 0.8701 as 0.8701000000000001); lines end
    # at "\n" only (str.splitlines would also cut at the U+2028 inside a note)
    lines = (tmp_path / "out.jsonl").read_text(encoding="utf8").rstrip("\n").split("\n")
    expected = [json.loads(line) for line in lines]
    assert sum(len(record["entities"]) for record in expected) > 10

    response = post(client, {"notes": notes})  # annotate's input objects, as they are
    assert response.status_code == 200
    assert response.json() == {"records": expected}
    single = post(client, {"text": notes[5]["text"], "id": "n5"})
    assert single.json() == {"records": [expected[5]]}


def test_ids(client):
    assert [r["id"] for r in post(client, {"texts": ["no fever", "has cough", "x"]}).json()["records"]] == ["0", "1", "2"]
    notes = [{"id": 7, "text": "a"}, {"id": "x7", "text": "b"}, {"id": "x7", "text": "c"}]
    assert [r["id"] for r in post(client, {"notes": notes}).json()["records"]] == ["7", "x7", "x7"]
    assert post(client, {"text": "no fever", "id": 12}).json()["records"][0]["id"] == "12"
    assert post(client, {"text": "no fever"}).json()["records"][0]["id"] == "0"
    assert post(client, {"text": ""}).json() == {"records": [{"id": "0", "entities": []}]}


@pytest.mark.parametrize("text,tricky", list(zip(UNICODE_NOTES, TRICKY)), ids=["crlf", "emoji", "combining", "bom"])
def test_offsets_count_code_points_of_the_text_as_sent(client, text, tricky):
    response = post(client, {"text": text})
    record = json.loads(response.content.decode("utf8"))["records"][0]
    assert record["entities"]
    for ent in record["entities"]:
        assert text[ent["start"] : ent["end"]] == ent["text"]
    # an entity after the tricky character: a UTF-16 or byte offset would be off there
    assert any(ent["start"] > text.index(tricky) for ent in record["entities"])


BAD_REQUESTS = {
    # name: (body bytes or JSON, content type, status, code)
    "malformed JSON": (b'{"text": "no fever"', "application/json", 400, "E471"),
    "not UTF-8": (b'{"text": "caf\xe9"}', "application/json", 400, "E471"),
    "text not a string": ({"text": 5}, "application/json", 422, "E472"),
    "a text of texts not a string": ({"texts": ["a", None]}, "application/json", 422, "E472"),
    "id a boolean": ({"text": "a", "id": True}, "application/json", 422, "E472"),
    "neither text nor texts": ({}, "application/json", 422, "E472"),
    "both text and texts": ({"text": "a", "texts": ["b"]}, "application/json", 422, "E472"),
    "unknown field": ({"note": "a"}, "application/json", 422, "E472"),
    "text and notes": ({"text": "a", "notes": [{"id": "x", "text": "b"}]}, "application/json", 422, "E472"),
    "id with texts": ({"texts": ["a"], "id": "x"}, "application/json", 422, "E472"),
    "a note without text": ({"notes": [{"id": "x"}]}, "application/json", 422, "E472"),
    "a note with a float id": ({"notes": [{"id": 1.5, "text": "a"}]}, "application/json", 422, "E472"),
    "text null": ({"text": None, "texts": ["a"]}, "application/json", 422, "E472"),
    "no texts": ({"texts": []}, "application/json", 422, "E472"),
    "no notes": ({"notes": []}, "application/json", 422, "E472"),
    "body an array": (["no fever"], "application/json", 422, "E472"),
    "empty body": (b"", "application/json", 422, "E472"),
    "lone surrogate": (b'{"text": "fever \\ud800"}', "application/json", 422, "E483"),
    "plain text": (b"no fever", "text/plain", 415, "E476"),
    "a form": (b"text=no+fever", "application/x-www-form-urlencoded", 415, "E476"),
    "JSON in latin-1": ({"text": "a"}, "application/json; charset=latin-1", 415, "E476"),
    "no content type": ({"text": "a"}, None, 415, "E476"),
}


@pytest.mark.parametrize("name", list(BAD_REQUESTS))
def test_bad_requests_get_json_errors(client, name):
    body, content_type, status, code = BAD_REQUESTS[name]
    content = body if isinstance(body, bytes) else json.dumps(body).encode("utf8")
    headers = {"content-type": content_type} if content_type else {}
    response = client.post("/v1/annotate", content=content, headers=headers)
    error = assert_error(response, status, code)
    if code == "E472":
        assert error["problems"] and all(problem in error["message"] for problem in error["problems"])
    assert client.get("/healthz").json()["status"] == "ok"  # and the server goes on


def test_problems_name_the_field(client):
    problems = assert_error(post(client, {"texts": ["a", 3]}), 422, "E472")["problems"]
    assert problems == ["texts.1: Input should be a valid string"]
    problems = assert_error(post(client, {"text": "a", "interval": 1}), 422, "E472")["problems"]
    assert problems == ["interval: unknown field (a request holds text and id, texts, or notes of id and text)"]
    problems = assert_error(post(client, {"notes": [{"id": True, "text": "a"}]}), 422, "E472")["problems"]
    assert problems == ["notes.0.id: an id is a string or an integer"]


def test_json_with_a_utf8_charset_is_taken(client):
    response = client.post(
        "/v1/annotate", content=b'{"text": "no fever"}', headers={"content-type": "application/json; charset=UTF-8"}
    )
    assert response.status_code == 200


def test_size_limits(client):
    # 2,000 emoji are 2,000 code points (4,000 UTF-16 units): at the limit, taken
    assert post(client, {"text": "😀" * 2000}).status_code == 200
    error = assert_error(post(client, {"texts": ["no fever", "a" * 2001]}), 413, "E473")
    assert "Text 1 has 2001 characters" in error["message"] and "--max-chars" in error["message"]
    assert_error(post(client, {"texts": ["a"] * 257}), 413, "E474")
    too_big = b'{"text": "' + b"a" * max_body_bytes(2000) + b'"}'
    assert_error(client.post("/v1/annotate", content=too_big, headers={"content-type": "application/json"}), 413, "E475")


def test_paths_methods_and_hosts(client):
    assert_error(client.get("/v1/annotate"), 405, "E482")
    assert client.get("/v1/annotate").headers["allow"] == "POST"
    assert_error(client.post("/v1/model", json={}), 405, "E482")
    assert_error(client.get("/v2/annotate"), 404, "E481")
    for name in ("/docs", "/redoc"):  # Swagger UI and ReDoc would load from a CDN
        assert_error(client.get(name), 404, "E481")
    error = assert_error(client.get("/healthz", headers={"host": "rebind.example.com"}), 400, "E484")
    assert "rebind.example.com" in error["message"]
    assert client.get("/healthz", headers={"host": "localhost:8000"}).status_code == 200
    assert client.get("/healthz", headers={"host": "[::1]:8000"}).status_code == 200


def test_api_key(serve_nlp, make_client):
    keyed = make_client(serve_nlp, api_key="s3cret")
    assert_error(post(keyed, {"text": "no fever"}), 401, "E477")
    assert_error(post(keyed, {"text": "no fever"}, **{"X-API-Key": "s3cre"}), 401, "E477")
    assert_error(keyed.get("/v1/model"), 401, "E477")
    assert post(keyed, {"text": "no fever"}, **{"X-API-Key": "s3cret"}).status_code == 200
    # the page and the health check stay open (the page asks for the key)
    assert keyed.get("/healthz").status_code == 200
    assert keyed.get("/").status_code == 200


def test_a_pipeline_failure_is_a_500_for_that_request_only(boom_nlp, make_client):
    client = make_client(boom_nlp)
    error = assert_error(post(client, {"texts": ["no fever", f"BOOM {MARKER}"]}), 500, "E479")
    assert "text 1" in error["message"] and "ValueError: this component refuses BOOM" in error["message"]
    assert post(client, {"text": "no fever"}).status_code == 200
    assert client.get("/healthz").json()["status"] == "ok"


def test_logs_hold_sizes_and_timings_never_text(boom_nlp, make_client, caplog):
    client = make_client(boom_nlp, max_chars=200)
    caplog.set_level(logging.DEBUG)
    post(client, {"text": f"no fever {MARKER}"})
    post(client, {"texts": ["no fever", f"BOOM {MARKER}"]})  # pipeline failure
    post(client, {"text": MARKER * 40})  # 413
    post(client, {"text": 5, "id": MARKER})  # 422
    post(client, {MARKER: "x"})  # 422, the text in a field name
    client.post("/v1/annotate", content=f"{{{MARKER}".encode(), headers={"content-type": "application/json"})
    client.get(f"/{MARKER}?text={MARKER}")  # 404, the text in the URL
    # the server's records (httpx is the test's client, which logs its own URLs)
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("httpx"))
    assert MARKER not in logged
    # the log is not empty: one line per request, with the counts of annotate requests
    assert "POST /v1/annotate 200" in logged and "texts=1 chars=19 " in logged
    assert "GET - 404" in logged
    assert "pipeline failed on text 1 of 2" in logged


BLOCK = threading.Event()
BLOCKED = threading.Event()


@Language.component("serve_test_block")
def block(doc):
    if "WAIT" in doc.text:
        BLOCKED.set()
        BLOCK.wait(60)
    return doc


def test_a_full_queue_is_a_503_and_the_server_recovers(tiny_pipeline, make_client):
    nlp = load_pipeline(tiny_pipeline)
    nlp.add_pipe("serve_test_block")
    client = make_client(nlp, max_queued=2)
    batcher = client.app.state.batcher
    BLOCK.clear()
    BLOCKED.clear()
    results = {}

    def send(name, body):
        results[name] = post(client, body)

    first = threading.Thread(target=send, args=("first", {"text": "WAIT no fever"}))
    first.start()
    assert BLOCKED.wait(30)  # the worker is inside the pipeline
    second = threading.Thread(target=send, args=("second", {"texts": ["no fever", "has cough"]}))
    second.start()
    deadline = time.monotonic() + 30
    while batcher.queued < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    response = post(client, {"text": "has diabetes"})
    error = assert_error(response, 503, "E478")
    assert response.headers["retry-after"] == "1" and "2 texts waiting, limit 2" in error["message"]
    BLOCK.set()
    first.join(30)
    second.join(30)
    assert results["first"].status_code == 200 and results["second"].status_code == 200
    assert post(client, {"text": "has diabetes"}).status_code == 200


def test_health_and_model(client, serve_nlp):
    assert client.get("/healthz").json() == {"status": "ok", "queued": 0}
    info = client.get("/v1/model").json()
    assert info["labels"] == ["DISEASE", "MEDICATION", "SYMPTOM"] == sorted(serve_nlp.get_pipe("clinkd_ner").labels)
    assert info["assertions"] == ["present", "absent", "possible"]
    assert info["contexts"] == ["historical", "hypothetical", "family"]
    assert info["pipeline"] == ["clinkd_ner", "sentencizer", "clinkd_assertion"]
    assert (info["name"], info["precision"], info["max_chars"], info["scores"]) == ("en_pipeline", "fp32", 2000, None)

