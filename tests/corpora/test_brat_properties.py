"""Property test (hypothesis): random text with random brat annotations,
written in every line-ending style, round-trips through the reader: the Doc
text is the file's text, every kept entity covers one of the annotations it
came from, and every annotation is either kept or counted as dropped."""
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spacy_clinkd.corpora.conversion_report import ConversionReport
from spacy_clinkd.corpora.spans import trim_whitespace
from spacy_clinkd.tokenizer import clinical_blank
from tests.util import brat_doc

pytestmark = pytest.mark.hostile

NLP = clinical_blank()
LABELS = {"Sign_symptom": "SYMPTOM", "Disease_disorder": "DISEASE"}
TYPES = ["Sign_symptom", "Disease_disorder", "Age"]  # Age is not in the map
# Letters, digits, spaces of several kinds, zero-width, accents, an astral
# emoji, a Unicode line separator (not a line end), punctuation and a tab.
CHARS = list("abcdefg xyz019") + ["\t", "\u00a0", "\u200b", "é", "🤒", "\u2028", ".", "-", "(", "/"]
STYLES = {"LF": ["\n"], "CRLF": ["\r\n"], "CR": ["\r"], "mixed": ["\n", "\r\n", "\r"]}


@st.composite
def documents(draw, ends):
    lines = draw(st.lists(st.text(st.sampled_from(CHARS), max_size=25), min_size=1, max_size=6))
    text = lines[0]
    for i, line in enumerate(lines[1:]):
        text += ends[i % len(ends)] + line
    annotations = []
    for _ in range(draw(st.integers(0, 8))):
        start = draw(st.integers(0, len(text)))
        end = draw(st.integers(start, min(len(text), start + 12)))
        corrupt = draw(st.booleans()) and draw(st.booleans())  # about one in four
        annotations.append((start, end, draw(st.sampled_from(TYPES)), corrupt))
    return text, annotations


def write_ann(text, annotations, ends) -> str:
    lines = []
    for i, (start, end, corpus_type, corrupt) in enumerate(annotations):
        # A line end cannot stand in an .ann line: brat exports write the
        # surface of a span across lines with spaces (a whitespace-only
        # difference, which the reader accepts).
        surface = "".join(" " if c in "\r\n" else c for c in text[start:end])
        if corrupt:
            surface += "q"  # never in the text: a non-whitespace difference
        lines.append(f"T{i + 1}\t{corpus_type} {start} {end}\t{surface}")
    return "".join(line + ends[i % len(ends)] for i, line in enumerate(lines))


def entity_sources(ent, annotations, text):
    """The annotations (trimmed of edge whitespace) that `ent` may come from."""
    sources = []
    for start, end, corpus_type, corrupt in annotations:
        t_start, t_end = trim_whitespace(text, start, end)
        if (
            not corrupt
            and LABELS.get(corpus_type) == ent.label_
            and t_start < t_end
            and ent.start_char <= t_start
            and t_end <= ent.end_char
        ):
            sources.append((start, end))
    return sources


@pytest.mark.parametrize("style", list(STYLES))
def test_brat_round_trip(style):
    ends = STYLES[style]

    # database=None: no .hypothesis folder in the repository.
    @settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(documents(ends))
    def check(document):
        text, annotations = document
        with tempfile.TemporaryDirectory() as folder:
            txt, ann = Path(folder) / "d.txt", Path(folder) / "d.ann"
            txt.write_bytes(text.encode("utf8"))
            ann.write_bytes(write_ann(text, annotations, ends).encode("utf8"))
            report = ConversionReport()
            doc = brat_doc(txt, ann, nlp=NLP, label_map=LABELS, report=report, split="s")
        assert doc.text == text
        n_dropped = sum(sum(by_type.values()) for by_type in report.dropped.values())
        assert report.n_kept("s") + n_dropped == len(annotations)
        assert report.n_dropped("surface_mismatch") == sum(1 for *_, corrupt in annotations if corrupt)
        for ent in doc.ents:
            assert ent.text == text[ent.start_char : ent.end_char]
            assert entity_sources(ent, annotations, text), (ent.start_char, ent.end_char, ent.label_)
        mixed = len({e for e in ends[: max(len(annotations), 1)]}) > 1 and len(annotations) > 1
        assert any("mixed line ends" in note for note in report.notes) == mixed

    check()
