"""Character spans → `doc.ents`: label mapping, alignment, overlap resolution.

The brat and PubTator readers parse offsets into `CharSpan`s and hand them to
`set_entities`, which applies the same policy to both, in this order:

1. Label mapping. A span whose corpus type is not in the label map is
   dropped and counted as `unmapped_label` (per corpus type). This is
   expected (MACCROBAT has 41 types), not an error.
2. Alignment to the Doc's tokens (the clinical tokenizer already splits
   "5mg", "mg/dL", zero-width spaces, ...):
   a. whitespace (`str.isspace`, plus U+200B, U+2060, U+FEFF) at the span's
      edges is trimmed; a change counts as `trimmed_whitespace`. A span of
      only whitespace is dropped as `unalignable`.
   b. `doc.char_span(start, end, alignment_mode="strict")`;
   c. if that is None, `alignment_mode="expand"` (the smallest token span
      covering the characters), counted as `expanded_to_token_boundaries`;
   d. if there is still no non-empty span, drop, counted as `unalignable`.
3. Overlap resolution, after alignment because expansion can create
   overlaps: spans are ranked longest first (in characters, after
   alignment), ties broken by the earlier start, then by the order in the
   input file; each span is kept unless it shares a token with a span
   already kept. Every span lost counts as `overlap` (per corpus type);
   this includes exact duplicates.

Discontinuous spans are joined to their outer bounds by the readers before
this step (counted there as `discontinuous_joined`).

Before any of this, the readers parse offsets with `parse_offset` (ASCII
digits only: `int()` would take "٣" or " 5", `str.isdigit()` even "²") and
compare the annotation's own copy of its text (brat's third column,
PubTator's fourth) with the document text at its offsets (`check_surface`).
Equal, or equal but for whitespace (counted as `surface_whitespace`): the
span is read. Otherwise the offsets were counted another way (UTF-8 bytes,
UTF-16 code units, text with other line ends) or are wrong, and the span
would name other words than its annotator meant: it is dropped and counted
as `surface_mismatch`, or, with `strict`, the reader stops (E117).

Assertion status: when a reader gives spans an `assertion` ("present",
"absent", "possible"; brat's polarity attributes), the kept entities' values
go to `doc.user_data[ASSERTIONS]` as `[start_char, end_char, assertion]`
triples (saved in the DocBin with the other user data; `gold_assertions`
reads them back) and are counted per label in the report's `assertion`.

Context status: with a context map (corpus type → one of `CONTEXT_VALUES`,
e.g. brat's `History` → "historical", `Family_history` → "family"), the
spans of those types mark context regions, by their offsets as read (before
alignment; they still go through steps 1-3 as any span, so the entities and
counts are those without the map). A kept entity's contexts are the sorted,
distinct values of the regions that contain its span as read
(`region.start <= start and end <= region.end`; a span of a context type
contains itself); they go to `doc.user_data[CONTEXTS]` as
`[start_char, end_char, [value, ...]]` triples, one per kept entity (an
empty list: no context), are read back by `gold_contexts` and counted per
label in the report's `context` (medspaCy ConText's `is_historical`,
`is_family`). Without a context map nothing is stored.
"""
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from spacy.tokens import Doc, Span

from ..errors import ClinkdError, Errors
from ..tokenizer import ZERO_WIDTH
from .conversion_report import ConversionReport

_ASCII_DIGITS = re.compile(r"[0-9]+")
SURFACE_OK = None
SURFACE_WHITESPACE = "surface_whitespace"
SURFACE_MISMATCH = "surface_mismatch"

# Key of `Doc.user_data` holding the gold assertion status of `doc.ents`.
ASSERTIONS = "clinkd_assertions"
# Key of `Doc.user_data` holding the gold context status of `doc.ents`.
CONTEXTS = "clinkd_contexts"
CONTEXT_VALUES = ("historical", "hypothetical", "family")


@dataclass(frozen=True)
class CharSpan:
    """An entity as read from a corpus file.

    start (int): start character offset into the document text.
    end (int): end character offset (exclusive).
    corpus_type (str): the entity type as written in the corpus.
    order (int): position in the input file, the last overlap tie-breaker.
    assertion (Optional[str]): the gold assertion status, where the corpus has one.
    """

    start: int
    end: int
    corpus_type: str
    order: int
    assertion: str | None = None


def parse_offset(value: str) -> int | None:
    """RETURNS (Optional[int]): `value` as a character offset if it is one or
    more ASCII digits and nothing else, else None."""
    return int(value) if _ASCII_DIGITS.fullmatch(value) else None


