"""The `clinkd_assertion` component: present / absent / possible for every entity.

NegEx-style rules (Chapman et al. 2001; the approach of negspacy and
medspaCy's ConText), with both negation and uncertainty:

1. Cues are matched on lower-cased tokens (a PhraseMatcher over the term
   lists of `assertion_terms`, or the lists in the component's config).
   Where cues overlap, the longest wins ("no evidence of" over "no"); a cue
   inside a `pseudo` phrase ("no change") is no cue; a phrase in two lists
   ("was not" before or after the entity) is both.
2. An entity's scope is its sentence (`doc.sents` when the doc has sentence
   boundaries, e.g. from a `sentencizer` before this component; the whole
   doc otherwise), cut at line breaks, and cut again at `termination` cues
   between cue and entity ("no fever, but cough": cough is present).
3. A `*_preceding` cue applies to entities after it (or starting with it) in
   scope, a `*_following` cue to entities before it, each within `window`
   tokens (`window` for negation, `possible_window` for uncertainty; 0: the
   whole scope). Chosen on MACCROBAT dev: negation cues reach over long
   lists ("denied fever, chills, night sweats, ..."), uncertainty cues do not.
4. `ent._.assertion` is "possible" when an uncertainty cue applies (hedged
   negations, MACCROBAT's MAYBE_NEG, count as possible), else "absent" when
   a negation cue applies, else "present"; `ent._.negated` is
   `assertion == "absent"`.

The term lists are part of the component's config and are saved with the
pipeline; nothing is read from disk at inference.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span

from ..errors import ClinkdError, Errors
from .assertion_terms import CATEGORIES, DEFAULT_TERMS

PRESENT, ABSENT, POSSIBLE = "present", "absent", "possible"
ASSERTIONS = (PRESENT, ABSENT, POSSIBLE)


def _is_negated(span: Span) -> bool | None:
    assertion = span._.assertion
    return None if assertion is None else assertion == ABSENT


def register_extensions() -> None:
    """`Span._.assertion` (str or None) and `Span._.negated` (bool or None, a getter)."""
    if not Span.has_extension("assertion"):
        Span.set_extension("assertion", default=None)
    if not Span.has_extension("negated"):
        Span.set_extension("negated", getter=_is_negated)


@Language.factory(
    "clinkd_assertion",
    assigns=["span._.assertion", "span._.negated"],
    requires=["doc.ents"],
    default_config={"terms": None, "extra_terms": {}, "window": 0, "possible_window": 6},
)
def make_clinkd_assertion(
    nlp: Language,
    name: str,
    terms: dict[str, list[str]] | None,
    extra_terms: dict[str, list[str]],
    window: int,
    possible_window: int,
) -> ClinkdAssertion:
    """Create a `clinkd_assertion` component (spacy_factories entry point).

    terms (Optional[Dict[str, List[str]]]): cue terms per category
        (`assertion_terms.CATEGORIES`); None: the defaults of `assertion_terms`.
    extra_terms (Dict[str, List[str]]): terms added to `terms`, per category.
    window (int): the most tokens between a negation cue and an entity; 0: no limit.
    possible_window (int): the same for uncertainty cues.
    """
    return ClinkdAssertion(
        nlp, name, terms=terms, extra_terms=extra_terms, window=window, possible_window=possible_window
    )


def _check_terms(terms: dict[str, list[str]]) -> dict[str, list[str]]:
    for category, values in terms.items():
        if category not in CATEGORIES:
            raise ClinkdError(Errors.E450.format(category=category, options=list(CATEGORIES)))
        if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
            raise ClinkdError(Errors.E452.format(category=category, value=values))
    return terms


class ClinkdAssertion:
    """Assertion status of `doc.ents` by NegEx-style cue rules (module docstring)."""

    def __init__(
        self,
        nlp: Language,
        name: str = "clinkd_assertion",
        *,
        terms: dict[str, list[str]] | None = None,
        extra_terms: dict[str, list[str]] | None = None,
        window: int = 0,
        possible_window: int = 6,
    ) -> None:
        register_extensions()
        base = _check_terms(dict(DEFAULT_TERMS if terms is None else terms))
        extra = _check_terms(dict(extra_terms or {}))
        merged = {c: list(dict.fromkeys([*base.get(c, []), *extra.get(c, [])])) for c in CATEGORIES}
        self.name = name
        self.tokenizer = nlp.tokenizer
        self.vocab = nlp.vocab
        self.window = int(window)
        self.possible_window = int(possible_window)
        self.terms = merged
        self._matcher: PhraseMatcher | None = None

    # the matcher is rebuilt where the component is unpickled (spaCy's worker processes)
    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_matcher"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        register_extensions()

    @property
    def matcher(self) -> PhraseMatcher:
        if self._matcher is None:
            matcher = PhraseMatcher(self.vocab, attr="LOWER")
            for category in CATEGORIES:
                patterns = [self.tokenizer(term) for term in self.terms.get(category, [])]
                matcher.add(category, [p for p in patterns if len(p)])
            self._matcher = matcher
        return self._matcher

    def cues(self, doc: Doc) -> list[tuple[str, int, int]]:
        """The cues of a doc: `(category, start, end)` token offsets, sorted by
        start. Overlapping phrases are resolved longest first, then earliest;
        a phrase listed in several categories ("was not": before or after the
        entity) keeps them all; a phrase that is `pseudo` is no cue."""
        strings = self.vocab.strings
        by_span: dict[tuple[int, int], set[str]] = {}
        for match_id, start, end in self.matcher(doc):
            by_span.setdefault((start, end), set()).add(strings[match_id])
        taken = [False] * len(doc)
        kept = []
        for start, end in sorted(by_span, key=lambda se: (-(se[1] - se[0]), se[0])):
            if any(taken[start:end]):
                continue
            for i in range(start, end):
                taken[i] = True
            categories = by_span[(start, end)]
            if "pseudo" not in categories:
                kept.extend((category, start, end) for category in sorted(categories))
        return sorted(kept, key=lambda m: (m[1], m[0]))

    def _scopes(self, doc: Doc) -> list[int]:
        """Scope id per token: sentences (if set), cut at line breaks."""
        scope = [0] * len(doc)
        current = 0
        has_sents = doc.has_annotation("SENT_START")
        for i, token in enumerate(doc):
            if i > 0 and has_sents and token.is_sent_start:
                current += 1
            if "\n" in token.text:  # a line break token is a scope of its own
                current += 1
                scope[i] = current
                current += 1
                continue
            scope[i] = current
        return scope

    def assert_entities(self, doc: Doc, ents: Iterable[Span]) -> list[str]:
        """The assertion of each of `ents` (spans of `doc`), without setting it."""
        ents = list(ents)
        if not ents:
            return []
        cues = self.cues(doc)
        scope = self._scopes(doc)
        terminations = [start for category, start, _ in cues if category == "termination"]
        results = []
        for ent in ents:
            negated = possible = False
            s = scope[ent.start]
            for category, start, end in cues:
                if category == "termination" or scope[start] != s:
                    continue
                if category.endswith("_preceding"):
                    # a cue before the entity, or starting it ("no fever" as one span)
                    applies = end <= ent.start or (start == ent.start and end < ent.end)
                    gap = (ent.start - end, start, ent.start)
                elif end <= ent.start or start < ent.end:
                    continue
                else:  # following
                    applies = True
                    gap = (start - ent.end, ent.end, start)
                window = self.window if category.startswith("negation") else self.possible_window
                if not applies or (window and gap[0] > window):
                    continue
                if any(gap[1] <= t < gap[2] and scope[t] == s for t in terminations):
                    continue
                if category.startswith("negation"):
                    negated = True
                else:
                    possible = True
            results.append(POSSIBLE if possible else ABSENT if negated else PRESENT)
        return results

    def __call__(self, doc: Doc) -> Doc:
        ents = list(doc.ents)
        for ent, assertion in zip(ents, self.assert_entities(doc, ents)):
            ent._.assertion = assertion
        return doc

    def pipe(self, stream: Iterable[Doc], *, batch_size: int = 128) -> Iterator[Doc]:
        for doc in stream:
            yield self(doc)

    # -- serialization: the terms are the config; nothing else to save ------

    def to_bytes(self, *, exclude: Iterable[str] = ()) -> bytes:
        import srsly

        return srsly.msgpack_dumps({"terms": self.terms, "window": self.window, "possible_window": self.possible_window})

    def from_bytes(self, data: bytes, *, exclude: Iterable[str] = ()) -> ClinkdAssertion:
        import srsly

        cfg = srsly.msgpack_loads(data)
        self.terms = _check_terms(dict(cfg["terms"]))
        self.window = int(cfg["window"])
        self.possible_window = int(cfg["possible_window"])
        self._matcher = None
        return self

    def to_disk(self, path, *, exclude: Iterable[str] = ()) -> None:
        import srsly
        from spacy.util import ensure_path

        path = ensure_path(path)
        path.mkdir(parents=True, exist_ok=True)
        srsly.write_json(path / "cfg.json", {"terms": self.terms, "window": self.window, "possible_window": self.possible_window})

    def from_disk(self, path, *, exclude: Iterable[str] = ()) -> ClinkdAssertion:
        import srsly
        from spacy.util import ensure_path

        cfg = srsly.read_json(ensure_path(path) / "cfg.json")
        self.terms = _check_terms(dict(cfg["terms"]))
        self.window = int(cfg["window"])
        self.possible_window = int(cfg["possible_window"])
        self._matcher = None
        return self


def add_assertion(nlp: Language, *, after: str = "clinkd_ner", sentencizer: bool = True) -> Language:
    """Add sentence boundaries and `clinkd_assertion` after a component.

    nlp (Language): the pipeline (changed in place).
    after (str): the entity component to follow.
    sentencizer (bool): add spaCy's `sentencizer` before the assertion
        component (unless the pipeline already sets sentence boundaries).
    RETURNS (Language): `nlp`.
    """
    if after not in nlp.pipe_names:
        raise ClinkdError(Errors.E451.format(path=nlp.meta.get("name"), component=after, names=nlp.pipe_names))
    last = after
    if sentencizer and not any(
        "token.is_sent_start" in nlp.get_pipe_meta(name).assigns or name in ("sentencizer", "senter", "parser")
        for name in nlp.pipe_names
    ):
        nlp.add_pipe("sentencizer", after=after)
        last = "sentencizer"
    if "clinkd_assertion" not in nlp.pipe_names:
        nlp.add_pipe("clinkd_assertion", after=last)
    return nlp
