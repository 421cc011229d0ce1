"""Teachers other than a pipeline: span files and matchers."""
import json

import numpy
import pytest

from spacy_clinkd.corpora.transfer import chunk_doc
from spacy_clinkd.distillation.teachers import MatcherTargets, SpanFileTargets
from spacy_clinkd.errors import InputFileError
from spacy_clinkd.pipeline.tags import BIOScheme
from spacy_clinkd.tokenizer import clinical_blank
from tests.util import DISTILLATION_DATA as DATA

SCHEME = BIOScheme(("DISEASE", "MEDICATION", "SYMPTOM"))
EPS = 0.1


def expected_probs(tags):
    """Smoothed distribution rows for a list of tag names."""
    probs = numpy.full((len(tags), len(SCHEME)), EPS / len(SCHEME))
    for i, tag in enumerate(tags):
        probs[i, SCHEME.tag_to_id[tag]] += 1 - EPS
    return probs


@pytest.fixture
def nlp():
    return clinical_blank()


def test_span_file_targets_exact_with_alignment_counts(nlp):
    source = SpanFileTargets(DATA / "spans.jsonl", epsilon=EPS)
    source.initialize(SCHEME)
    texts = [
        "the patient has fever and cough",
        "took aspirin 5mg with insulin",
        "no chest pain, has diabetes",
    ]
    out = source([nlp.make_doc(t) for t in texts])
    expected = [
        ["O", "O", "O", "B-SYMPTOM", "O", "B-SYMPTOM"],
        # "aspi" expanded to "aspirin", then lost to the longer "aspirin 5mg";
        # "insulin" has a label the student does not know.
        ["O", "B-MEDICATION", "I-MEDICATION", "I-MEDICATION", "O", "O"],
        ["O", "O", "O", "O", "O", "B-DISEASE"],
    ]
    for logits, tags in zip(out, expected):
        numpy.testing.assert_allclose(numpy.exp(logits), expected_probs(tags), rtol=1e-5)
    assert source.counts() == {
        "expanded_to_token_boundaries": 1,
        "kept": 4,
        "overlap": 1,
        "trimmed_whitespace": 1,
        "unalignable": 1,
        "unknown_label": 1,
    }


def test_span_file_uncovered_doc_and_chunks(nlp, tmp_path):
    path = tmp_path / "spans.jsonl"
    long_text = "the patient has fever.\n" * 6 + "took insulin.\n"
    start = long_text.index("insulin")
    record = {"text": long_text, "spans": [{"start": start, "end": start + 7, "label": "MEDICATION"}]}
    path.write_text(json.dumps(record) + "\n", encoding="utf8")
    source = SpanFileTargets(path, epsilon=EPS)
    source.initialize(SCHEME)
    assert source([nlp.make_doc("not in the file")]) == [None]
    chunks = chunk_doc(nlp.make_doc(long_text), max_tokens=12)
    assert len(chunks) > 1 and all(len(c) <= 12 for c in chunks)
    assert "".join(c.text for c in chunks) == long_text
    logits = source(chunks)
    tags = [SCHEME.tags[i] for chunk_logits in logits for i in chunk_logits.argmax(-1)]
    assert tags.count("B-MEDICATION") == 1 and tags.count("O") == len(tags) - 1
    last = chunks[-1]
    assert SCHEME.tags[logits[-1][[t.text for t in last].index("insulin")].argmax()] == "B-MEDICATION"


def test_span_file_bad_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "fever", "spans": []}\n{"spans": []}\n', encoding="utf8")
    with pytest.raises(InputFileError, match=r"bad.jsonl:2"):
        SpanFileTargets(path)


def test_span_file_bad_line_after_blank_lines_names_its_own_line(tmp_path):
    # Blank lines are skipped but still counted: the error names the file's
    # line 4, not the second record; the message shows a span record's shape.
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "fever", "spans": []}\n\n\n{"text": "x", "spans": [{"start": 0}]}\n', encoding="utf8")
    with pytest.raises(InputFileError, match=r'bad\.jsonl:4: Expected a span record \{"text"'):
        SpanFileTargets(path)


def test_matcher_targets_exact(nlp):
    source = MatcherTargets(DATA / "patterns.jsonl", epsilon=EPS)
    source.initialize(SCHEME)
    doc = nlp.make_doc("Chest pain and fever, no cough; has diabetes")
    (logits,) = source([doc])
    tags = ["B-SYMPTOM", "I-SYMPTOM", "O", "B-SYMPTOM", "O", "O", "O", "O", "O", "B-DISEASE"]
    assert [t.text for t in doc][-1] == "diabetes" and len(doc) == len(tags)
    numpy.testing.assert_allclose(numpy.exp(logits), expected_probs(tags), rtol=1e-5)
    assert source.counts() == {"kept": 3, "unknown_label": 1}


def test_identity_depends_on_epsilon_and_tags():
    a = SpanFileTargets(DATA / "spans.jsonl", epsilon=0.1)
    b = SpanFileTargets(DATA / "spans.jsonl", epsilon=0.2)
    a.initialize(SCHEME)
    b.initialize(SCHEME)
    assert a.identity != b.identity
    c = SpanFileTargets(DATA / "spans.jsonl", epsilon=0.1)
    c.initialize(BIOScheme(("SYMPTOM",)))
    assert c.identity != a.identity