def _squash(text: str) -> str:
    """Whitespace runs to one space, zero-width characters removed, ends stripped."""
    return " ".join("".join(c for c in text if c not in ZERO_WIDTH).split())


def check_surface(text: str, fragments: Iterable[tuple[int, int]], surface: str) -> str | None:
    """Compare an annotation's surface text with the document text at its offsets.

    text (str): the document text.
    fragments (Iterable[Tuple[int, int]]): the annotation's (start, end)
        fragments; a discontinuous annotation's surface is its fragments'
        texts joined by one space (brat's convention).
    surface (str): the text the annotation file gives.
    RETURNS (Optional[str]): None if equal, `surface_whitespace` if equal
        but for whitespace and zero-width characters, else `surface_mismatch`.
    """
    found = " ".join(text[s:e] for s, e in fragments)
    if found == surface:
        return SURFACE_OK
    if _squash(found) == _squash(surface):
        return SURFACE_WHITESPACE
    return SURFACE_MISMATCH


def _is_blank(char: str) -> bool:
    return char.isspace() or char in ZERO_WIDTH


def trim_whitespace(text: str, start: int, end: int) -> tuple[int, int]:
    """Move `start` and `end` inwards past whitespace and zero-width characters.

    text (str): the document text.
    start (int): start character offset.
    end (int): end character offset (exclusive).
    RETURNS (Tuple[int, int]): the trimmed offsets; start == end if the span
        held only whitespace.
    """
    while start < end and _is_blank(text[start]):
        start += 1
    while end > start and _is_blank(text[end - 1]):
        end -= 1
    return start, end


def align_span(doc: Doc, start: int, end: int, label: str) -> tuple[Span | None, list[str]]:
    """Align a character span to tokens (steps 2a-2d of the module docstring).

    doc (Doc): the tokenized document.
    start (int): start character offset.
    end (int): end character offset (exclusive).
    label (str): the label for the returned span.
    RETURNS (Tuple[Optional[Span], List[str]]): the span, or None if it is
        unalignable; and the adjustment reasons that applied
        (`trimmed_whitespace`, `expanded_to_token_boundaries`).
    """
    reasons: list[str] = []
    trimmed = trim_whitespace(doc.text, start, end)
    if trimmed[0] >= trimmed[1]:
        return None, reasons
    if trimmed != (start, end):
        reasons.append("trimmed_whitespace")
    start, end = trimmed
    span = doc.char_span(start, end, label=label, alignment_mode="strict")
    if span is None:
        span = doc.char_span(start, end, label=label, alignment_mode="expand")
        if span is None or len(span) == 0:
            return None, reasons
        reasons.append("expanded_to_token_boundaries")
    return span, reasons


def resolve_overlaps(
    candidates: Iterable[tuple[Span, CharSpan]],
) -> tuple[list[tuple[Span, CharSpan]], list[tuple[Span, CharSpan]]]:
    """Keep the longest of overlapping spans (step 3 of the module docstring).

    candidates (Iterable[Tuple[Span, CharSpan]]): aligned spans with their source.
    RETURNS (Tuple[List, List]): (kept, dropped); kept is sorted by position.
    """
    ranked = sorted(
        candidates,
        key=lambda c: (-(c[0].end_char - c[0].start_char), c[0].start_char, c[1].order),
    )
    taken: set = set()
    kept: list[tuple[Span, CharSpan]] = []
    dropped: list[tuple[Span, CharSpan]] = []
    for span, source in ranked:
        tokens = range(span.start, span.end)
        if any(i in taken for i in tokens):
            dropped.append((span, source))
        else:
            taken.update(tokens)
            kept.append((span, source))
    kept.sort(key=lambda c: c[0].start)
    return kept, dropped


