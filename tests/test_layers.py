"""The import layers of STYLE.md, read from the source: an import only points
down (or sideways, within one layer), nothing but `__main__` imports `cli/`,
and scripts/ import the package, never `cli/`. Function-local imports count
like any other: one may not reach a higher layer either."""
import ast
from pathlib import Path

import pytest

from tests.util import ROOT, imports_in, package_parts_of

PACKAGE = ROOT / "spacy_clinkd"
# Top-level module or subpackage of spacy_clinkd → layer (higher imports lower).
LAYERS = {
    "about": 0, "errors": 0, "losses": 0, "paths": 0, "tokenizer": 0, "vcs": 0,
    "assets": 1, "corpora": 1, "derived_assets": 1, "models": 1,
    "pipeline": 2,
    # scores only, as plain data: nothing that measures speed, trains or writes reports
    "evaluation": 3,
    # `report` writes what `evaluation` scores (tables, figures, the model card); benchmark and
    # wordpiece use its tables and figures
    "benchmark": 4, "distillation": 4, "gold_training": 4, "report": 4, "wordpiece": 4,
    "annotate": 5, "serve": 5,
    "cli": 6,
    "__main__": 7,
}
# The training side: the annotate path (and the pipeline) must never import it.
TRAINING_SIDE = {"distillation", "gold_training", "wordpiece"}


def unit_of(path: Path) -> str:
    """The top-level module or subpackage of a file in spacy_clinkd."""
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def imported_units(path: Path) -> list[tuple[int, str]]:
    """(line, unit of spacy_clinkd) of every import in a file, at any depth."""
    return units_in(path.read_text(encoding="utf8"), package_parts_of(path))


def units_in(source: str, package_parts: tuple[str, ...]) -> list[tuple[int, str]]:
    """(line, unit of spacy_clinkd) of every import in `source`, a module of
    the package `package_parts` (e.g. ("spacy_clinkd", "pipeline"))."""
    found = []
    for line, name in imports_in(ast.parse(source), package_parts):
        parts = name.split(".")
        if parts[0] == "spacy_clinkd" and len(parts) > 1 and (line, parts[1]) not in found:
            found.append((line, parts[1]))
    return found


PACKAGE_FILES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE)
SCRIPT_FILES = sorted((ROOT / "scripts").glob("*.py"))


def test_every_unit_has_a_layer():
    units = {unit_of(p) for p in PACKAGE_FILES}
    assert units <= set(LAYERS), f"add to LAYERS: {sorted(units - set(LAYERS))}"


@pytest.mark.parametrize("path", PACKAGE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_package_imports_point_down(path):
    unit = unit_of(path)
    layer = LAYERS.get(unit)
    if layer is None:
        pytest.skip(f"{unit} has no layer (test_every_unit_has_a_layer fails)")
    upward = [
        f"line {line}: {unit} (layer {layer}) imports {target} (layer {LAYERS.get(target)})"
        for line, target in imported_units(path)
        if target != unit and LAYERS.get(target, 0) > layer
    ]
    assert not upward, "\n".join(upward)


@pytest.mark.parametrize("path", SCRIPT_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_scripts_import_the_package_not_cli(path):
    targets = {target for _, target in imported_units(path)}
    assert "cli" not in targets and "__main__" not in targets


def test_the_reader_sees_relative_and_local_imports():
    # A reader that missed imports would pass every test above.
    source = (
        "import spacy_clinkd.models.encoder\n"
        "from . import tags\n"
        "from ..losses import soft_target_kl\n"
        "def f():\n"
        "    from ..distillation.losses import combine_terms\n"
        "    from spacy_clinkd.cli import app\n"
    )
    found = units_in(source, ("spacy_clinkd", "pipeline"))
    assert found == [(1, "models"), (2, "pipeline"), (3, "losses"), (5, "distillation"), (6, "cli")]


def test_the_old_pipeline_to_distillation_arrow_is_refused():
    # feced27's pipeline/ner.py reached the training side from inside a method.
    source = "def distill(self):\n    from ..distillation.losses import check_distillation_settings\n"
    found = units_in(source, ("spacy_clinkd", "pipeline"))
    assert [t for _, t in found if LAYERS[t] > LAYERS["pipeline"]] == ["distillation"]


@pytest.mark.parametrize(
    "path",
    [p for p in PACKAGE_FILES if unit_of(p) in ("annotate", "pipeline")],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_annotation_never_imports_the_training_side(path):
    assert not {target for _, target in imported_units(path)} & TRAINING_SIDE
