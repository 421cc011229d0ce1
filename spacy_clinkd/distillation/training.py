"""Distillation in spaCy's training shape.

`configs/distill.cfg` is laid over the student's training config
(`load_distill_config`), so the result is an ordinary spaCy config: its
`[corpora]` are `clinkd.DistillationCorpus.v1` readers (examples that carry
cached teacher logits), `[components.clinkd_ner]` sets `kd_alpha` and
`kd_temperature`, and `[training]` chooses optimizer, batcher, steps,
evaluation, patience and logger as for `spacy train`. `distill` initializes
the student as `spacy train` does (`init_nlp`) and runs spaCy's own
`train_while_improving`, logger and checkpointing (`model-last` saved with
the optimizer's parameter averages, also when a run dies). The one part of its
own is the dev evaluation: spaCy's entity scores plus student–teacher KL
(T = 1), argmax agreement and the teacher's tag accuracy.
"""
import shutil
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from confection import Config
from spacy.language import Language
from spacy.schemas import ConfigSchemaTraining
from spacy.training import Example
from spacy.training.initialize import init_nlp
from spacy.training.loop import (
    DIR_MODEL_BEST,
    DIR_MODEL_LAST,
    create_before_to_disk_callback,
    create_train_batches,
    train_while_improving,
    update_meta,
)
from spacy.util import fix_random_seed, load_config, registry, resolve_dot_names
from wasabi import Printer

from ..errors import ClinkdError, Errors
from ..evaluation.agreement import argmax_agreement, tag_accuracy
from ..gold_training import TRAIN_SUMMARY, best_performance, write_train_summary
from ..losses import check_distillation_settings
from ..pipeline.ner import TEACHER_LOGITS, ClinkdNER
from ..vcs import TRAINED_AT, git_commit
from .corpus import DistillationCorpus

LOG_FILE = "distill_log.jsonl"
# What a distillation writes into its output directory (and --force replaces).
OUTPUTS = (DIR_MODEL_BEST, DIR_MODEL_LAST, LOG_FILE, TRAIN_SUMMARY)


def load_layered_config(path: Path, seen: tuple[Path, ...] = ()) -> Config:
    """A distillation config, laid over the one its `paths.distill_config`
    names, if any (e.g. configs/distill_ensemble.cfg over configs/distill.cfg):
    what the upper file sets wins, and a section whose registered function
    it changes is replaced whole (confection's merge). A cycle raises E372."""
    if path.resolve() in seen:
        raise ClinkdError(Errors.E372.format(path=path, chain=" -> ".join(str(p) for p in seen)))
    config = load_config(path, interpolate=False)
    base = config.get("paths", {}).get("distill_config")
    if not base:
        return config
    return load_layered_config(Path(base), (*seen, path.resolve())).merge(config)


def load_distill_config(path: str | Path, overrides: dict[str, Any] | None = None) -> Config:
    """The distillation config (with the configs it is laid over, see
    `load_layered_config`) laid over the student's training config
    (`paths.student_config`), then `--section.key value` overrides applied to
    the result (not interpolated, so it is saved as written).

    path (Union[str, Path]): the distillation config (configs/distill.cfg).
    overrides (Optional[Dict[str, Any]]): dotted keys → values.
    RETURNS (Config): a complete spaCy training config.
    """
    overrides = dict(overrides or {})
    overlay = load_layered_config(Path(path))
    if "paths.student_config" in overrides:
        student_config = overrides["paths.student_config"]
    else:
        student_config = overlay.interpolate()["paths"].get("student_config")
    if not student_config:
        raise ClinkdError(Errors.E362)
    merged = load_config(Path(student_config), interpolate=False).merge(overlay)
    return Config().from_str(merged.to_str(), overrides=overrides, interpolate=False)


def check_settings(config: Config) -> None:
    """Refuse settings that would fail (or never stop) only after the output
    directory was prepared: α, T (and an ensemble teacher's T), the step
    budget, the evaluation frequency and the corpus readers."""
    resolved = config.interpolate()
    T = resolved["training"]
    sections = {name: resolved["corpora"][T[name].split(".", 1)[1]] for name in ("train_corpus", "dev_corpus")}
    for name, section in sections.items():
        if section.get("@readers") != "clinkd.DistillationCorpus.v1":
            raise ClinkdError(Errors.E367.format(name=T[name], cls=section.get("@readers")))
    settings = resolved["components"][sections["train_corpus"].get("component", "clinkd_ner")]
    check_distillation_settings(alpha=float(settings["kd_alpha"]), temperature=float(settings["kd_temperature"]))
    for section in sections.values():
        # An ensemble's targets are means at its own T (E370 if not the student's).
        teacher = section.get("teacher") or {}
        if "temperature" in teacher and float(teacher["temperature"]) != float(settings["kd_temperature"]):
            raise ClinkdError(
                Errors.E370.format(teacher=teacher["temperature"], student=settings["kd_temperature"])
            )
    if int(T["max_steps"]) <= 0 and int(T["max_epochs"]) <= 0:
        raise ClinkdError(Errors.E358)
    if int(T["eval_frequency"]) < 1:
        raise ClinkdError(Errors.E116.format(name="training.eval_frequency", value=T["eval_frequency"]))


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


