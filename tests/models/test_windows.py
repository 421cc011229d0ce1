import spacy
from hypothesis import given, settings
from hypothesis import strategies as st

from spacy_clinkd.models.windows import create_line_windows, line_windows

NLP = spacy.blank("en")


def test_lines_are_packed_without_overlap():
    doc = NLP("one two three.\nfour five.\nsix seven eight nine.\nten")
    windows = line_windows(doc, 6)
    assert [w.text for w in windows] == ["one two three.\n", "four five.\n", "six seven eight nine.\n", "ten"]
    windows = line_windows(doc, 12)
    assert [w.text for w in windows] == ["one two three.\nfour five.\n", "six seven eight nine.\nten"]


def test_long_line_is_chunked():
    doc = NLP(" ".join(["w"] * 10))
    assert [len(w) for w in line_windows(doc, 4)] == [4, 4, 2]


def test_empty_doc():
    assert create_line_windows(8)([NLP("")]) == [[]]


@settings(max_examples=100, deadline=None)
@given(
    lines=st.lists(st.integers(min_value=0, max_value=12), min_size=0, max_size=12),
    max_tokens=st.integers(min_value=1, max_value=10),
)
def test_windows_cover_every_token_once(lines, max_tokens):
    text = "\n".join(" ".join(["w"] * n) for n in lines)
    doc = NLP(text)
    windows = line_windows(doc, max_tokens)
    covered = [i for w in windows for i in range(w.start, w.end)]
    assert covered == list(range(len(doc)))
    assert all(0 < len(w) <= max_tokens for w in windows)
