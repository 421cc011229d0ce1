"""The distillation loop, driven by a config like `spacy train`.

`run_distillation` wires separate pieces together: the student
(`create_student`, from a config like `spacy train` initializes it, or a
trained student to continue), the teacher targets (`teacher_targets`, cached
once per doc), the update (`ClinkdNER.distill`, whose loss is the pure
`losses.combine_terms`), the evaluation (`DevEvaluation`) and the table
(`ProgressTable`). The `[distillation]` section of `configs/distill.cfg`
chooses optimizer, batcher, steps, evaluation frequency, patience,
temperature, α, teacher, corpora and transfer texts.
"""
import json
import random
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy
import spacy
from confection import Config
from spacy.language import Language
from spacy.training import Example
from spacy.util import fix_random_seed, load_config, registry
from thinc.api import Optimizer
from wasabi import Printer

from ..errors import ClinkdError, Errors
from ..pipeline.ner import ClinkdNER
from ..pipeline.tags import BIOScheme
from .losses import argmax_agreement, check_distillation_settings, tag_accuracy
from .targets import TargetCache, TargetSource, teacher_targets

Array = numpy.ndarray

# What the loop writes into its output directory (and --force replaces).
OUTPUTS = ("model-best", "model-last", "distill_log.jsonl", "train_summary.json")

@dataclass
class DistillSettings:
    """The plain values of the `[distillation]` section."""

    component: str
    seed: int
    max_steps: int
    max_epochs: int
    eval_frequency: int
    patience: int
    dropout: float
    temperature: float
    alpha: float
    teacher_batch_size: int
    targets_cache: str | None
    student_config: str | None
    student_model: str | None
    student_overrides: dict[str, Any]


@dataclass
class DistillItem:
    """One training example and its teacher logits (None: no soft term).
    `len()` is the doc's length, which spaCy's batchers use."""

    example: Example
    teacher: Array | None

    def __len__(self) -> int:
        return len(self.example.predicted)


def load_distill_config(path: str | Path, overrides: dict[str, Any] | None = None) -> Config:
    """Read a distillation config with `--section.key value` overrides
    (not interpolated, so it is saved as written)."""
    return load_config(Path(path), overrides=dict(overrides or {}), interpolate=False)


def resolve_distill_config(config: Config) -> tuple[DistillSettings, dict[str, Any]]:
    """Interpolate and resolve the `[distillation]` section.

    RETURNS (Tuple[DistillSettings, Dict[str, Any]]): the plain settings and
        the resolved objects: teacher, train_corpus, dev_corpus,
        transfer_corpus, batcher, optimizer.
    """
    section = registry.resolve(config.interpolate()["distillation"], validate=True)
    student = dict(section["student"])
    settings = DistillSettings(
        component=section["component"],
        seed=int(section["seed"]),
        max_steps=int(section["max_steps"]),
        max_epochs=int(section["max_epochs"]),
        eval_frequency=int(section["eval_frequency"]),
        patience=int(section["patience"]),
        dropout=float(section["dropout"]),
        temperature=float(section["temperature"]),
        alpha=float(section["alpha"]),
        teacher_batch_size=int(section["teacher_batch_size"]),
        targets_cache=section["targets_cache"],
        student_config=student.pop("config", None),
        student_model=student.pop("model", None),
        student_overrides={f"paths.{key}": value for key, value in student.items()},
    )
    check_distillation_settings(alpha=settings.alpha, temperature=settings.temperature)
    if settings.max_steps <= 0 and settings.max_epochs <= 0:
        raise ClinkdError(Errors.E358)
    for name in ("eval_frequency", "teacher_batch_size"):
        if getattr(settings, name) < 1:
            raise ClinkdError(Errors.E116.format(name=f"distillation.{name}", value=getattr(settings, name)))
    objects = {
        key: section[key]
        for key in ("teacher", "train_corpus", "dev_corpus", "transfer_corpus", "batcher", "optimizer")
    }
    return settings, objects


def prepare_output(path: Path, *, force: bool, printer: Printer) -> None:
    """Refuse a non-empty output directory unless `force`; with `force`,
    delete only what an earlier run wrote there (`OUTPUTS`), and say so."""
    if path.exists() and any(path.iterdir()):
        if not force:
            raise ClinkdError(Errors.E354.format(path=path, outputs=", ".join(OUTPUTS)))
        for name in OUTPUTS:
            target = path / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
        printer.warn(f"--force: replacing earlier distillation outputs in {path}")
    path.mkdir(parents=True, exist_ok=True)


