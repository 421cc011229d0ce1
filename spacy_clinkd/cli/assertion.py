"""`python -m spacy_clinkd train-assertion` and `assertion-cv`: the learned assertion classifier."""
from pathlib import Path

import typer
from wasabi import msg

from ._app import BUILD_PANEL, app

DEFAULT_ENCODER = "training/assertion_encoder"


def _settings(epochs: int, learn_rate: float, batch_size: int, seed: int, window: int, rule_input: bool):
    from ..pipeline.assertion_training import TrainSettings

    return TrainSettings(
        epochs=epochs, learn_rate=learn_rate, batch_size=batch_size, seed=seed, window=window, rule_input=rule_input
    )


def _keep_rules(value: str) -> tuple[str, ...]:
    """The classes of a --keep-rules value, checked (exits with a message if one is not a class)."""
    from ..models.assertion_linear import check_keep_rules

    return _checked_classes(value, lambda classes: check_keep_rules(classes, "--keep-rules"))


def _overrides(value: str, keep_rules: tuple[str, ...]) -> tuple[str, ...]:
    """The classes of an --overrides value, checked against --keep-rules (exits with a message if wrong)."""
    from ..models.assertion_linear import check_overrides

    return _checked_classes(value, lambda classes: check_overrides(classes, keep_rules, "--overrides"))


def _checked_classes(value: str, check) -> tuple[str, ...]:
    """A comma-separated list of classes through `check`; exits with its message if it raises."""
    from ..errors import ClinkdError

    try:
        return check([c.strip() for c in value.split(",") if c.strip()])
    except ClinkdError as err:
        msg.fail(str(err), exits=1)


def _examples(data: list[Path], window: int, rule_input: bool, feature_window: int = 5):
    from ..corpora.docbins import read_docbin
    from ..corpora.spans import require_gold_assertions
    from ..pipeline.assertion_training import entity_examples
    from ..tokenizer import clinical_blank

    nlp = clinical_blank()  # the tokenizer, sentencizer and rules that `assemble` puts after the NER
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("clinkd_assertion")
    docs = []
    for path in data:
        part = read_docbin(path, nlp.vocab)
        require_gold_assertions(part, str(path))
        docs.extend(part)
    return docs, entity_examples(nlp, docs, window=window, rule_input=rule_input, feature_window=feature_window)


@app.command("train-assertion", rich_help_panel=BUILD_PANEL)
def train_assertion_cli(
    data: list[Path] = typer.Argument(..., help="Gold .spacy DocBins with assertions (e.g. train and dev)"),
    output: Path = typer.Option(..., "--output", help="Output folder of the trained classifier"),
    model: str = typer.Option(
        "encoder", "--model", help="'encoder' (fine-tune --encoder on marked contexts) or 'linear' (logistic regression on cue and context features)"
    ),
    encoder: str = typer.Option(DEFAULT_ENCODER, "--encoder", help="Encoder to fine-tune: local folder or alias"),
    epochs: int = typer.Option(3, "--epochs"),
    learn_rate: float = typer.Option(5e-5, "--learn-rate"),
    batch_size: int = typer.Option(16, "--batch-size"),
    seed: int = typer.Option(0, "--seed"),
    window: int = typer.Option(24, "--window", help="Context words on each side of an entity"),
    rule_input: bool = typer.Option(True, "--rule-input/--no-rule-input", help="Give the classifier the rules' verdict"),
    linear_window: int = typer.Option(5, "--linear-window", help="Linear model: context words on each side of an entity"),
    linear_l2: float = typer.Option(2.5e-4, "--linear-l2", help="Linear model: the L2 penalty λ"),
    keep_rules: str = typer.Option(
        "", "--keep-rules", help="Linear model: comma-separated classes where the rules' verdict stands (e.g. 'possible')"
    ),
    overrides: str = typer.Option(
        "", "--overrides", help="Linear model: comma-separated classes it may decide where --keep-rules keeps the rules' verdict (e.g. 'absent')"
    ),
) -> None:
    """Train the learned assertion classifier on gold entities (assemble --assertion FOLDER ships it)."""
    from collections import Counter

    from ..paths import check_output_dir
    from ..pipeline.assertion_training import LinearSettings, train_classifier, train_linear

    if model not in ("encoder", "linear"):
        msg.fail(f"--model must be 'encoder' or 'linear', not {model!r}", exits=1)
    keep = _keep_rules(keep_rules)
    over = _overrides(overrides, keep)
    if (keep or over) and model != "linear":
        msg.fail("--keep-rules and --overrides are settings of the linear model (--model linear)", exits=1)
    check_output_dir(output, inputs={f"data {i}": p for i, p in enumerate(data)})
    _, by_doc = _examples(data, window, rule_input, linear_window)
    examples = [e for doc in by_doc for e in doc]
    counts = Counter(e.gold for e in examples)
    msg.info(f"{len(examples)} gold entities from {len(by_doc)} docs: {dict(counts)}")
    if model == "linear":
        settings = LinearSettings(window=linear_window, l2=linear_l2, keep_rules=keep, overrides=over)
        classifier = train_linear(examples, settings)
        msg.text(f"{len(classifier.features)} features")
    else:
        classifier = train_classifier(
            encoder, examples, _settings(epochs, learn_rate, batch_size, seed, window, rule_input),
            log=lambda epoch, loss: msg.text(f"epoch {epoch + 1}: mean loss {loss:.4f}"),
        )
    classifier.save(output)
    msg.good(f"Assertion classifier ({model}) saved to {output}")


