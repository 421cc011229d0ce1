"""Where distillation data comes from: teacher targets and transfer texts.

Teachers (each a `targets.TargetSource`; registered in spaCy's `misc`
registry so `configs/distill.cfg` can swap them):

- `clinkd.pipeline_targets.v1`: a trained pipeline's `clinkd_ner` logits.
- `clinkd.span_file_targets.v1`: pre-labelled spans from JSONL (e.g. an LLM's),
  `{"text": ..., "spans": [{"start": s, "end": e, "label": L}]}` per line.
- `clinkd.matcher_targets.v1`: spaCy `entity_ruler` patterns (JSONL).

Hard labels (spans, matches) become label-smoothed log-probabilities
(`targets.smoothed_logits`). Character spans are aligned with the corpus
readers' policy (`corpora.spans.align_span`: trim whitespace, strict, then
expand; overlaps resolved longest first by `corpora.spans.resolve_overlaps`),
and every adjustment or drop is counted in `report()`.

Transfer texts (`clinkd.transfer_corpus.v1`, a spaCy reader): unlabelled
notes from a folder of .txt files, a CSV column or JSONL `{"text": ...}`,
cut into chunks of whole lines of at most `max_tokens` tokens.
"""
import csv
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy
import srsly
from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example

from ..corpora.spans import CharSpan, align_span, resolve_overlaps
from ..errors import ClinkdError, Errors, InputFileError
from ..models.windows import line_windows
from ..pipeline.tags import BIOScheme
from .targets import (
    CHUNK_KEY,
    digest,
    file_digest,
    smoothed_logits,
    tag_ids_from_spans,
    text_key,
)