def create_student(settings: DistillSettings) -> Language:
    """The student pipeline: a trained student to continue (`student_model`),
    or the student config initialized on its train corpus exactly like
    `spacy train` does (`spacy.training.initialize.init_nlp`)."""
    if settings.student_model:
        return spacy.load(settings.student_model)
    if not settings.student_config:
        raise ClinkdError(Errors.E362)
    from spacy.training.initialize import init_nlp

    config = load_config(
        Path(settings.student_config), overrides=settings.student_overrides, interpolate=False
    )
    return init_nlp(config, use_gpu=-1)


def load_items(
    nlp: Language,
    examples: Iterable[Example],
    *,
    source: TargetSource,
    cache: TargetCache,
    batch_size: int,
) -> tuple[list[DistillItem], int]:
    """Pair examples with their (cached) teacher logits.

    RETURNS (Tuple[List[DistillItem], int]): the items, and how many docs the
        teacher had to label (0 when the cache held them all).
    """
    examples = [eg for eg in examples if len(eg.predicted)]
    logits, n_new = teacher_targets(
        source, [eg.predicted for eg in examples], cache=cache, batch_size=batch_size
    )
    return [DistillItem(eg, t) for eg, t in zip(examples, logits)], n_new


class DevEvaluation:
    """Scores the student on dev docs: entity P/R/F (the component's scorer),
    the weighted score, student–teacher KL (T = 1) and argmax agreement per
    token. The teacher's token-level tag accuracy against gold is computed
    once (the teacher does not change) and logged with every evaluation.

    items (Sequence[DistillItem]): dev examples with teacher logits.
    scheme (BIOScheme): the student's (= the teacher's) tags.
    component (str): the student component's name.
    weights (Dict[str, float]): score weights (`[training.score_weights]`).
    """

    def __init__(
        self,
        items: Sequence[DistillItem],
        *,
        scheme: BIOScheme,
        component: str,
        weights: dict[str, float],
    ) -> None:
        self.items = list(items)
        self.component = component
        self.weights = {k: float(v) for k, v in weights.items() if v is not None}
        self.covered = [i for i, it in enumerate(self.items) if it.teacher is not None]
        self.teacher = [self.items[i].teacher for i in self.covered]
        gold = [scheme.ids_from_biluo(self.items[i].example.get_aligned_ner()) for i in self.covered]
        self.teacher_accuracy: float | None = (
            tag_accuracy(self.teacher, [g for g, _ in gold], [m for _, m in gold])  # type: ignore[arg-type]
            if self.covered
            else None
        )

    def __call__(self, nlp: Language) -> dict[str, Any]:
        ner: ClinkdNER = nlp.get_pipe(self.component)
        docs = [it.example.predicted.copy() for it in self.items]
        scores = [ner.model.ops.to_numpy(s) for s in ner.predict(docs)]  # (n_tokens, n_tags) each
        result: dict[str, Any] = {"dev_kl": None, "dev_agreement": None}
        if self.covered:
            student = [scores[i] for i in self.covered]
            result["dev_kl"], _ = ner.get_teacher_student_loss(self.teacher, student, temperature=1.0)
            result["dev_agreement"] = argmax_agreement(student, self.teacher)  # type: ignore[arg-type]
        result["teacher_tag_acc"] = self.teacher_accuracy
        ner.set_annotations(docs, scores)
        prf = ner.score([Example(doc, it.example.reference) for doc, it in zip(docs, self.items)])
        for key in ("ents_f", "ents_p", "ents_r"):
            result[key] = float(prf.get(key) or 0.0)
        result["ents_per_type"] = prf.get("ents_per_type")
        result["score"] = sum(float(result.get(k) or 0.0) * w for k, w in self.weights.items())
        return result


class ProgressTable:
    """A `spacy train`-style table: one row per evaluation."""

    HEADER = ("E", "#", "LOSS CE", "LOSS KD", "DEV KL", "AGREE", "ENTS_F", "ENTS_P", "ENTS_R", "SCORE")
    WIDTHS = (3, 6, 8, 8, 7, 6, 6, 6, 6, 6)

    def __init__(self, printer: Printer) -> None:
        self.printer = printer

    def start(self, info: dict[str, Any]) -> None:
        for key, value in info.items():
            self.printer.info(f"{key}: {value}")
        self.printer.text("LOSS CE / LOSS KD: mean per step since the last evaluation (unweighted)")
        self.printer.row(self.HEADER, widths=self.WIDTHS)
        self.printer.row(["-" * w for w in self.WIDTHS], widths=self.WIDTHS)

    def row(self, record: dict[str, Any]) -> None:
        def num(value: float | None, scale: float = 1.0, digits: int = 2) -> str:
            return "-" if value is None else f"{value * scale:.{digits}f}"

        self.printer.row(
            [
                record["epoch"],
                record["step"],
                num(record["loss_ce"], digits=3),
                num(record["loss_kd"], digits=3),
                num(record["dev_kl"], digits=3),
                num(record["dev_agreement"], 100, 1),
                num(record["ents_f"], 100),
                num(record["ents_p"], 100),
                num(record["ents_r"], 100),
                num(record["score"], digits=3),
            ],
            widths=self.WIDTHS,
        )