def set_entities(
    doc: Doc,
    spans: Iterable[CharSpan],
    *,
    label_map: dict[str, str],
    report: ConversionReport,
    split: str,
    aux_map: dict[str, str] | None = None,
    context_map: dict[str, str] | None = None,
) -> Doc:
    """Map, align and de-overlap `spans`, set them as `doc.ents` and count.

    doc (Doc): the tokenized document; its `ents` are replaced.
    spans (Iterable[CharSpan]): the entities read from the corpus.
    label_map (Dict[str, str]): corpus type → pipeline label.
    report (ConversionReport): receives kept / dropped / adjusted counts.
    split (str): the split the Doc belongs to (for the kept counts).
    aux_map (Optional[Dict[str, str]]): corpus type → auxiliary label: types
        kept as extra training signal only (e.g. MACCROBAT's body parts and
        modifiers beside the three shipped types). The label map's entities
        are resolved first, exactly as without `aux_map`; an auxiliary span
        is added only where it overlaps none of them (among themselves, the
        longest wins), so the main entities never change.
    context_map (Optional[Dict[str, str]]): corpus type → context value (one
        of `CONTEXT_VALUES`): the spans of these types mark context regions,
        and every kept entity's contexts go to `doc.user_data[CONTEXTS]`
        (module docstring). The entities are the same as without it.
    RETURNS (Doc): `doc`, with entities set.
    """
    spans = list(spans)
    aux_map = aux_map or {}
    candidates: list[tuple[Span, CharSpan]] = []
    aux_candidates: list[tuple[Span, CharSpan]] = []
    for source in spans:
        label = label_map.get(source.corpus_type)
        is_aux = label is None and source.corpus_type in aux_map
        if is_aux:
            label = aux_map[source.corpus_type]
        if label is None:
            report.count_dropped("unmapped_label", source.corpus_type)
            continue
        span, reasons = align_span(doc, source.start, source.end, label)
        for reason in reasons:
            report.count_adjusted(reason, source.corpus_type)
        if span is None:
            report.count_dropped("unalignable", source.corpus_type)
            continue
        (aux_candidates if is_aux else candidates).append((span, source))
    kept, dropped = resolve_overlaps(candidates)
    if aux_candidates:
        taken = {i for span, _ in kept for i in range(span.start, span.end)}
        free = []
        for span, source in aux_candidates:
            if any(i in taken for i in range(span.start, span.end)):
                dropped.append((span, source))
            else:
                free.append((span, source))
        aux_kept, aux_dropped = resolve_overlaps(free)
        dropped.extend(aux_dropped)
        kept = sorted(kept + aux_kept, key=lambda c: c[0].start)
    for _, source in dropped:
        report.count_dropped("overlap", source.corpus_type)
    doc.ents = [span for span, _ in kept]
    for span, _ in kept:
        report.count_kept(split, span.label_)
    if any(source.assertion is not None for _, source in kept):
        doc.user_data[ASSERTIONS] = [
            [span.start_char, span.end_char, source.assertion or "present"] for span, source in kept
        ]
        for span, source in kept:
            report.count_assertion(split, span.label_, source.assertion or "present")
    if context_map is not None:
        regions = [(s.start, s.end, context_map[s.corpus_type]) for s in spans if s.corpus_type in context_map]
        triples = []
        for span, source in kept:
            values = sorted({v for start, end, v in regions if start <= source.start and source.end <= end})
            triples.append([span.start_char, span.end_char, values])
            for value in values:
                report.count_context(split, span.label_, value)
        doc.user_data[CONTEXTS] = triples
    return doc


def require_gold_assertions(docs: Sequence[Doc], source: str) -> None:
    """Fail when a doc with entities has no gold assertion status.

    docs (Sequence[Doc]): gold docs, for assertion training or scoring.
    source (str): where they come from (a DocBin path), for the message.
    RAISES ClinkdError: E265, naming the source and the first documents.
    """
    missing = [i for i, doc in enumerate(docs) if doc.ents and ASSERTIONS not in doc.user_data]
    if missing:
        shown = ", ".join(str(i) for i in missing[:5]) + (", ..." if len(missing) > 5 else "")
        total = sum(1 for doc in docs if doc.ents)
        raise ClinkdError(Errors.E265.format(source=source, n=len(missing), total=total, docs=shown))


def gold_assertions(doc: Doc) -> dict[tuple[int, int], str] | None:
    """The gold assertion status of a doc's entities, by character offsets.

    doc (Doc): a doc converted by a reader that keeps assertions.
    RETURNS (Optional[Dict[Tuple[int, int], str]]): (start_char, end_char) →
        assertion; None if the doc holds none.
    """
    triples = doc.user_data.get(ASSERTIONS)
    if triples is None:
        return None
    return {(int(start), int(end)): str(value) for start, end, value in triples}


def gold_contexts(doc: Doc) -> dict[tuple[int, int], frozenset[str]] | None:
    """The gold context status of a doc's entities, by character offsets.

    doc (Doc): a doc converted with a context map (see `set_entities`).
    RETURNS (Optional[Dict[Tuple[int, int], FrozenSet[str]]]): (start_char,
        end_char) → its context values (empty: none); None if the doc holds none.
    """
    triples = doc.user_data.get(CONTEXTS)
    if triples is None:
        return None
    return {(int(start), int(end)): frozenset(str(v) for v in values) for start, end, values in triples}