class DevEvaluation:
    """spaCy's evaluation callback (`() -> (score, scores)`) plus the
    teacher's side: `kd_kl` (student–teacher KL at T = 1 per token),
    `kd_agreement` (share of tokens where both pick the same tag) and
    `teacher_tag_acc` (the teacher's token accuracy against gold, constant).

    nlp (Language): the student.
    dev_corpus (DistillationCorpus): dev examples with teacher logits.
    weights (Dict[str, Optional[float]]): `[training.score_weights]`.
    component (str): the student component.
    """

    def __init__(
        self, nlp: Language, dev_corpus: DistillationCorpus, weights: dict[str, float | None], *, component: str
    ) -> None:
        self.nlp = nlp
        self.dev_corpus = dev_corpus
        self.weights = {key: value for key, value in weights.items() if value is not None}
        self.component = component
        self._examples: list[Example] | None = None
        self.teacher_accuracy: float | None = None

    def examples(self) -> list[Example]:
        """The dev examples, read (and their targets looked up) once."""
        if self._examples is None:
            self._examples = list(self.dev_corpus(self.nlp))
            ner: ClinkdNER = self.nlp.get_pipe(self.component)
            covered = [eg for eg in self._examples if TEACHER_LOGITS in eg.predicted.user_data]
            gold = [ner.scheme.ids_from_biluo(eg.get_aligned_ner()) for eg in covered]
            if covered:
                self.teacher_accuracy = tag_accuracy(
                    [eg.predicted.user_data[TEACHER_LOGITS] for eg in covered],
                    [ids for ids, _ in gold],
                    [mask for _, mask in gold],
                )
        return self._examples

    def __call__(self) -> tuple[float, dict[str, Any]]:
        examples = self.examples()
        scores = self.nlp.evaluate(examples)
        scores.update(self.teacher_scores(examples))
        scores = {key: value for key, value in scores.items() if value is not None}
        weighted = sum(float(scores.get(key, 0.0)) * weight for key, weight in self.weights.items())
        return weighted, scores

    def teacher_scores(self, examples: Iterable[Example]) -> dict[str, float | None]:
        covered = [eg for eg in examples if TEACHER_LOGITS in eg.predicted.user_data]
        result: dict[str, float | None] = {"kd_kl": None, "kd_agreement": None, "teacher_tag_acc": None}
        if not covered:
            return result
        ner: ClinkdNER = self.nlp.get_pipe(self.component)
        teacher = [eg.predicted.user_data[TEACHER_LOGITS] for eg in covered]
        student = [ner.model.ops.to_numpy(s) for s in ner.predict([eg.predicted for eg in covered])]
        result["kd_kl"], _ = ner.get_teacher_student_loss(teacher, student, temperature=1.0)
        result["kd_agreement"] = argmax_agreement(student, teacher)
        result["teacher_tag_acc"] = self.teacher_accuracy
        return result


def distill(
    config: Config,
    output_path: str | Path,
    *,
    force: bool = False,
    stdout: IO | None = None,
    stderr: IO | None = None,
) -> dict[str, Any]:
    """Distill the teacher into the student, as configured: initialize the
    student like `spacy train`, then train it with spaCy's loop on examples
    that carry teacher logits.

    Writes `model-best` (best dev score), `model-last` (with parameter
    averages, also when the run dies) and the logger's `distill_log.jsonl`
    into `output_path`.

    config (Config): a config from `load_distill_config`.
    output_path (Union[str, Path]): output directory; must be empty unless `force`.
    force (bool): replace earlier outputs in `output_path`.
    stdout (Optional[IO]): where the table goes (default: sys.stdout).
    stderr (Optional[IO]): where warnings go (default: sys.stderr).
    RETURNS (Dict[str, Any]): best_dev scores, best_step, steps, log records
        (one per evaluation), kd settings and target counts.
    """
    output = Path(output_path)
    check_settings(config)
    prepare_output(output, force=force, printer=Printer())
    config = Config(config)
    logger = config["training"]["logger"]
    if "output_file" in logger and logger["output_file"] is None:
        logger["output_file"] = str(output / LOG_FILE)
    nlp = init_nlp(config, use_gpu=-1)
    return train_student(nlp, output, stdout=stdout, stderr=stderr)