def distill_steps(
    ner: ClinkdNER,
    items: Sequence[DistillItem],
    *,
    batcher: Callable[[Iterable[DistillItem]], Iterable[list[DistillItem]]],
    optimizer: Optimizer,
    settings: DistillSettings,
) -> Iterator[tuple[int, int, dict[str, float]]]:
    """Update the student batch by batch, epoch after epoch (shuffled),
    until `max_epochs` (0: no limit); the caller stops on steps or patience.

    YIELDS (Tuple[int, int, Dict[str, float]]): step (from 1), epoch (from 0),
        the batch's losses.
    """
    rng = random.Random(settings.seed)
    step = 0
    epoch = 0
    while not settings.max_epochs or epoch < settings.max_epochs:
        order = list(items)
        rng.shuffle(order)
        for batch in batcher(order):
            losses = ner.distill(
                [item.teacher for item in batch],
                [item.example for item in batch],
                drop=settings.dropout,
                sgd=optimizer,
                losses={},
                temperature=settings.temperature,
                alpha=settings.alpha,
            )
            optimizer.step_schedules()
            step += 1
            yield step, epoch, losses
        epoch += 1


@dataclass
class DistillData:
    """The student and every training/dev item, paired with teacher targets."""

    nlp: Language
    source: TargetSource
    cache: TargetCache
    train: list[DistillItem]
    transfer: list[DistillItem]
    dev: list[DistillItem]
    labelled_now: int
    transfer_uncovered: int

    def counts(self) -> dict[str, Any]:
        return {
            "cache": str(self.cache.path) if self.cache.path else None,
            "labelled_now": self.labelled_now,
            "train_docs": len(self.train),
            "transfer_chunks": len(self.transfer),
            "transfer_uncovered": self.transfer_uncovered,
            "dev_docs": len(self.dev),
            "teacher_report": self.source.report(),
        }


def prepare_data(settings: DistillSettings, objects: dict[str, Any]) -> DistillData:
    """Create the student, bind the teacher to its tags, and fetch (or
    compute and cache) teacher targets for train, transfer and dev docs."""
    fix_random_seed(settings.seed)
    nlp = create_student(settings)
    ner: ClinkdNER = nlp.get_pipe(settings.component)
    source: TargetSource = objects["teacher"]
    source.initialize(ner.scheme)
    cache = TargetCache(settings.targets_cache, identity=source.identity, tags=ner.tags)
    labelled = 0

    def items_of(corpus: Callable[[Language], Iterable[Example]]) -> list[DistillItem]:
        nonlocal labelled
        items, n_new = load_items(
            nlp, corpus(nlp), source=source, cache=cache, batch_size=settings.teacher_batch_size
        )
        labelled += n_new
        return items

    train = items_of(objects["train_corpus"])
    if not train:
        raise ClinkdError(Errors.E363.format(path=settings.student_overrides.get("paths.train")))
    transfer_all = items_of(objects["transfer_corpus"])
    # An unlabelled doc without a teacher target carries no signal.
    transfer = [item for item in transfer_all if item.teacher is not None]
    dev = items_of(objects["dev_corpus"])
    return DistillData(
        nlp, source, cache, train, transfer, dev, labelled, len(transfer_all) - len(transfer)
    )


def precompute_targets(config: Config) -> dict[str, Any]:
    """Fill the target cache for the train, transfer and dev docs of a
    distillation config (what `run_distillation` would compute first).

    RETURNS (Dict[str, Any]): counts (see `DistillData.counts`).
    """
    settings, objects = resolve_distill_config(config)
    return prepare_data(settings, objects).counts()


