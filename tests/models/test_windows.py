import spacy
from hypothesis import given, settings
from hypothesis import strategies as st

from spacy_clinkd.models.windows import (
    WordpieceLimited,
    create_line_windows,
    fit_windows,
    line_windows,
    piece_limit,
)

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


def words(text: str) -> int:
    """A stand-in tokenizer: one piece per letter of each word, plus two
    special tokens (never more pieces than bytes, as `fit_windows` assumes)."""
    return sum(len(w) for w in text.split()) + 2


def test_fit_windows_halves_at_the_line_end_nearest_the_middle():
    doc = NLP("aa bb cc\ndd ee\nff gg hh ii\njj")
    # 13 tokens (each "\n" is one), 20 letters + 2 specials = 22 pieces; line
    # ends after tokens 4, 7 and 12; the middle token is 6, so the cut is at 7
    fitted = fit_windows([doc[:]], words, 12, n_special=2)
    assert [w.text for w in fitted] == ["aa bb cc\ndd ee\n", "ff gg hh ii\njj"]
    # with 11, both 12-piece halves are halved again at their own line ends
    fitted = fit_windows([doc[:]], words, 11, n_special=2)
    assert [w.text for w in fitted] == ["aa bb cc\n", "dd ee\n", "ff gg hh ii\n", "jj"]


def test_fit_windows_leaves_fitting_windows_and_single_tokens_alone():
    doc = NLP("aaaaaaaaaaaaaaaaaaaa bb")
    calls = []

    def count(text):
        calls.append(text)
        return words(text)

    windows = [doc[0:1], doc[1:2]]
    assert fit_windows(windows, count, 6, n_special=2) == windows
    # "bb" has 2 bytes + 2 specials <= 6: never counted; the long single token
    # is over the limit but cannot be cut
    assert calls == []
    assert fit_windows([doc[:]], words, 6, n_special=2) == [doc[0:1], doc[1:2]]


@settings(max_examples=100, deadline=None)
@given(
    lines=st.lists(
        st.lists(st.integers(min_value=1, max_value=9), min_size=0, max_size=8), min_size=0, max_size=8
    ),
    max_pieces=st.integers(min_value=3, max_value=30),
)
def test_fitted_windows_cover_every_token_once_and_fit(lines, max_pieces):
    text = "\n".join(" ".join("x" * n for n in line) for line in lines)
    doc = NLP(text)
    fitted = fit_windows(line_windows(doc, 10), words, max_pieces, n_special=2)
    covered = [i for w in fitted for i in range(w.start, w.end)]
    assert covered == list(range(len(doc)))
    assert all(len(w) == 1 or words(w.text) <= max_pieces for w in fitted)


class FakeTokenizer:
    def __init__(self, model_max_length):
        self.model_max_length = model_max_length

    def __call__(self, text, add_special_tokens=True, verbose=True):
        return {"input_ids": [0] * words(text)}


class FakeTransformer:
    def __init__(self, tokenizer, max_position_embeddings=None):
        self.tokenizer = tokenizer
        self.transformer = type("HF", (), {"config": type("C", (), {"max_position_embeddings": max_position_embeddings})})


def test_wordpiece_limited_uses_the_tokenizer_limit_then_the_config():
    doc = NLP("aa bb cc\ndd ee")
    get_spans = create_line_windows(128)
    # 6 tokens, 10 letters + 2 specials = 12 pieces
    assert piece_limit(FakeTokenizer(11)) == 11
    assert [len(w) for w in WordpieceLimited(get_spans, FakeTransformer(FakeTokenizer(12)))([doc])[0]] == [6]
    assert [len(w) for w in WordpieceLimited(get_spans, FakeTransformer(FakeTokenizer(11)))([doc])[0]] == [4, 2]
    # an unset tokenizer limit (transformers' VERY_LARGE_INTEGER) falls back
    # to the model's positions; with neither, windows are left as they are
    unset = FakeTokenizer(int(1e30))
    assert [len(w) for w in WordpieceLimited(get_spans, FakeTransformer(unset, 11))([doc])[0]] == [4, 2]
    assert [len(w) for w in WordpieceLimited(get_spans, FakeTransformer(unset))([doc])[0]] == [6]