def train_student(
    nlp: Language, output_path: Path, *, stdout: IO | None = None, stderr: IO | None = None
) -> dict[str, Any]:
    """spaCy's `train`, with `DevEvaluation` as the evaluation callback.

    nlp (Language): the initialized student with its full config.
    output_path (Path): where model-best and model-last go.
    RETURNS (Dict[str, Any]): see `distill`.
    """
    config = nlp.config.interpolate()
    if config["training"]["seed"] is not None:
        fix_random_seed(config["training"]["seed"])
    T = registry.resolve(config["training"], schema=ConfigSchemaTraining)
    train_corpus, dev_corpus = resolve_dot_names(config, [T["train_corpus"], T["dev_corpus"]])
    for name, corpus in ((T["train_corpus"], train_corpus), (T["dev_corpus"], dev_corpus)):
        if not isinstance(corpus, DistillationCorpus):
            raise ClinkdError(Errors.E367.format(name=name, cls=type(corpus).__name__))
    component = train_corpus.component
    optimizer = T["optimizer"]
    # the code the weights come from, saved with them (the model card states it beside its own commit)
    nlp.meta[TRAINED_AT] = git_commit(Path.cwd())
    before_to_disk = create_before_to_disk_callback(T["before_to_disk"])
    evaluation = DevEvaluation(nlp, dev_corpus, T["score_weights"], component=component)
    steps = train_while_improving(
        nlp,
        optimizer,
        create_train_batches(nlp, train_corpus, T["batcher"], T["max_epochs"]),
        evaluation,
        dropout=T["dropout"],
        accumulate_gradient=T["accumulate_gradient"],
        patience=T["patience"],
        max_steps=T["max_steps"],
        eval_frequency=T["eval_frequency"],
        exclude=T["frozen_components"],
        annotating_components=T["annotating_components"],
        before_update=T["before_update"],
    )

    def save_checkpoint(is_best: bool) -> None:
        with nlp.use_params(optimizer.averages):
            before_to_disk(nlp).to_disk(output_path / DIR_MODEL_LAST)
        if is_best:
            if (output_path / DIR_MODEL_BEST).exists():
                shutil.rmtree(output_path / DIR_MODEL_BEST)
            shutil.copytree(output_path / DIR_MODEL_LAST, output_path / DIR_MODEL_BEST)

    log_step, finalize_logger = T["logger"](nlp, stdout or sys.stdout, stderr or sys.stderr)
    log: list[dict[str, Any]] = []
    step = 0
    try:
        for _, info, is_best in steps:
            step = info["step"]
            if is_best is not None:
                update_meta(T, nlp, info)
                save_checkpoint(is_best)
                log.append(_record(info))
            log_step(info if is_best is not None else None)
    finally:
        finalize_logger()
        save_checkpoint(False)
    # spaCy's loop rewrites model-best on every evaluation that equals the best
    # score so far, so model-best holds the last of tied best evaluations.
    best = max(log, key=lambda r: (r["score"], r["step"])) if log else None
    ner: ClinkdNER = nlp.get_pipe(component)
    return {
        "best_dev": best_performance(output_path),
        "best_step": best["step"] if best else None,
        "steps": step,
        "log": log,
        "temperature": ner.cfg["kd_temperature"],
        "alpha": ner.cfg["kd_alpha"],
        "teacher_identity": train_corpus.teacher.identity,
        "targets": {"train": train_corpus.counts(), "dev": dev_corpus.counts()},
    }


def _record(info: dict[str, Any]) -> dict[str, Any]:
    """One evaluation as a plain record: step, epoch, score, the float
    scores and the losses summed since the previous evaluation."""
    scores = {k: v for k, v in (info["other_scores"] or {}).items() if isinstance(v, (int, float))}
    return {
        "step": info["step"],
        "epoch": info["epoch"],
        "score": float(info["score"]),
        "seconds": info["seconds"],
        **scores,
        "losses": dict(info["losses"]),
    }


def precompute_targets(config: Config) -> dict[str, Any]:
    """Fill the target cache for the train (gold and transfer) and dev docs
    of a distillation config: what `distill` would compute first.

    RETURNS (Dict[str, Any]): the counts of both readers.
    """
    check_settings(config)
    nlp = init_nlp(Config(config), use_gpu=-1)
    resolved = nlp.config.interpolate()
    T = resolved["training"]
    counts = {}
    for key, name in (("train", T["train_corpus"]), ("dev", T["dev_corpus"])):
        (corpus,) = resolve_dot_names(resolved, [name])
        for _ in corpus(nlp):
            pass
        counts[key] = corpus.counts()
    return counts


def write_summary(
    output_path: Path,
    *,
    config_path: Path,
    overrides: dict[str, Any],
    seconds: float,
    result: dict[str, Any],
) -> Path:
    """Write OUTPUT/train_summary.json in the shape `train` writes it, plus
    the distillation details (best step, temperature, α, target counts)."""
    return write_train_summary(
        Path(output_path) / TRAIN_SUMMARY,
        config_path=config_path,
        overrides=overrides,
        seconds=seconds,
        best_dev=result["best_dev"],
        extra={key: result[key] for key in ("best_step", "steps", "temperature", "alpha", "targets")},
    )
