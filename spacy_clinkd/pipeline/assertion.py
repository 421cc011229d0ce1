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
5. ConText's other categories, apart from the assertion and by the same
   rules (`context_window` tokens at most between cue and entity):
   `ent._.is_historical` (the patient's past: "history of asthma"),
   `ent._.is_hypothetical` ("return if fever develops") and `ent._.is_family`
   (someone else's: "her mother had breast cancer"), True when a cue of the
   category applies, else False; the names are medspaCy's, so code written
   for its ConText reads them unchanged. An entity can be absent and
   historical ("no history of asthma" is absent only: the longer negation
   cue wins). They come from the rules with either backend.

The term lists are part of the component's config and are saved with the
pipeline; nothing is read from disk at inference.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span

from ..errors import ClinkdError, Errors
from ..models.assertion_linear import KIND as LINEAR_KIND
from .assertion_terms import CATEGORIES, CONTEXT_PSEUDO, CONTEXTS, DEFAULT_TERMS

PRESENT, ABSENT, POSSIBLE = "present", "absent", "possible"
RULES, LEARNED = "rules", "learned"
# Span extension of each ConText category (`assertion_terms.CONTEXTS`), as medspaCy names them
CONTEXT_ATTRS = {"historical": "is_historical", "hypothetical": "is_hypothetical", "family": "is_family"}
BACKENDS = (RULES, LEARNED)
CONTEXT_WINDOW = 8  # the most tokens between a ConText cue and its entity (0: the whole scope)
CLASSIFIER_DIR = "classifier"


class CueRelation(NamedTuple):
    """A cue pointing at an entity: its category, token offsets, the tokens
    between it and the entity, and whether a termination cue stands between."""

    category: str
    start: int
    end: int
    gap: int
    blocked: bool
ASSERTIONS = (PRESENT, ABSENT, POSSIBLE)


class EntityStatus(NamedTuple):
    """What `ClinkdAssertion.predict` says of one entity: its assertion and
    the ConText categories whose cues apply to it (`assertion_terms.CONTEXTS`)."""

    assertion: str
    contexts: frozenset[str] = frozenset()


def _is_negated(span: Span) -> bool | None:
    assertion = span._.assertion
    return None if assertion is None else assertion == ABSENT


def register_extensions() -> None:
    """`Span._.assertion` (str or None), `Span._.negated` (bool or None, a
    getter) and `Span._.is_historical`, `is_hypothetical`, `is_family` (bool,
    False by default, as medspaCy registers them: an extension medspaCy has
    registered already is used as it is)."""
    if not Span.has_extension("assertion"):
        Span.set_extension("assertion", default=None)
    if not Span.has_extension("negated"):
        Span.set_extension("negated", getter=_is_negated)
    for attr in CONTEXT_ATTRS.values():
        if not Span.has_extension(attr):
            Span.set_extension(attr, default=False)


@Language.factory(
    "clinkd_assertion",
    assigns=["span._.assertion", "span._.negated", *(f"span._.{a}" for a in CONTEXT_ATTRS.values())],
    requires=["doc.ents"],
    default_config={
        "terms": None, "extra_terms": {}, "window": 0, "possible_window": 6, "context_window": CONTEXT_WINDOW,
        "backend": RULES,
    },
)
def make_clinkd_assertion(
    nlp: Language,
    name: str,
    terms: dict[str, list[str]] | None,
    extra_terms: dict[str, list[str]],
    window: int,
    possible_window: int,
    backend: str,
    context_window: int = CONTEXT_WINDOW,
) -> ClinkdAssertion:
    """Create a `clinkd_assertion` component (spacy_factories entry point).

    terms (Optional[Dict[str, List[str]]]): cue terms per category
        (`assertion_terms.CATEGORIES`); None: the defaults of `assertion_terms`.
    extra_terms (Dict[str, List[str]]): terms added to `terms`, per category
        (also on a loaded pipeline: `spacy.load(..., config=...)`).
    window (int): the most tokens between a negation cue and an entity; 0: no limit.
    possible_window (int): the same for uncertainty cues.
    context_window (int): the same for historical, hypothetical and family cues.
    backend (str): "rules" (the cue rules decide) or "learned" (the trained
        classifier decides, reading the rules' verdict as an input; where the
        rules' verdict is one of its `keep_rules`, that verdict stands unless
        the classifier's most probable class is one of its `overrides`).
    """
    return ClinkdAssertion(
        nlp, name, terms=terms, extra_terms=extra_terms, window=window, possible_window=possible_window,
        context_window=context_window, backend=backend,
    )


def _merge_terms(base: dict[str, list[str]], extra: dict[str, list[str]]) -> dict[str, list[str]]:
    return {c: list(dict.fromkeys([*base.get(c, []), *extra.get(c, [])])) for c in CATEGORIES}


def _check_terms(terms: dict[str, list[str]]) -> dict[str, list[str]]:
    for category, values in terms.items():
        if category not in CATEGORIES:
            raise ClinkdError(Errors.E450.format(category=category, options=list(CATEGORIES)))
        if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
            raise ClinkdError(Errors.E452.format(category=category, value=values))
    return terms


class ClinkdAssertion:
    """Assertion status of `doc.ents` by NegEx-style cue rules (module docstring),
    or, with backend "learned", by a trained classifier that reads them."""

    def __init__(
        self,
        nlp: Language,
        name: str = "clinkd_assertion",
        *,
        terms: dict[str, list[str]] | None = None,
        extra_terms: dict[str, list[str]] | None = None,
        window: int = 0,
        possible_window: int = 6,
        context_window: int = CONTEXT_WINDOW,
        backend: str = RULES,
    ) -> None:
        register_extensions()
        if backend not in BACKENDS:
            raise ClinkdError(Errors.E457.format(backend=backend, options=list(BACKENDS)))
        self.extra_terms = _check_terms(dict(extra_terms or {}))
        merged = _merge_terms(_check_terms(dict(DEFAULT_TERMS if terms is None else terms)), self.extra_terms)
        self.backend = backend
        self.classifier = None  # AssertionClassifier or LinearAssertion (`load_classifier`), set by training or from_disk
        self.name = name
        self.tokenizer = nlp.tokenizer
        self.vocab = nlp.vocab
        self.window = int(window)
        self.possible_window = int(possible_window)
        self.context_window = int(context_window)
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

    def scopes(self, doc: Doc) -> list[int]:
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

    def cue_relations(
        self, doc: Doc, ents: Iterable[Span], scope: list[int] | None = None
    ) -> list[list[CueRelation]]:
        """For each of `ents`, the cues in its scope that point at it: a
        `*_preceding` cue before it (or starting it: "no fever" as one span),
        a `*_following` cue after it. Each is a `CueRelation` with the tokens
        between cue and entity and whether a `termination` cue stands between
        them; the rules and the learned classifier's features both read these.
        `scope`: the doc's `scopes`, if the caller has them already."""
        ents = list(ents)
        if not ents:
            return []
        cues = self.cues(doc)
        scope = self.scopes(doc) if scope is None else scope
        terminations = [start for category, start, _ in cues if category == "termination"]
        relations = []
        for ent in ents:
            found = []
            s = scope[ent.start]
            for category, start, end in cues:
                if category == "termination" or scope[start] != s:
                    continue
                if category.endswith("_preceding"):
                    if not (end <= ent.start or (start == ent.start and end < ent.end)):
                        continue
                    gap, lo, hi = max(ent.start - end, 0), start, ent.start
                elif end <= ent.start or start < ent.end:
                    continue
                else:  # following
                    gap, lo, hi = start - ent.end, ent.end, start
                blocked = any(lo <= t < hi and scope[t] == s for t in terminations)
                found.append(CueRelation(category, start, end, gap, blocked))
            relations.append(found)
        return relations

    def _window(self, kind: str) -> int:
        if kind == "negation":
            return self.window
        return self.possible_window if kind == "possible" else self.context_window

    def applying(self, found: Iterable[CueRelation]) -> set[str]:
        """The kinds ("negation", "possible", or a ConText category) of the
        cues in `found` that apply: not blocked by a termination cue, and
        within their kind's window."""
        kinds = set()
        for rel in found:
            kind = rel.category.rsplit("_", 1)[0]
            window = self._window(kind)
            if not rel.blocked and not (window and rel.gap > window):
                kinds.add(kind)
        return kinds

    def statuses(self, doc: Doc, ents: Iterable[Span], scope: list[int] | None = None) -> list[EntityStatus]:
        """The rules' status of each of `ents` (spans of `doc`), without setting it
        (`scope`: the doc's `scopes`, if the caller has them already)."""
        return [self.status(found) for found in self.cue_relations(doc, ents, scope)]

    def status(self, found: Iterable[CueRelation]) -> EntityStatus:
        """The rules' status of one entity from its `cue_relations`."""
        kinds = self.applying(found)
        assertion = POSSIBLE if "possible" in kinds else ABSENT if "negation" in kinds else PRESENT
        return EntityStatus(assertion, frozenset(kinds.intersection(CONTEXTS)))

    @staticmethod
    def scope_bounds(scope: list[int], ent: Span) -> tuple[int, int]:
        """Token offsets (start, end) of the scope holding `ent`'s first token."""
        sid = scope[ent.start]
        start, end = ent.start, ent.start
        while start > 0 and scope[start - 1] == sid:
            start -= 1
        while end < len(scope) and scope[end] == sid:
            end += 1
        return start, max(end, ent.end)

    def classifier_inputs(self, doc: Doc, ents: Iterable[Span]) -> tuple[list[EntityStatus], list]:
        """The rules' statuses of `ents` and the classifier's inputs (`entity_inputs`)."""
        if self.classifier is None:
            return self.statuses(doc, ents), []
        rule_input = getattr(self.classifier, "rule_input", True)
        return self.entity_inputs(doc, ents, kind=self.classifier.kind, window=self.classifier.window, rule_input=rule_input)

    def entity_inputs(
        self, doc: Doc, ents: Iterable[Span], *, kind: str, window: int, rule_input: bool = True
    ) -> tuple[list[EntityStatus], list]:
        """The rules' statuses of `ents` and a classifier's input for each:
        feature names (`kind` "linear", `models.assertion_linear.entity_features`)
        or the marked context text (an encoder, `models.assertion.marked_context`,
        with the rules' verdict unless `rule_input` is off), `window` words a side."""
        ents = list(ents)
        scope = self.scopes(doc)
        relations = self.cue_relations(doc, ents, scope)
        rules = [self.status(found) for found in relations]
        if kind == LINEAR_KIND:
            from ..models.assertion_linear import entity_features

            words = [t.lower_ for t in doc]
            return rules, [
                entity_features(words, (e.start, e.end), e.label_, r.assertion, found, self.scope_bounds(scope, e), window)
                for e, r, found in zip(ents, rules, relations)
            ]
        from ..models.assertion import marked_context

        return rules, [
            marked_context(doc, e, r.assertion if rule_input else None, self.scope_bounds(scope, e), window)
            for e, r in zip(ents, rules)
        ]

    def predict(self, docs: Iterable[Doc]) -> list[list[EntityStatus]]:
        """The status of each entity of each doc: the assertion is the rules'
        verdict, or (backend "learned") the trained classifier's most probable
        class (an encoder over marked contexts, or a linear model over cue and
        context features; where the rules' verdict is one of the classifier's
        `keep_rules`, that verdict unless the classifier's most probable class
        is one of its `overrides`: `assertion_linear.decide`), the entities of
        all `docs` in one batch; the ConText categories are the rules' with
        either backend."""
        docs = list(docs)
        if self.backend == RULES:
            return [self.statuses(doc, doc.ents) for doc in docs]
        if self.classifier is None:
            raise ClinkdError(Errors.E458)
        from ..models.assertion_linear import decide

        rules, inputs = [], []
        for doc in docs:
            doc_rules, doc_inputs = self.classifier_inputs(doc, doc.ents)
            rules.append(doc_rules)
            inputs.extend(doc_inputs)
        verdicts = [status.assertion for doc_rules in rules for status in doc_rules]
        classifier = self.classifier
        found = iter(
            decide(classifier.probabilities(inputs), verdicts, classifier.keep_rules, classifier.overrides)
            if inputs else []
        )
        return [[status._replace(assertion=next(found)) for status in doc_rules] for doc_rules in rules]

    def set_annotations(self, docs: Iterable[Doc], statuses: list[list[EntityStatus]]) -> None:
        for doc, values in zip(docs, statuses):
            for ent, status in zip(doc.ents, values):
                ent._.assertion = status.assertion
                for context, attr in CONTEXT_ATTRS.items():
                    ent._.set(attr, context in status.contexts)

    def __call__(self, doc: Doc) -> Doc:
        self.set_annotations([doc], self.predict([doc]))
        return doc

    def pipe(self, stream: Iterable[Doc], *, batch_size: int = 128) -> Iterator[Doc]:
        from spacy.util import minibatch

        for batch in minibatch(stream, size=batch_size):
            self.set_annotations(batch, self.predict(batch))
            yield from batch

    # -- serialization: the terms (cfg.json) and the trained classifier, if any --

    def _cfg(self) -> dict:
        return {
            "terms": self.terms, "window": self.window, "possible_window": self.possible_window,
            "context_window": self.context_window,
        }

    def _load_cfg(self, cfg: dict) -> None:
        # terms given in the config at load time (extra_terms) are added to the saved ones; a
        # pipeline saved before the ConText categories existed gets their default cues and window,
        # and the pseudo cues that guard the historical ones (not the new termination cues, which
        # would change its negation and uncertainty)
        saved = _check_terms(dict(cfg["terms"]))
        if "historical_preceding" not in saved:
            saved["pseudo"] = [*saved.get("pseudo", []), *CONTEXT_PSEUDO]
        saved.update({c: DEFAULT_TERMS[c] for c in CATEGORIES if c not in saved})
        self.terms = _merge_terms(saved, self.extra_terms)
        self.window = int(cfg["window"])
        self.possible_window = int(cfg["possible_window"])
        self.context_window = int(cfg.get("context_window", CONTEXT_WINDOW))
        self._matcher = None

    def to_bytes(self, *, exclude: Iterable[str] = ()) -> bytes:
        import tempfile

        import srsly

        data = {"cfg": self._cfg(), "classifier": None}
        if self.classifier is not None and "classifier" not in exclude:
            with tempfile.TemporaryDirectory() as tmp:
                self.classifier.save(tmp)
                data["classifier"] = {
                    str(p.relative_to(tmp)): p.read_bytes() for p in sorted(Path(tmp).rglob("*")) if p.is_file()
                }
        return srsly.msgpack_dumps(data)

    def from_bytes(self, data: bytes, *, exclude: Iterable[str] = ()) -> ClinkdAssertion:
        import tempfile

        import srsly

        msg = srsly.msgpack_loads(data)
        self._load_cfg(msg["cfg"])
        self.classifier = None
        if msg.get("classifier") and "classifier" not in exclude:
            with tempfile.TemporaryDirectory() as tmp:
                for rel, blob in msg["classifier"].items():
                    target = Path(tmp) / rel
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(blob)
                self.classifier = load_classifier(tmp)
        return self

    def to_disk(self, path, *, exclude: Iterable[str] = ()) -> None:
        import srsly
        from spacy.util import ensure_path

        path = ensure_path(path)
        path.mkdir(parents=True, exist_ok=True)
        srsly.write_json(path / "cfg.json", self._cfg())
        if self.classifier is not None and "classifier" not in exclude:
            self.classifier.save(path / CLASSIFIER_DIR)

    def from_disk(self, path, *, exclude: Iterable[str] = ()) -> ClinkdAssertion:
        import srsly
        from spacy.util import ensure_path

        path = ensure_path(path)
        self._load_cfg(srsly.read_json(path / "cfg.json"))
        self.classifier = None
        if (path / CLASSIFIER_DIR).is_dir() and "classifier" not in exclude:
            self.classifier = load_classifier(path / CLASSIFIER_DIR)
        return self


def load_classifier(path: str | Path):
    """A trained assertion classifier folder (`train-assertion`'s output): the
    linear model if its `classifier.json` says `"kind": "linear"`, else the
    encoder classifier (folders saved before the linear one existed).

    RETURNS (Union[AssertionClassifier, LinearAssertion]): the classifier.
    """
    from ..models.assertion_linear import classifier_kind

    if classifier_kind(path) == LINEAR_KIND:
        from ..models.assertion_linear import LinearAssertion

        return LinearAssertion.load(path)
    from ..models.assertion import AssertionClassifier

    return AssertionClassifier.load(path)


def add_assertion(
    nlp: Language, *, after: str = "clinkd_ner", sentencizer: bool = True, backend: str = RULES
) -> Language:
    """Add sentence boundaries and `clinkd_assertion` after a component.

    nlp (Language): the pipeline (changed in place).
    after (str): the entity component to follow.
    sentencizer (bool): add spaCy's `sentencizer` before the assertion
        component (unless the pipeline already sets sentence boundaries).
    backend (str): the assertion component's backend, "rules" or "learned"
        (whose classifier the caller then sets).
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
        nlp.add_pipe("clinkd_assertion", after=last, config={"backend": backend})
    elif nlp.get_pipe("clinkd_assertion").backend != backend:
        # the same cue lists, another backend (the saved config says which)
        old = nlp.get_pipe("clinkd_assertion")
        config = {
            "backend": backend, "terms": old.terms, "window": old.window, "possible_window": old.possible_window,
            "context_window": old.context_window,
        }
        nlp.replace_pipe("clinkd_assertion", "clinkd_assertion", config=config)
    return nlp
