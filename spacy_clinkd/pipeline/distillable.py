"""`DistillablePipe`: spaCy v4's distillation API on spaCy 3's `TrainablePipe`.

In spaCy v4 every trainable component has `distill(teacher_pipe, examples,
...)`: the teacher's scores on the examples' predicted docs, the student's
scores with their backprop, the component's teacher-student loss, one
optimizer step, and `is_distillable` tells `Language.distill` which
components take part. This base class is that loop for spaCy 3. A subclass
says which teachers it accepts (`check_teacher`) and what the loss is
(`get_distillation_loss`, which may read the gold too: α·CE + (1 − α)·KD);
`predict`, `set_annotations`, `get_loss` and `update` stay the component's
own, as in any `TrainablePipe`.
"""
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from spacy.pipeline import TrainablePipe
from spacy.training import Example, validate_examples
from thinc.api import Optimizer, set_dropout_rate
from thinc.types import Floats2d

from ..errors import ClinkdError, Errors


class DistillationLoss(NamedTuple):
    """A batch's distillation loss: the total, its gradient per doc, and the
    unweighted parts (name → value), each summed into `losses` as
    "<component>_<name>"."""

    loss: float
    d_scores: list[Floats2d]
    parts: dict[str, float]


class DistillablePipe(TrainablePipe):
    """A `TrainablePipe` that learns from a teacher (module docstring)."""

    # the names of `DistillationLoss.parts`, in `losses` from the first batch on
    distillation_parts: tuple[str, ...] = ()

    @property
    def is_distillable(self) -> bool:
        return True

    def check_teacher(self, teacher: TrainablePipe) -> None:
        """Raise when `teacher`'s scores cannot be compared with this
        component's (a subclass's check; by default every teacher is taken)."""

    def get_distillation_loss(
        self,
        examples: Sequence[Example],
        teacher_scores: Sequence[Floats2d | None],
        scores: list[Floats2d],
    ) -> DistillationLoss:
        """The loss of a batch given the teacher's and the student's scores
        per example (a teacher score of None: no soft term for that example)."""
        raise NotImplementedError

    def distill(
        self,
        teacher_pipe_or_targets: TrainablePipe | Sequence[Floats2d | None],
        examples: Iterable[Example],
        *,
        drop: float = 0.0,
        sgd: Optimizer | None = None,
        losses: dict[str, float] | None = None,
    ) -> dict[str, float]:
        """One distillation update on a batch (`get_distillation_loss`).

        teacher_pipe_or_targets (Union[TrainablePipe, Sequence[Floats2d]]): a
            teacher component (run on the examples' predicted docs, after
            `check_teacher`), or its scores per example (None: no soft term
            for that example).
        examples (Iterable[Example]): the batch; predicted docs are the input,
            and an empty one is skipped.
        drop (float): dropout rate.
        sgd (Optional[Optimizer]): the optimizer; None: no weight update.
        losses (Optional[Dict[str, float]]): accumulates the total under the
            component's name and each part under "<name>_<part>".
        RETURNS (Dict[str, float]): `losses`.
        """
        if losses is None:
            losses = {}
        for key in (self.name, *(f"{self.name}_{part}" for part in self.distillation_parts)):
            losses.setdefault(key, 0.0)
        examples = list(examples)
        validate_examples(examples, f"{type(self).__name__}.distill")
        teacher_scores = self._teacher_scores(teacher_pipe_or_targets, examples)
        pairs = [(eg, t) for eg, t in zip(examples, teacher_scores) if len(eg.predicted)]
        if not pairs:
            return losses
        examples = [eg for eg, _ in pairs]
        set_dropout_rate(self.model, drop)
        scores, backprop = self.model.begin_update([eg.predicted for eg in examples])
        result = self.get_distillation_loss(examples, [t for _, t in pairs], scores)
        backprop(result.d_scores)
        if sgd is not None:
            self.finish_update(sgd)
        losses[self.name] += result.loss
        for part, value in result.parts.items():
            losses[f"{self.name}_{part}"] = losses.get(f"{self.name}_{part}", 0.0) + value
        return losses

    def _teacher_scores(
        self, teacher_pipe_or_targets: TrainablePipe | Sequence[Floats2d | None], examples: list[Example]
    ) -> list[Floats2d | None]:
        if isinstance(teacher_pipe_or_targets, TrainablePipe):
            self.check_teacher(teacher_pipe_or_targets)
            return list(teacher_pipe_or_targets.predict([eg.predicted for eg in examples]))
        targets = list(teacher_pipe_or_targets)
        if len(targets) != len(examples):
            raise ClinkdError(Errors.E355.format(n_targets=len(targets), n_examples=len(examples)))
        return targets
