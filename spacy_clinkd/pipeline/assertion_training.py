"""Training the learned assertion classifier on gold entities.

The gold docs are prepared exactly as `evaluation.assertion.assertions_on_gold`
prepares them at evaluation (and as a pipeline meets them at inference): the
pipeline's tokenizer, the gold entities set as `doc.ents`, the components
between entity recognition and `clinkd_assertion` run (the sentencizer). Each
gold entity becomes one example: the classifier's input text
(`models.assertion.marked_context`, which carries the rules' verdict) and its
gold assertion.

The loop: AdamW, a linear warm-up over the first `warmup_steps` then linear
decay to 0, the head's learning rate `head_lr_factor` times the encoder's,
shuffled mini-batches, a fixed seed; the loss is `losses.token_cross_entropy`
over the batch's entities (its rows are entities here, not tokens).
"""
from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc

from ..corpora.spans import gold_assertions
from .assertion import LINEAR_KIND, PRESENT, ClinkdAssertion


@dataclass(frozen=True)
class EntityExample:
    """One gold entity: the encoder classifier's input text, the rules'
    verdict, the gold assertion, and the linear classifier's feature names."""

    text: str
    rule: str
    gold: str
    features: tuple[str, ...] = ()


@dataclass(frozen=True)
class TrainSettings:
    """The classifier's training settings (defaults: chosen by CV on MACCROBAT, docs/RESULTS.md)."""

    epochs: int = 3
    learn_rate: float = 5e-5
    head_lr_factor: float = 20.0
    batch_size: int = 16
    warmup_steps: int = 50
    seed: int = 0
    window: int = 24
    max_length: int = 96
    rule_input: bool = True


@dataclass(frozen=True)
class LinearSettings:
    """The linear classifier's settings (`models.assertion_linear.fit_linear`),
    fixed before CV: 5 context words a side (NegEx's classic window), λ about
    1 / the number of training entities (scikit-learn's default C = 1)."""

    window: int = 5
    l2: float = 2.5e-4
    steps: int = 400
    learn_rate: float = 0.1
    # the classes where the rules' verdict stands (`assertion_linear.decide`); ("possible",) is the
    # combination CV preferred (docs/RESULTS.md run 21)
    keep_rules: tuple[str, ...] = ()
    # the classes the model may decide where the rules' verdict is kept (`assertion_linear.decide`);
    # ("absent",) beside keep_rules ("possible",) is what CV preferred in run 23
    overrides: tuple[str, ...] = ()


def entity_examples(
    nlp: Language,
    gold_docs: Sequence[Doc],
    *,
    window: int = 24,
    rule_input: bool = True,
    feature_window: int = LinearSettings.window,
    component: str = "clinkd_assertion",
) -> list[list[EntityExample]]:
    """Per gold doc, one `EntityExample` per gold entity, in `doc.ents` order.

    nlp (Language): a pipeline with `component` (a `ClinkdAssertion`) and the
        components it needs before it (sentence boundaries).
    gold_docs (Sequence[Doc]): docs with gold `doc.ents` and gold assertions.
    window (int): context words on each side of an entity (input texts).
    rule_input (bool): whether the input text carries the rules' verdict.
    feature_window (int): context words on each side of an entity (features).
    """
    assertion: ClinkdAssertion = nlp.get_pipe(component)
    index = nlp.pipe_names.index(component)
    before = [
        name for name in nlp.pipe_names[:index] if "doc.ents" not in nlp.get_pipe_meta(name).assigns
    ]
    out = []
    for gold in gold_docs:
        doc = nlp.make_doc(gold.text)
        doc.ents = [doc.char_span(e.start_char, e.end_char, label=e.label_, alignment_mode="expand") for e in gold.ents]
        for name in before:
            doc = nlp.get_pipe(name)(doc)
        truth = gold_assertions(gold) or {}
        rules, texts = assertion.entity_inputs(doc, doc.ents, kind="encoder", window=window, rule_input=rule_input)
        _, features = assertion.entity_inputs(doc, doc.ents, kind=LINEAR_KIND, window=feature_window)
        out.append(
            [
                EntityExample(text, rule.assertion, truth.get((g.start_char, g.end_char), PRESENT), tuple(feats))
                for g, rule, text, feats in zip(gold.ents, rules, texts, features)
            ]
        )
    return out


def train_classifier(encoder: str | Path, examples: Sequence[EntityExample], settings: TrainSettings, *, log=None):
    """Fine-tune a new `AssertionClassifier` on `encoder` (a local folder or an
    alias, `models.encoder.resolve_encoder_name`) over `examples`.

    log (Optional[Callable[[int, float], None]]): called with (epoch, mean loss).
    RETURNS (AssertionClassifier): the trained classifier, in eval mode.
    """
    import numpy
    import torch

    from ..losses import token_cross_entropy
    from ..models.assertion import AssertionClassifier
    from ..models.assertion_linear import CLASSES
    from ..models.encoder import resolve_encoder_name

    torch.manual_seed(settings.seed)
    rng = random.Random(settings.seed)
    model = AssertionClassifier.from_encoder(
        resolve_encoder_name(str(encoder)), window=settings.window, max_length=settings.max_length,
        rule_input=settings.rule_input,
    )
    optimizer = torch.optim.AdamW(
        [
            {"params": model.encoder.parameters(), "lr": settings.learn_rate},
            {"params": model.head.parameters(), "lr": settings.learn_rate * settings.head_lr_factor},
        ]
    )
    per_epoch = (len(examples) + settings.batch_size - 1) // settings.batch_size
    total = max(1, settings.epochs * per_epoch)

    def schedule(step: int) -> float:
        return min(1.0, (step + 1) / max(1, settings.warmup_steps)) * max(0.0, 1.0 - step / total)

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    order = list(range(len(examples)))
    model.train()
    for epoch in range(settings.epochs):
        rng.shuffle(order)
        losses = []
        for i in range(0, len(order), settings.batch_size):
            batch = [examples[j] for j in order[i : i + settings.batch_size]]
            logits = model([e.text for e in batch])
            gold = numpy.asarray([CLASSES.index(e.gold) for e in batch])
            loss, d_logits = token_cross_entropy(
                logits.detach().numpy(), gold, numpy.ones(len(batch), dtype="float32")
            )
            optimizer.zero_grad()
            logits.backward(torch.from_numpy(d_logits))
            optimizer.step()
            scheduler.step()
            losses.append(loss)
        if log is not None:
            log(epoch, sum(losses) / max(1, len(losses)))
    model.eval()
    return model


def train_linear(examples: Sequence[EntityExample], settings: LinearSettings):
    """Fit a `LinearAssertion` on the examples' features (`fit_linear`).

    RETURNS (LinearAssertion): the fitted model.
    """
    from ..models.assertion_linear import fit_linear

    return fit_linear(
        [e.features for e in examples], [e.gold for e in examples], window=settings.window, l2=settings.l2,
        steps=settings.steps, learn_rate=settings.learn_rate, keep_rules=settings.keep_rules,
        overrides=settings.overrides,
    )


def classify(model, examples: Sequence[EntityExample]) -> list[str]:
    """The classifier's assertion of each example (its input texts for an
    encoder classifier, its features for a linear one), as the pipeline decides
    it (`assertion_linear.decide`: the rules' verdict where the classifier keeps
    it, else its most probable class)."""
    from ..models.assertion_linear import decide

    if not examples:
        return []
    inputs = [e.features if model.kind == LINEAR_KIND else e.text for e in examples]
    return decide(model.probabilities(inputs), [e.rule for e in examples], model.keep_rules, model.overrides)
