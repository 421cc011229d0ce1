"""The API fuzzed from its own OpenAPI schema (schemathesis): requests the
schema allows are annotated (2xx), requests it forbids get a 4xx, none gets
a 5xx, and every response fits the schema (status, content type, body).

The operations are run with hypothesis directly (`as_strategy`):
schemathesis's pytest plugin (`from_fixture`) does not run under pytest 9.
"""
import pytest
from hypothesis import HealthCheck, given, settings

from spacy_clinkd.serve.settings import LOOPBACK_HOSTS

schemathesis = pytest.importorskip("schemathesis", reason="the fuzz pass needs schemathesis (requirements-dev.txt)")

# A schema-violating request may get 413 (a text over the limits the schema
# states), which schemathesis's default list for rejections does not have.
CONFIG = {"checks": {"negative_data_rejection": {"expected-statuses": [400, 401, 404, 405, 413, 415, 422]}}}


@pytest.fixture(scope="module")
def api_schema(serve_nlp):
    from spacy_clinkd.serve.app import create_app

    # schemathesis's ASGI client sends Host: testserver
    app = create_app(serve_nlp, max_chars=300, max_texts=8, allowed_hosts=(*LOOPBACK_HOSTS, "testserver"))
    return schemathesis.openapi.from_asgi("/openapi.json", app, config=schemathesis.Config.from_dict(CONFIG))


def statuses_of(operation, mode: str) -> set[int]:
    """Run hypothesis over one operation; RETURNS the statuses it answered with."""
    statuses: set[int] = set()

    @given(case=operation.as_strategy(generation_mode=schemathesis.GenerationMode(mode)))
    @settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case):
        statuses.add(case.call_and_validate().status_code)

    check()
    return statuses


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_api_from_its_schema(api_schema, mode):
    checked: dict[str, set[int]] = {}
    for result in api_schema.get_all_operations():
        operation = result.ok()
        if mode == "negative" and operation.method.upper() != "POST":
            continue  # nothing in a GET without parameters can violate the schema
        checked[f"{operation.method.upper()} {operation.path}"] = statuses_of(operation, mode)
    assert all(status < 500 for codes in checked.values() for status in codes), checked
    if mode == "positive":
        assert checked == {"POST /v1/annotate": {200}, "GET /v1/model": {200}, "GET /healthz": {200}}
    else:
        assert checked["POST /v1/annotate"] and checked["POST /v1/annotate"] <= {400, 413, 415, 422}
