"""Teachers: what turns a doc into per-token logits over the student's tags.

Each is a `Teacher` (below); they are registered in spaCy's `misc` registry so
`configs/distill.cfg` can swap them:

- `clinkd.pipeline_targets.v1`: a trained pipeline's `clinkd_ner` logits.
- `clinkd.span_file_targets.v1`: pre-labelled spans from JSONL (e.g. an LLM's),
  `{"text": ..., "spans": [{"start": s, "end": e, "label": L}]}` per line.
- `clinkd.matcher_targets.v1`: spaCy `entity_ruler` patterns (JSONL).
- `clinkd.ensemble_targets.v1`: several trained pipelines as one teacher, the
  mean of their tempered distributions (`EnsembleTargets`).

Hard labels (spans, matches) become label-smoothed log-probabilities
(`targets.smoothed_logits`). Character spans are aligned with the corpus
readers' policy (`corpora.spans.align_span`: trim whitespace, strict, then
expand; overlaps resolved longest first by `corpora.spans.resolve_overlaps`),
and every adjustment or drop is counted in `counts()`.
"""
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy
from spacy.language import Language
from spacy.tokens import Doc

from ..corpora.spans import CharSpan, align_span, resolve_overlaps
from ..corpora.transfer import CHUNK_KEY, read_jsonl, read_jsonl_lines, text_key
from ..errors import ClinkdError, Errors, InputFileError
from ..losses import mean_tempered_logits
from ..pipeline.loading import load_pipeline
from ..pipeline.ner import ClinkdNER
from ..pipeline.tags import BIOScheme
from ..tokenizer import clinical_blank
from .targets import digest, file_digest, smoothed_logits, tag_ids_from_spans

Array = numpy.ndarray


class Teacher(Protocol):
    """What distillation needs from a teacher."""

    @property
    def identity(self) -> str:
        """A digest that changes whenever the targets would change."""
        ...

    def initialize(self, scheme: BIOScheme) -> None:
        """Bind to the student's tag set; raise E350 if it cannot match."""
        ...

    def __call__(self, docs: list[Doc]) -> list[Array | None]:
        """(n_tokens, n_tags) logits per doc, over the bound tag set; None for
        a doc the teacher does not cover."""
        ...

    def counts(self) -> dict[str, int]:
        """Counts worth showing the user (e.g. misaligned spans)."""
        ...