def run_distillation(
    config: Config,
    output_path: str | Path,
    *,
    force: bool = False,
    printer: Printer | None = None,
) -> dict[str, Any]:
    """Distill the teacher into the student, as configured.

    Writes `model-best` (best dev score), `model-last` and `distill_log.jsonl`
    (one record per evaluation) into `output_path`.

    config (Config): the distillation config (see configs/distill.cfg).
    output_path (Union[str, Path]): output directory; must be empty unless `force`.
    force (bool): replace earlier outputs in `output_path`.
    printer (Optional[Printer]): where the table goes (default: stdout).
    RETURNS (Dict[str, Any]): best_dev scores, best_step, steps, log records,
        teacher and target counts.
    """
    printer = printer or Printer()
    output = Path(output_path)
    settings, objects = resolve_distill_config(config)
    prepare_output(output, force=force, printer=printer)
    data = prepare_data(settings, objects)
    nlp, source, cache = data.nlp, data.source, data.cache
    train, transfer, dev = data.train, data.transfer, data.dev
    ner: ClinkdNER = nlp.get_pipe(settings.component)
    weights = dict(nlp.config.get("training", {}).get("score_weights") or {"ents_f": 1.0})
    evaluate = DevEvaluation(dev, scheme=ner.scheme, component=settings.component, weights=weights)
    optimizer: Optimizer = objects["optimizer"]
    table = ProgressTable(printer)
    table.start(
        {
            "Student tags": len(ner.tags),
            "Training docs": f"{len(train)} gold + {len(transfer)} transfer chunks",
            "Teacher docs labelled now (rest from cache)": data.labelled_now,
            "Target cache": cache.path or "in memory",
            "Temperature / alpha": f"{settings.temperature} / {settings.alpha}",
            "Teacher tag accuracy on dev (vs gold)": evaluate.teacher_accuracy,
            "Teacher source": source.report(),
        }
    )
    log: list[dict[str, Any]] = []
    best: dict[str, Any] | None = None
    window: dict[str, float] = {"ce": 0.0, "kd": 0.0, "n": 0}
    log_path = output / "distill_log.jsonl"
    start = time.perf_counter()

    def evaluate_and_log(step: int, epoch: int) -> dict[str, Any]:
        nonlocal best, window
        with nlp.use_params(optimizer.averages):
            scores = evaluate(nlp)
        n = max(1, int(window["n"]))
        record = {
            "step": step,
            "epoch": epoch,
            "loss_ce": window["ce"] / n,
            "loss_kd": window["kd"] / n,
            "seconds": round(time.perf_counter() - start, 1),
            **{k: v for k, v in scores.items() if k != "ents_per_type"},
        }
        window = {"ce": 0.0, "kd": 0.0, "n": 0}
        table.row(record)
        log.append(record)
        with log_path.open("a", encoding="utf8") as handle:
            handle.write(json.dumps(record, sort_keys=True) + "\n")
        if best is None or record["score"] > best["score"]:
            best = record
            nlp.meta["performance"] = dict(scores)
            with nlp.use_params(optimizer.averages):
                _save(nlp, output / "model-best")
        return record

    step = epoch = 0
    for step, epoch, losses in distill_steps(
        ner, train + transfer, batcher=objects["batcher"], optimizer=optimizer, settings=settings
    ):
        window["ce"] += losses[f"{settings.component}_ce"]
        window["kd"] += losses[f"{settings.component}_kd"]
        window["n"] += 1
        last = bool(settings.max_steps) and step >= settings.max_steps
        if step % settings.eval_frequency == 0 or last:
            evaluate_and_log(step, epoch)
            assert best is not None
            if last or (settings.patience and step - best["step"] >= settings.patience):
                break
    else:
        # max_epochs ran out between evaluations: score the final weights too.
        if step and (not log or log[-1]["step"] != step):
            evaluate_and_log(step, epoch)
    _save(nlp, output / "model-last")
    if best is not None:
        printer.good(f"Best dev score {best['score']:.3f} at step {best['step']}: {output / 'model-best'}")
    return {
        "best_dev": _performance(output / "model-best"),
        "best_step": best["step"] if best else None,
        "steps": step,
        "log": log,
        "teacher": {"identity": source.identity, "report": source.report()},
        "targets": data.counts(),
        "temperature": settings.temperature,
        "alpha": settings.alpha,
    }


def _save(nlp: Language, path: Path) -> None:
    if path.exists():
        shutil.rmtree(path)
    nlp.to_disk(path)


def _performance(model_dir: Path) -> dict[str, Any]:
    meta = model_dir / "meta.json"
    if not meta.exists():
        return {}
    return json.loads(meta.read_text(encoding="utf8")).get("performance", {})

