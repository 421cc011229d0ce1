"""`clinkd.DistillationCorpus.v1`: a spaCy corpus reader whose Examples carry
their teacher's logits, so that spaCy's own training loop distills.

Each example's predicted doc gets `user_data[TEACHER_LOGITS]`: (n_tokens,
n_tags) float32 logits over the student's tags, computed once per text and
cached (`targets.teacher_targets`). `ClinkdNER.update` sees them and learns
α·CE(gold) + (1 − α)·T²·KL(teacher ‖ student) instead of plain CE. Gold docs
come from a DocBin, unlabelled transfer chunks from another reader (e.g.
`clinkd.transfer_corpus.v1`); a transfer chunk the teacher does not cover
carries no signal and is left out (counted in `counts`).

The teacher is bound to the student's tag set, which exists only once the
student is initialized: until then (spaCy's `initialize` reads the corpus for
labels and a sample), the reader yields the gold examples alone, without
targets, and runs no teacher.
"""
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.training import Corpus, Example

from ..errors import ClinkdError, Errors
from ..pipeline.ner import TEACHER_LOGITS, ClinkdNER
from .targets import TargetCache, teacher_targets
from .teachers import Teacher

TransferReader = Callable[[Language], Iterable[Example]]


class DistillationCorpus:
    """Gold and transfer examples with the teacher's logits attached.

    path (Optional[Path]): a DocBin of gold docs (None: none).
    teacher (Teacher): the teacher (see `teachers.py`).
    transfer (Optional[Callable[[Language], Iterable[Example]]]): a reader of
        unlabelled examples (None: none).
    targets_cache (Optional[Path]): directory of the teacher-target cache
        (None: in memory only).
    teacher_batch_size (int): docs per teacher call when targets are missing.
    component (str): the student component whose tags the targets are over.
    """

    def __init__(
        self,
        path: str | Path | None,
        *,
        teacher: Teacher,
        transfer: TransferReader | None = None,
        targets_cache: str | Path | None = None,
        teacher_batch_size: int = 16,
        component: str = "clinkd_ner",
    ) -> None:
        if teacher_batch_size < 1:
            raise ClinkdError(Errors.E116.format(name="teacher_batch_size", value=teacher_batch_size))
        self.path = Path(path) if path is not None else None
        self.teacher = teacher
        self.transfer = transfer
        self.targets_cache = targets_cache
        self.teacher_batch_size = teacher_batch_size
        self.component = component
        self._cache: TargetCache | None = None
        self.labelled_now = 0
        self.gold_docs = 0
        self.transfer_chunks = 0
        self.transfer_uncovered = 0

    def __call__(self, nlp: Language) -> Iterator[Example]:
        gold = self._gold(nlp)
        ner: ClinkdNER = nlp.get_pipe(self.component)
        if not ner.is_initialized:
            yield from gold
            return
        transfer = [eg for eg in self.transfer(nlp) if len(eg.predicted)] if self.transfer else []
        cache = self._bind(ner)
        examples = gold + transfer
        logits, n_new = teacher_targets(
            self.teacher, [eg.predicted for eg in examples], cache=cache, batch_size=self.teacher_batch_size
        )
        self.labelled_now += n_new
        self.gold_docs = len(gold)
        self.transfer_chunks = self.transfer_uncovered = 0
        for i, (eg, target) in enumerate(zip(examples, logits)):
            if i >= len(gold):
                if target is None:
                    self.transfer_uncovered += 1
                    continue
                self.transfer_chunks += 1
            if target is not None:
                eg.predicted.user_data[TEACHER_LOGITS] = target
            yield eg

    def counts(self) -> dict[str, Any]:
        """What the last pass read and how many docs the teacher labelled in
        all passes (0: every target came from the cache)."""
        return {
            "cache": str(self._cache.path) if self._cache and self._cache.path else None,
            "labelled_now": self.labelled_now,
            "gold_docs": self.gold_docs,
            "transfer_chunks": self.transfer_chunks,
            "transfer_uncovered": self.transfer_uncovered,
            "teacher": self.teacher.counts(),
        }

    def _gold(self, nlp: Language) -> list[Example]:
        if self.path is None:
            return []
        corpus = Corpus(self.path, max_length=0, gold_preproc=False, limit=0)
        return [eg for eg in corpus(nlp) if len(eg.predicted)]

    def _bind(self, ner: ClinkdNER) -> TargetCache:
        if self._cache is None or self._cache.tags != ner.tags:
            self.teacher.initialize(ner.scheme)
            self._cache = TargetCache(self.targets_cache, identity=self.teacher.identity, tags=ner.tags)
        return self._cache


def create_distillation_corpus(
    path: str | None,
    teacher: Teacher,
    transfer: TransferReader | None = None,
    targets_cache: str | None = None,
    teacher_batch_size: int = 16,
    component: str = "clinkd_ner",
) -> DistillationCorpus:
    """Registered as `clinkd.DistillationCorpus.v1` (spacy_readers): see
    `DistillationCorpus`."""
    return DistillationCorpus(
        path,
        teacher=teacher,
        transfer=transfer,
        targets_cache=targets_cache,
        teacher_batch_size=teacher_batch_size,
        component=component,
    )
