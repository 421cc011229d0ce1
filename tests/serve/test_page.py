"""The page and the schema as files and headers: everything the page needs
comes from the package (no CDN, no outside font, no outside request), its
controls are labelled native elements, and the OpenAPI schema describes
annotate's record."""
import re
from html.parser import HTMLParser

import pytest

pytest.importorskip("fastapi", reason="serve needs the extra spacy_clinkd[serve]")

from spacy_clinkd.serve.app import STATIC_DIR  # noqa: E402


class PageParser(HTMLParser):
    """The tags of a page with their attributes, and the text of each label."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def all(self, tag: str) -> list[dict[str, str]]:
        return [attrs for name, attrs in self.tags if name == tag]


def parse_page(html: str) -> PageParser:
    parser = PageParser()
    parser.feed(html)
    return parser


def test_the_page_and_everything_it_loads_come_from_the_server(client):
    response = client.get("/")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    # the browser may load and connect to this server only
    assert "default-src 'none'" in csp and "connect-src 'self'" in csp and "script-src 'self'" in csp
    page = parse_page(response.text)
    urls = [a["src"] for a in page.all("script")] + [a["href"] for a in page.all("link")]
    urls += [a["href"] for a in page.all("a")]
    assert urls and all(url.startswith(("/", "#")) and not url.startswith("//") for url in urls), urls
    expected_types = {".js": "javascript", ".css": "text/css", ".svg": "image/svg+xml", ".json": "application/json"}
    for url in (u for u in urls if u.startswith("/")):
        loaded = client.get(url)
        assert loaded.status_code == 200, url
        suffix = re.search(r"\.\w+$", url)
        if suffix and suffix.group() in expected_types:
            assert expected_types[suffix.group()] in loaded.headers["content-type"], url
    assert not page.all("style") and not any("style" in attrs for _, attrs in page.tags)  # CSP forbids inline styles


def test_no_file_of_the_page_reaches_outside():
    files = sorted(STATIC_DIR.iterdir())
    assert {p.name for p in files} >= {"index.html", "app.js", "style.css"}
    for path in files:
        text = path.read_text(encoding="utf8")
        assert not re.search(r"https?:|//[\w.-]+\.\w{2,}|@import|@font-face|url\(", text.replace("http://www.w3.org/2000/svg", "")), path
    script = (STATIC_DIR / "app.js").read_text(encoding="utf8")
    assert set(re.findall(r"fetch\(\"([^\"]+)\"", script)) == {"/v1/model", "/v1/annotate"}


def test_the_controls_are_labelled_buttons_and_fields():
    page = parse_page((STATIC_DIR / "index.html").read_text(encoding="utf8"))
    labelled = {attrs["for"] for attrs in page.all("label")}
    fields = page.all("textarea") + page.all("input")
    assert fields and all(field["id"] in labelled for field in fields)
    buttons = {attrs["id"]: attrs for attrs in page.all("button")}
    assert {"annotate", "download", "clear"} <= set(buttons)
    assert buttons["annotate"]["type"] == "submit" and buttons["download"]["type"] == "button"
    assert not any("tabindex" in attrs and int(attrs["tabindex"]) > 0 for _, attrs in page.tags)  # DOM order is the focus order
    assert any(attrs.get("role") == "status" and attrs.get("aria-live") == "polite" for _, attrs in page.tags)
    assert [attrs.get("scope") for attrs in page.all("th")] == ["col"] * 8


def test_the_schema_describes_the_api_and_annotates_record(client):
    schema = client.get("/openapi.json").json()
    assert set(schema["paths"]) == {"/v1/annotate", "/v1/model", "/healthz"}
    components = schema["components"]["schemas"]
    record = client.post("/v1/annotate", json={"text": "the patient has fever and cough"}).json()["records"][0]
    assert set(components["Record"]["properties"]) == set(record)
    assert set(components["Entity"]["properties"]) == set(record["entities"][0])
    responses = schema["paths"]["/v1/annotate"]["post"]["responses"]
    assert set(responses) == {"200", "400", "401", "413", "415", "422", "500", "503"}
    assert responses["413"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}
    # the server's limits are in the schema
    forms = components["AnnotateRequest"]["oneOf"]
    assert [sorted(form["properties"]) for form in forms] == [["id", "text"], ["texts"], ["notes"]]
    assert forms[0]["properties"]["text"]["maxLength"] == 2000
    assert forms[1]["properties"]["texts"]["maxItems"] == 256