@app.command("assertion-cv", rich_help_panel=BUILD_PANEL)
def assertion_cv_cli(
    data: list[Path] = typer.Argument(..., help="Gold .spacy DocBins with assertions (all of them: the folds cut them)"),
    output: Path = typer.Option(..., "--output", help="Output JSON"),
    markdown: Path = typer.Option(None, "--markdown", help="Also write the CV table as markdown"),
    k: int = typer.Option(5, "--k", help="Number of document-level folds"),
    fold_seed: int = typer.Option(0, "--fold-seed", help="Seed of the folds"),
    encoder: str = typer.Option(DEFAULT_ENCODER, "--encoder", help="The learned candidate's encoder"),
    rules_only: bool = typer.Option(False, "--rules-only", help="Score the rules only (no training)"),
    epochs: int = typer.Option(3, "--epochs"),
    learn_rate: float = typer.Option(5e-5, "--learn-rate"),
    batch_size: int = typer.Option(16, "--batch-size"),
    seed: int = typer.Option(0, "--seed", help="Training seed"),
    window: int = typer.Option(24, "--window", help="Context words on each side of an entity"),
    rule_input: bool = typer.Option(True, "--rule-input/--no-rule-input", help="Give the classifier the rules' verdict"),
    max_length: int = typer.Option(96, "--max-length", help="Wordpieces per entity input, at most"),
    name: str = typer.Option("learned", "--name", help="The learned candidate's name in the table"),
    linear: bool = typer.Option(True, "--linear/--no-linear", help="Score the linear classifier (fitted per fold, seconds)"),
    encoder_candidate: bool = typer.Option(
        True, "--encoder-candidate/--no-encoder-candidate", help="Score the encoder classifier (fine-tuned per fold, about an hour)"
    ),
    linear_window: int = typer.Option(5, "--linear-window", help="Linear model: context words on each side of an entity"),
    linear_l2: float = typer.Option(2.5e-4, "--linear-l2", help="Linear model: the L2 penalty λ"),
    hybrid: bool = typer.Option(
        True, "--hybrid/--no-hybrid", help="Score the linear classifier that leaves --keep-rules to the rules (candidate 'hybrid')"
    ),
    keep_rules: str = typer.Option("possible", "--keep-rules", help="The hybrid candidate's classes where the rules' verdict stands"),
    overrides: str = typer.Option(
        "", "--overrides", help="The hybrid candidate's classes it may decide where the rules' verdict is kept (e.g. 'absent', as shipped)"
    ),
    baselines: Path = typer.Option(
        None, "--baselines", help="Also tabulate the candidates of this JSON (scripts/assertion_baselines.py), if its folds are these"
    ),
) -> None:
    """Cross-validate the assertion candidates (rules frozen; the linear classifier, the linear classifier that leaves --keep-rules to the rules ('hybrid') and the encoder classifier, each fitted per fold) over document folds."""
    import srsly

    from ..evaluation.assertion_cv import run_assertion_cv
    from ..evaluation.folds import doc_id
    from ..paths import check_report_outputs, write_text_atomic
    from ..report.scores import cv_markdown

    check_report_outputs(output, markdown, inputs={f"data {i}": p for i, p in enumerate(data)})
    keep = _keep_rules(keep_rules) if hybrid and not rules_only else ()
    if hybrid and not rules_only and not keep:
        msg.fail("--keep-rules is empty: the hybrid candidate would be the linear one (--no-hybrid to skip it)", exits=1)
    over = _overrides(overrides, keep) if hybrid and not rules_only else ()
    if baselines is not None and not baselines.is_file():
        msg.fail(f"--baselines: no such file: {baselines}", exits=1)
    from dataclasses import replace

    from ..pipeline.assertion_training import LinearSettings

    docs, by_doc = _examples(data, window, rule_input, linear_window)
    settings = replace(_settings(epochs, learn_rate, batch_size, seed, window, rule_input), max_length=max_length)
    result = run_assertion_cv(
        by_doc, [doc_id(d, i) for i, d in enumerate(docs)], k=k, seed=fold_seed,
        encoder=None if rules_only or not encoder_candidate else encoder, settings=settings, name=name, log=msg.text,
        linear=LinearSettings(window=linear_window, l2=linear_l2) if linear and not rules_only else None,
        hybrid=(
            LinearSettings(window=linear_window, l2=linear_l2, keep_rules=keep, overrides=over)
            if hybrid and not rules_only else None
        ),
    )
    if baselines is not None:
        from ..evaluation.assertion_cv import add_candidates

        add_candidates(result, srsly.read_json(baselines), source=baselines)
    write_text_atomic(output, srsly.json_dumps(result, indent=2) + "\n")
    table = cv_markdown(result)
    if markdown is not None:
        write_text_atomic(markdown, table)
    msg.good(f"CV scores written to {output}")
    print(table)
