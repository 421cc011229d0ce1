"""The commands users and project.yml call: names, arguments and options stay
as they are when code moves between cli/ and the package."""
import pytest
import typer

from spacy_clinkd.cli import app
from spacy_clinkd.cli._app import BUILD_PANEL, USER_PANEL, parse_labels
from spacy_clinkd.errors import ClinkdError

# command → (arguments, options); the distillation commands are checked by name only.
COMMANDS = {
    "fetch-assets": (["project_dir"], ["--download", "--mirror", "--only", "-m"]),
    "benchmark-compare": (["data_path"], ["--batch-sizes", "--gold", "--latency-docs", "--limit", "--long-doc-words", "--markdown", "--output", "--passes", "--pipeline", "--plot", "--reference", "--threads", "--warmup", "-o", "-p"]),
    "benchmark": (
        ["model", "data_path"],
        ["--batch-size", "--latency-docs", "--limit", "--markdown", "--output", "--repeats", "--threads", "--warmup", "-o"],
    ),
    "convert-brat": (["brat_dir", "output_dir"], ["--aux-labels", "--context-labels", "--labels", "--limit", "--split", "--strict"]),
    "convert-conll": (["input_file", "output_file"], ["--labels", "--limit", "--n-sents", "--report"]),
    "convert-pubtator": (["input_file", "output_file"], ["--labels", "--limit", "--report", "--strict"]),
    "evaluate": (
        ["model", "data_path"],
        ["--batch-size", "--bootstrap", "--label-map", "--labels", "--markdown", "--output", "--title", "-o"],
    ),
    "hostile-text": (["model"], ["--batch-size", "--inference", "--output", "-o"]),
    "transfer-set": (["output"], ["--licence", "--max-docs", "--report", "--seed", "--source"]),
    "model-card": (
        ["output_dir"],
        [
            "--benchmark", "--dev", "--encoder", "--external", "--external-name", "--facts", "--fragmentation",
            "--meta", "--project", "--speed-baseline", "--speed-pipeline", "--speed-teacher", "--teacher", "--test",
            "--transfer-report",
        ],
    ),
    "build-student": (["teacher", "output_dir"], ["--layers"]),
    "fetch-encoder": (["alias"], ["--cache", "--download", "--force", "--parts"]),
    "train": (["config_path"], ["--gpu-id", "--output", "--summary", "-g", "-o"]),
    "extend-vocab": (
        ["source", "output_dir"],
        [
            "--batch-size", "--clinical", "--eval-docs", "--general", "--init", "--labels", "--min-count",
            "--mlm-lr", "--mlm-steps", "--objective", "--progress", "--report-dir", "--seed", "--size",
            "--smoothing", "-c", "-g", "-k",
        ],
    ),
    "vocab-report": (["old_model", "new_model"], ["--eval-docs", "--labels", "--report-dir"]),
    "annotate": (
        ["model", "input_path", "output"],
        [
            "--batch-size", "--docbin", "--engine", "--format", "--id-column", "--inference", "--max-chars",
            "--n-process", "--partition-size", "--progress", "--retry-failed", "--scheduler", "--summary",
            "--text-column", "--window-chars", "--workers",
        ],
    ),
    "assemble": (["model", "output"], ["--after", "--assertion", "--inference", "--int8", "--keep-fp32"]),
    "train-assertion": (
        ["data"],
        [
            "--batch-size", "--encoder", "--epochs", "--keep-rules", "--learn-rate", "--linear-l2", "--linear-window",
            "--model", "--output", "--overrides", "--rule-input", "--seed", "--window",
        ],
    ),
    "assertion-cv": (
        ["data"],
        [
            "--baselines", "--batch-size", "--encoder", "--encoder-candidate", "--epochs", "--fold-seed", "--hybrid",
            "--k", "--keep-rules", "--learn-rate", "--linear", "--linear-l2", "--linear-window", "--markdown",
            "--max-length", "--name", "--output", "--overrides", "--rule-input", "--rules-only", "--seed", "--window",
        ],
    ),
    "serve": (["model"], ["--api-key", "--batch-size", "--host", "--inference", "--max-chars", "--port"]),
}
DISTILLATION_COMMANDS = ["distill", "teacher-targets", "distill-search"]
# Commands that run a finished pipeline; every other one is a build step.
USER_COMMANDS = ["annotate", "benchmark", "benchmark-compare", "evaluate", "hostile-text", "serve"]


@pytest.fixture(scope="module")
def commands():
    return typer.main.get_command(app).commands


def test_command_names(commands):
    assert sorted(commands) == sorted([*COMMANDS, *DISTILLATION_COMMANDS])


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_command_arguments_and_options(commands, name):
    params = commands[name].params
    arguments = [p.name for p in params if p.param_type_name == "argument"]
    options = sorted(opt for p in params if p.param_type_name == "option" for opt in p.opts)
    assert (arguments, options) == COMMANDS[name]


def test_help_panels(commands):
    panels = {name: command.rich_help_panel for name, command in commands.items()}
    assert sorted(name for name, panel in panels.items() if panel == USER_PANEL) == USER_COMMANDS
    assert {panel for name, panel in panels.items() if name not in USER_COMMANDS} == {BUILD_PANEL}


def test_help_texts_name_the_package_values(commands):
    # cli/ writes these out so that --help imports neither spaCy nor torch
    from spacy_clinkd.benchmark.engine import parse_pipeline_spec
    from spacy_clinkd.wordpiece.embeddings import INIT_OPTIONS
    from spacy_clinkd.wordpiece.text_specs import DEFAULT_CLINICAL, DEFAULT_GENERAL

    helps = {
        (name, opt): param.help for name in ("benchmark-compare", "extend-vocab")
        for param in commands[name].params for opt in param.opts
    }
    assert helps["extend-vocab", "--clinical"].endswith(". Default: " + " ".join(DEFAULT_CLINICAL))
    assert helps["extend-vocab", "--general"].endswith(". Default: " + " ".join(DEFAULT_GENERAL))
    assert helps["extend-vocab", "--init"] == f"New embedding rows: {' | '.join(INIT_OPTIONS)}"
    pipeline_help = helps["benchmark-compare", "--pipeline"]
    assert "MODEL@int8 (or @fp32)" in pipeline_help
    assert parse_pipeline_spec("a=MODEL@int8").precision == "int8"
    assert parse_pipeline_spec("a=MODEL@fp32").precision == "fp32"


def test_parse_labels():
    assert parse_labels(" DISEASE, SYMPTOM,,") == ["DISEASE", "SYMPTOM"]
    assert parse_labels(None) is None
    with pytest.raises(ClinkdError, match="--labels needs at least one label"):
        parse_labels(" , ")
