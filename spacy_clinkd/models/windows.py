"""`clinkd.line_windows.v1`: cut docs into non-overlapping transformer windows
that end at line breaks.

Clinical notes and case reports are written a sentence or a section per line.
Packing whole lines into windows of at most `max_tokens` tokens gives every
token its full sentence as context, and, unlike strided windows (window 128,
stride 96), computes each token once: on MACCROBAT this removes about a
quarter of the wordpieces the encoder would otherwise process. A line longer
than `max_tokens` is cut into consecutive chunks of `max_tokens`.

A token budget alone does not bound the wordpieces: a line of lab codes or
identifiers can need 8 pieces per token, and spacy-transformers silently drops
the pieces past the model's limit, leaving the tokens they covered with no
representation (no entity can be found there). `WordpieceLimited` wraps the
span getter inside the encoder and halves any window that the encoder's own
tokenizer would cut, at the line end nearest its middle, until it fits.
"""
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from spacy.tokens import Doc, Span


def create_line_windows(max_tokens: int = 128) -> Callable[[Iterable[Doc]], list[list[Span]]]:
    """Registered as `clinkd.line_windows.v1` (spacy_span_getters).

    max_tokens (int): the most spaCy tokens in one window.
    RETURNS (Callable[[Iterable[Doc]], List[List[Span]]]): the span getter.
    """
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be >= 1, got {max_tokens}")
    return LineWindows(max_tokens)


class LineWindows:
    """The span getter of `clinkd.line_windows.v1` (a class, not a closure,
    so that the pipeline pickles).

    max_tokens (int): the most spaCy tokens in one window.
    """

    def __init__(self, max_tokens: int) -> None:
        self.max_tokens = max_tokens

    def __call__(self, docs: Iterable[Doc]) -> list[list[Span]]:
        return [line_windows(doc, self.max_tokens) for doc in docs]


def line_boundaries(doc: Doc) -> list[int]:
    """Token indices where a line ends (exclusive), plus len(doc)."""
    ends = [token.i + 1 for token in doc if "\n" in token.text or "\n" in token.whitespace_]
    if not ends or ends[-1] != len(doc):
        ends.append(len(doc))
    return ends


def line_windows(doc: Doc, max_tokens: int) -> list[Span]:
    """Windows covering every token of `doc` exactly once, in order."""
    windows: list[Span] = []
    start = 0
    line_start = 0
    for line_end in line_boundaries(doc):
        if line_end - start > max_tokens and line_start > start:
            windows.append(doc[start:line_start])
            start = line_start
        while line_end - start > max_tokens:
            windows.append(doc[start : start + max_tokens])
            start += max_tokens
        line_start = line_end
    if start < len(doc):
        windows.append(doc[start:])
    return windows


# Tokenizers that set no limit report a huge model_max_length.
UNSET_LIMIT = 1_000_000


class HasTokenizer(Protocol):
    tokenizer: Any


def fit_windows(
    windows: list[Span], count_pieces: Callable[[str], int], max_pieces: int, *, n_special: int = 0
) -> list[Span]:
    """Split windows until each has at most `max_pieces` wordpieces.

    A window over the limit is cut in two at the line end nearest its middle
    (at its middle token if it is one line), and each half is checked again.
    A single token cannot be cut and is returned as it is.

    windows (List[Span]): consecutive windows of one doc.
    count_pieces (Callable[[str], int]): wordpieces of a text, special tokens
        included.
    max_pieces (int): the encoder's limit, special tokens included.
    n_special (int): special tokens added to every text. No tokenizer makes
        more pieces than UTF-8 bytes, so a window with at most
        `max_pieces - n_special` bytes is never counted.
    RETURNS (List[Span]): the windows, covering the same tokens in order.
    """
    fitted: list[Span] = []
    stack = list(reversed(windows))
    while stack:
        window = stack.pop()
        text = window.text
        if (
            len(window) > 1
            and len(text.encode("utf8")) + n_special > max_pieces
            and count_pieces(text) > max_pieces
        ):
            cut = cut_point(window)
            stack.append(window.doc[cut : window.end])
            stack.append(window.doc[window.start : cut])
        else:
            fitted.append(window)
    return fitted


def cut_point(window: Span) -> int:
    """RETURNS (int): the doc index where `window` (>= 2 tokens) is halved:
    the line end nearest its middle, else the middle token."""
    middle = window.start + len(window) // 2
    ends = [e for e in line_boundaries(window.doc) if window.start < e < window.end]
    if not ends:
        return middle
    return min(ends, key=lambda e: (abs(e - middle), e))


class WordpieceLimited:
    """A span getter whose windows fit the encoder's wordpiece limit.

    get_spans (Callable[[List[Doc]], List[List[Span]]]): the wrapped getter.
    transformer (HasTokenizer): the spacy-transformers TransformerModel whose
        tokenizer (loaded at initialize or from disk) defines the limit: its
        `model_max_length`, or if unset its config's max_position_embeddings.
    """

    def __init__(self, get_spans: Callable[[Iterable[Doc]], list[list[Span]]], transformer: HasTokenizer) -> None:
        self.get_spans = get_spans
        self.transformer = transformer

    def __call__(self, docs: Iterable[Doc]) -> list[list[Span]]:
        nested = self.get_spans(docs)
        tokenizer = self.transformer.tokenizer
        max_pieces = piece_limit(tokenizer, getattr(self.transformer, "transformer", None))
        if max_pieces is None:
            return nested

        def count_pieces(text: str) -> int:
            return len(tokenizer(text, add_special_tokens=True, verbose=False)["input_ids"])

        n_special = count_pieces("")
        return [fit_windows(spans, count_pieces, max_pieces, n_special=n_special) for spans in nested]


def piece_limit(tokenizer: Any, transformer: Any = None) -> int | None:
    """RETURNS (Optional[int]): the most wordpieces (special tokens included)
    the encoder takes: the tokenizer's `model_max_length`, else the model
    config's `max_position_embeddings`, else None (no limit known)."""
    limit = getattr(tokenizer, "model_max_length", None)
    if isinstance(limit, int) and 0 < limit < UNSET_LIMIT:
        return limit
    config = getattr(transformer, "config", None)
    limit = getattr(config, "max_position_embeddings", None)
    return limit if isinstance(limit, int) and limit > 0 else None