def check_same_tokens(teacher_doc: Doc, student_doc: Doc) -> None:
    """Raise E351 unless both docs have the same token texts."""
    a = [t.text for t in teacher_doc]
    b = [t.text for t in student_doc]
    if a == b:
        return
    i = next((j for j, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    raise ClinkdError(
        Errors.E351.format(
            n_teacher=len(a),
            n_student=len(b),
            i=i,
            teacher_token=a[i] if i < len(a) else None,
            student_token=b[i] if i < len(b) else None,
            text=student_doc.text[:40],
        )
    )


class PipelineTargets:
    """A trained pipeline's `clinkd_ner` logits.

    path (Optional[Path]): the pipeline directory (identity = digest of its
        files; loaded only when targets are missing from the cache).
    nlp (Optional[Language]): an already loaded pipeline instead of `path`
        (identity = digest of the component's bytes).
    component (str): the teacher component's name.
    """

    def __init__(
        self,
        *,
        path: str | Path | None = None,
        nlp: Language | None = None,
        component: str = "clinkd_ner",
    ) -> None:
        if (path is None) == (nlp is None):
            raise ValueError("PipelineTargets needs exactly one of path and nlp")
        self.path = Path(path) if path is not None else None
        self.component = component
        self._nlp = nlp
        self._identity: str | None = None
        self.scheme: BIOScheme | None = None
        self.calls = 0

    @property
    def nlp(self) -> Language:
        if self._nlp is None:
            assert self.path is not None
            self._nlp = load_pipeline(self.path)
        return self._nlp

    @property
    def pipe(self) -> ClinkdNER:
        if self.component not in self.nlp.pipe_names:
            raise ClinkdError(
                Errors.E009.format(
                    path=self.path, component=self.component, names=self.nlp.pipe_names
                )
            )
        pipe = self.nlp.get_pipe(self.component)
        if not isinstance(pipe, ClinkdNER):
            raise ClinkdError(
                Errors.E365.format(component=self.component, path=self.path, cls=type(pipe).__name__)
            )
        return pipe

    @property
    def identity(self) -> str:
        if self._identity is None:
            if self.path is not None:
                content = file_digest(self.path)
            else:
                content = digest(self.pipe.to_bytes(exclude=["vocab"]))
            self._identity = digest("pipeline", self.component, content)
        return self._identity

    @property
    def tags(self) -> tuple[str, ...]:
        return self.pipe.tags

    def initialize(self, scheme: BIOScheme) -> None:
        if self.tags != scheme.tags:
            raise ClinkdError(Errors.E350.format(teacher=list(self.tags), student=list(scheme.tags)))
        self.scheme = scheme

    def __call__(self, docs: list[Doc]) -> list[Array]:
        self.calls += len(docs)
        teacher_docs = [self.nlp.make_doc(doc.text) for doc in docs]
        for teacher_doc, doc in zip(teacher_docs, docs):
            check_same_tokens(teacher_doc, doc)
        for name, proc in self.nlp.pipeline:
            if name == self.component:
                break
            teacher_docs = list(proc.pipe(teacher_docs))
        ops = self.pipe.model.ops
        return [ops.to_numpy(s).astype("float32") for s in self.pipe.predict(teacher_docs)]

    def counts(self) -> dict[str, int]:
        return {"teacher_docs": self.calls}


class _HardLabelTargets:
    """Shared part of the span-file and matcher teachers."""

    kind = "hard"

    def __init__(self, *, epsilon: float) -> None:
        smoothed_logits(numpy.zeros((0,), dtype="int32"), 1, epsilon=epsilon)  # validates ε
        self.epsilon = epsilon
        self.scheme: BIOScheme | None = None
        self.tally: Counter = Counter()

    def initialize(self, scheme: BIOScheme) -> None:
        self.scheme = scheme

    def _content_digest(self) -> str:
        raise NotImplementedError

    @property
    def identity(self) -> str:
        tags = ",".join(self.scheme.tags) if self.scheme else ""
        return digest(self.kind, repr(self.epsilon), tags, self._content_digest())

    def _logits(self, n_tokens: int, spans: Sequence[tuple[int, int, str]]) -> Array:
        assert self.scheme is not None, "initialize() the teacher first"
        ids = tag_ids_from_spans(n_tokens, spans, self.scheme)
        return smoothed_logits(ids, len(self.scheme), epsilon=self.epsilon)

    def counts(self) -> dict[str, int]:
        return dict(sorted(self.tally.items()))


class SpanFileTargets(_HardLabelTargets):
    """Pre-labelled character spans from JSONL, as smoothed distributions.

    path (Path): JSONL, one `{"text": str, "spans": [{"start", "end", "label"}]}`
        per line.
    epsilon (float): label smoothing ε in (0, 1).
    """

    kind = "span_file"

    def __init__(self, path: str | Path, *, epsilon: float = 0.1) -> None:
        super().__init__(epsilon=epsilon)
        self.path = Path(path)
        self.spans: dict[str, list[CharSpan]] = {}
        for line_no, record in read_jsonl_lines(self.path):
            try:
                text = record["text"]
                spans = [
                    CharSpan(int(s["start"]), int(s["end"]), str(s["label"]), order)
                    for order, s in enumerate(record.get("spans", []))
                ]
                if not isinstance(text, str):
                    raise TypeError("'text' is not a string")
            except (KeyError, TypeError, ValueError) as err:
                raise InputFileError(Errors.E369.format(reason=err), path=self.path, line=line_no) from None
            self.spans[text_key(text)] = spans

    def _content_digest(self) -> str:
        return file_digest(self.path)

    def __call__(self, docs: list[Doc]) -> list[Array | None]:
        return [self._doc_logits(doc) for doc in docs]

    def _doc_logits(self, doc: Doc) -> Array | None:
        key, offset = doc.user_data.get(CHUNK_KEY, (text_key(doc.text), 0))
        if key not in self.spans:
            # Not labelled: the doc gets no soft term (a gold doc keeps its CE).
            self.tally["uncovered_docs"] += 1
            return None
        assert self.scheme is not None
        candidates: list[tuple] = []
        for labelled in self.spans[key]:
            start, end = labelled.start - offset, labelled.end - offset
            if end <= 0 or start >= len(doc.text):
                continue  # in another chunk of the same document
            if start < 0 or end > len(doc.text):
                self.tally["crosses_chunk_boundary"] += 1
                continue
            if labelled.corpus_type not in self.scheme.labels:
                self.tally["unknown_label"] += 1
                continue
            span, reasons = align_span(doc, start, end, labelled.corpus_type)
            for reason in reasons:
                self.tally[reason] += 1
            if span is None:
                self.tally["unalignable"] += 1
                continue
            candidates.append((span, labelled))
        kept, dropped = resolve_overlaps(candidates)
        self.tally["overlap"] += len(dropped)
        self.tally["kept"] += len(kept)
        return self._logits(len(doc), [(s.start, s.end, s.label_) for s, _ in kept])


class MatcherTargets(_HardLabelTargets):
    """Entities from spaCy `entity_ruler` patterns, as smoothed distributions.

    patterns (Path): JSONL of entity_ruler patterns, e.g.
        `{"label": "DISEASE", "pattern": "diabetes"}`.
    epsilon (float): label smoothing ε in (0, 1).
    """

    kind = "matcher"

    def __init__(self, patterns: str | Path, *, epsilon: float = 0.1) -> None:
        super().__init__(epsilon=epsilon)
        self.path = Path(patterns)
        self.nlp = clinical_blank()
        ruler = self.nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
        ruler.add_patterns(list(read_jsonl(self.path)))  # type: ignore[attr-defined]

    def _content_digest(self) -> str:
        return file_digest(self.path)

    def __call__(self, docs: list[Doc]) -> list[Array]:
        assert self.scheme is not None
        outputs: list[Array] = []
        for doc, matched in zip(docs, self.nlp.pipe(doc.text for doc in docs)):
            check_same_tokens(matched, doc)
            spans: list[tuple[int, int, str]] = []
            for ent in matched.ents:
                if ent.label_ not in self.scheme.labels:
                    self.tally["unknown_label"] += 1
                    continue
                spans.append((ent.start, ent.end, ent.label_))
            self.tally["kept"] += len(spans)
            outputs.append(self._logits(len(doc), spans))
        return outputs


class EnsembleTargets:
    """Several teachers as one: the mean of their tempered distributions.

        p̄ = (1/n) Σ_i softmax(z_i / T)        returned as logits  T · log p̄

    so that the student's softmax(logits / T) is exactly p̄, the soft target of
    α·CE + (1 − α)·T²·KL. T must be the student's `kd_temperature`
    (`training.check_settings` refuses a mismatch, E370). A doc some members
    do not cover is averaged over those that do; None if none does.

    members (Sequence[Teacher]): the teachers (e.g. one recipe, 3 seeds).
    temperature (float): T.
    """

    def __init__(self, members: Sequence[Teacher], *, temperature: float) -> None:
        if not members:
            raise ClinkdError(Errors.E116.format(name="ensemble members", value=0))
        if not temperature > 0:
            raise ClinkdError(Errors.E371.format(value=temperature))
        self.members = list(members)
        self.temperature = float(temperature)

    @property
    def identity(self) -> str:
        return digest("ensemble", repr(self.temperature), *(m.identity for m in self.members))

    def initialize(self, scheme: BIOScheme) -> None:
        for member in self.members:
            member.initialize(scheme)

    def __call__(self, docs: list[Doc]) -> list[Array | None]:
        outputs = [member(docs) for member in self.members]
        return [self.mean_logits([out[i] for out in outputs]) for i in range(len(docs))]

    def mean_logits(self, logits: Sequence[Array | None]) -> Array | None:
        """`losses.mean_tempered_logits` over the members that cover the doc."""
        covered = [z for z in logits if z is not None]
        return mean_tempered_logits(covered, self.temperature) if covered else None

    def counts(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for member in self.members:
            total.update(member.counts())
        return {"ensemble_members": len(self.members), **total}


# -- registered teacher factories (spaCy `misc` registry) -------------------


def create_pipeline_targets(path: str, component: str = "clinkd_ner") -> PipelineTargets:
    """Registered as `clinkd.pipeline_targets.v1`: a trained pipeline directory."""
    return PipelineTargets(path=path, component=component)


def create_span_file_targets(path: str, epsilon: float = 0.1) -> SpanFileTargets:
    """Registered as `clinkd.span_file_targets.v1`: JSONL of labelled spans."""
    return SpanFileTargets(path, epsilon=epsilon)


def create_matcher_targets(patterns: str, epsilon: float = 0.1) -> MatcherTargets:
    """Registered as `clinkd.matcher_targets.v1`: entity_ruler patterns JSONL."""
    return MatcherTargets(patterns, epsilon=epsilon)


def create_ensemble_targets(
    paths: list[str], temperature: float, component: str = "clinkd_ner"
) -> EnsembleTargets:
    """Registered as `clinkd.ensemble_targets.v1`: trained pipeline
    directories as one teacher (see `EnsembleTargets`)."""
    return EnsembleTargets(
        [PipelineTargets(path=path, component=component) for path in paths], temperature=temperature
    )