Array = numpy.ndarray


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
            import spacy

            assert self.path is not None
            self._nlp = spacy.load(self.path)
        return self._nlp

    @property
    def pipe(self):
        from ..pipeline.ner import ClinkdNER

        if self.component not in self.nlp.pipe_names:
            raise ClinkdError(
                Errors.E353.format(
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

    def report(self) -> dict[str, int]:
        return {"teacher_docs": self.calls}


class _HardLabelTargets:
    """Shared part of the span-file and matcher teachers."""

    kind = "hard"

    def __init__(self, *, epsilon: float) -> None:
        smoothed_logits(numpy.zeros((0,), dtype="int32"), 1, epsilon=epsilon)  # validates ε
        self.epsilon = epsilon
        self.scheme: BIOScheme | None = None
        self.counts: Counter = Counter()

    def initialize(self, scheme: BIOScheme) -> None:
        self.scheme = scheme

    def _content_digest(self) -> str:
        raise NotImplementedError

    @property
    def identity(self) -> str:
        tags = ",".join(self.scheme.tags) if self.scheme else ""
        return digest(self.kind, repr(self.epsilon), tags, self._content_digest())

    def _logits(self, n_tokens: int, spans: Sequence[tuple[int, int, str]]) -> Array:
        assert self.scheme is not None, "initialize() the source first"
        ids = tag_ids_from_spans(n_tokens, spans, self.scheme)
        return smoothed_logits(ids, len(self.scheme), epsilon=self.epsilon)

    def report(self) -> dict[str, int]:
        return dict(sorted(self.counts.items()))


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
        for line_no, record in enumerate(_read_jsonl(self.path), start=1):
            try:
                text = record["text"]
                spans = [
                    CharSpan(int(s["start"]), int(s["end"]), str(s["label"]), order)
                    for order, s in enumerate(record.get("spans", []))
                ]
                if not isinstance(text, str):
                    raise TypeError("'text' is not a string")
            except (KeyError, TypeError, ValueError) as err:
                raise InputFileError(Errors.E359.format(reason=err), path=self.path, line=line_no) from None
            self.spans[text_key(text)] = spans

    def _content_digest(self) -> str:
        return file_digest(self.path)

    def __call__(self, docs: list[Doc]) -> list[Array | None]:
        return [self._doc_logits(doc) for doc in docs]

    def _doc_logits(self, doc: Doc) -> Array | None:
        key, offset = doc.user_data.get(CHUNK_KEY, (text_key(doc.text), 0))
        if key not in self.spans:
            # Not labelled: the doc gets no soft term (a gold doc keeps its CE).
            self.counts["uncovered_docs"] += 1
            return None
        assert self.scheme is not None
        candidates: list[tuple] = []
        for source in self.spans[key]:
            start, end = source.start - offset, source.end - offset
            if end <= 0 or start >= len(doc.text):
                continue  # in another chunk of the same document
            if start < 0 or end > len(doc.text):
                self.counts["crosses_chunk_boundary"] += 1
                continue
            if source.corpus_type not in self.scheme.labels:
                self.counts["unknown_label"] += 1
                continue
            span, reasons = align_span(doc, start, end, source.corpus_type)
            for reason in reasons:
                self.counts[reason] += 1
            if span is None:
                self.counts["unalignable"] += 1
                continue
            candidates.append((span, source))
        kept, dropped = resolve_overlaps(candidates)
        self.counts["overlap"] += len(dropped)
        self.counts["kept"] += len(kept)
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
        from ..tokenizer import clinical_blank

        self.path = Path(patterns)
        self.nlp = clinical_blank()
        ruler = self.nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
        ruler.add_patterns(list(_read_jsonl(self.path)))  # type: ignore[attr-defined]

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
                    self.counts["unknown_label"] += 1
                    continue
                spans.append((ent.start, ent.end, ent.label_))
            self.counts["kept"] += len(spans)
            outputs.append(self._logits(len(doc), spans))
        return outputs


def _read_jsonl(path: Path) -> Iterator[dict]:
    try:
        lines = path.read_text(encoding="utf8").splitlines()
    except OSError as err:
        raise ClinkdError(Errors.E115.format(path=path, reason=err)) from err
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = srsly.json_loads(line)
        except ValueError as err:
            raise InputFileError(Errors.E359.format(reason=err), path=path, line=line_no) from None
        if not isinstance(record, dict):
            raise InputFileError(Errors.E359.format(reason="not an object"), path=path, line=line_no)
        yield record


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


# -- transfer texts -----------------------------------------------------------


def read_texts(
    path: str | Path,
    *,
    pattern: str = "*",
    exclude: str = "",
    column: str = "note",
    field: str = "text",
) -> Iterator[str]:
    """Texts from a .txt file (whole file), a .csv file (`column`), a .jsonl
    file (`field`), or a directory of such files (`pattern`, minus names
    matching `exclude`), in sorted path order.

    RETURNS (Iterator[str]): the non-blank texts.
    """
    path = Path(path)
    if path.is_dir():
        files = sorted(
            p for p in path.rglob(pattern)
            if p.is_file() and not (exclude and p.match(exclude))
        )
    elif path.is_file():
        files = [path]
    else:
        raise ClinkdError(Errors.E360.format(path=path, reason="no such file or directory"))
    for file in files:
        suffix = file.suffix.lower()
        if suffix == ".csv":
            texts: Iterator[str] = _csv_texts(file, column)
        elif suffix == ".jsonl":
            texts = (str(r.get(field, "")) for r in _read_jsonl(file))
        elif suffix == ".txt":
            from ..corpora.textio import read_text

            texts = iter([read_text(file)])
        else:
            raise ClinkdError(Errors.E360.format(path=file, reason="expected .txt, .csv or .jsonl"))
        for text in texts:
            if text.strip():
                yield text


def _csv_texts(path: Path, column: str) -> Iterator[str]:
    # Clinical notes in one CSV field can exceed csv's default 128 KB limit.
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    with path.open(encoding="utf8", newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or column not in reader.fieldnames:
            raise ClinkdError(
                Errors.E361.format(path=path, column=column, columns=reader.fieldnames)
            )
        for row in reader:
            yield row[column] or ""


def chunk_doc(doc: Doc, max_tokens: int) -> list[Doc]:
    """Cut a doc into docs of whole lines with at most `max_tokens` tokens
    (a longer line is cut), using the encoder's `line_windows`. Each chunk
    records (key of the whole text, character offset) in
    `user_data["clinkd_chunk"]`, so span-file teachers can find its spans.

    RETURNS (List[Doc]): the chunks that hold a non-space token.
    """
    if len(doc) <= max_tokens:
        return [doc] if any(not t.is_space for t in doc) else []
    key = text_key(doc.text)
    chunks: list[Doc] = []
    for window in line_windows(doc, max_tokens):
        if all(t.is_space for t in window):
            continue
        chunk = window.as_doc()
        chunk.user_data[CHUNK_KEY] = (key, window.start_char)
        chunks.append(chunk)
    return chunks


def create_transfer_corpus(
    path: str | None,
    *,
    pattern: str = "*",
    exclude: str = "",
    column: str = "note",
    field: str = "text",
    max_docs: int = 0,
    max_tokens: int = 256,
) -> Callable[[Language], Iterator[Example]]:
    """Registered as `clinkd.transfer_corpus.v1` (spacy_readers): unlabelled
    texts as Examples whose reference has no entity annotation, so they add
    only the soft (teacher) term to the distillation loss.

    path (Optional[str]): a file or folder (see `read_texts`); None: no texts.
    pattern (str): file glob inside a folder, e.g. "*.txt".
    exclude (str): file names to skip, e.g. "*_metadata.csv".
    column (str): the text column of CSV files.
    field (str): the text field of JSONL records.
    max_docs (int): read at most this many texts (0: all), before chunking.
    max_tokens (int): the most spaCy tokens per chunk.
    RETURNS (Callable[[Language], Iterator[Example]]): the reader.
    """
    if max_tokens < 1:
        raise ClinkdError(Errors.E116.format(name="max_tokens", value=max_tokens))

    def read(nlp: Language) -> Iterator[Example]:
        if path is None:
            return
        for i, text in enumerate(read_texts(path, pattern=pattern, exclude=exclude, column=column, field=field)):
            if max_docs and i >= max_docs:
                break
            for chunk in chunk_doc(nlp.make_doc(text), max_tokens):
                yield Example.from_dict(chunk, {})

    return read
