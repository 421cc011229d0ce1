"""scripts/wheelhouse.py: the spacy_clinkd wheel beside the model's, and the
model's requirement on it checked against the wheel built, so that
`pip install --find-links DIR en_clinkd_ner` resolves in a fresh environment."""
import importlib.util
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from spacy_clinkd.about import __version__
from tests.util import ROOT

SCRIPT = ROOT / "scripts" / "wheelhouse.py"
_spec = importlib.util.spec_from_file_location("wheelhouse", SCRIPT)
wheelhouse = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(wheelhouse)


def fake_wheel(folder: Path, name: str, version: str, requires: list[str] = ()) -> Path:
    """A wheel holding only its METADATA, as much as the check reads."""
    stem = f"{name.replace('-', '_')}-{version}"
    path = folder / f"{stem}-py3-none-any.whl"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    metadata += "".join(f"Requires-Dist: {r}\n" for r in requires)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{stem}.dist-info/METADATA", metadata)
    return path


@pytest.mark.parametrize("requirement", ["spacy-clinkd<0.2.0,>=0.1.0", "spacy_clinkd>=0.1.0,<0.2.0", "Spacy.Clinkd==0.1.0"])
def test_a_requirement_the_wheel_satisfies_passes(tmp_path, requirement):
    # spacy package writes the installed distribution's name; pip compares names normalised
    model = fake_wheel(tmp_path, "en_clinkd_ner", "0.1.0", ["spacy<3.9.0,>=3.8.0", requirement])
    code = fake_wheel(tmp_path, "spacy-clinkd", "0.1.0")
    assert wheelhouse.check_requirement(model, code) == ""


def test_a_range_the_wheel_is_outside_is_named(tmp_path):
    # an editable install's metadata keeps the version it was installed at
    model = fake_wheel(tmp_path, "en_clinkd_ner", "0.1.0", ["spacy-clinkd<0.2.0,>=0.1.0"])
    code = fake_wheel(tmp_path, "spacy-clinkd", "0.2.0")
    problem = wheelhouse.check_requirement(model, code)
    assert "requires spacy-clinkd<0.2.0,>=0.1.0" in problem and "spacy-clinkd 0.2.0" in problem
    assert "pip install -e ." in problem


def test_a_model_without_the_requirement_is_refused(tmp_path):
    model = fake_wheel(tmp_path, "en_clinkd_ner", "0.1.0", ["spacy<3.9.0,>=3.8.0", "spacy-clinkd-extras>=0.1"])
    code = fake_wheel(tmp_path, "spacy-clinkd", "0.1.0")
    assert "does not require spacy-clinkd" in wheelhouse.check_requirement(model, code)


def run_script(model: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), str(model)], capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_the_code_wheel_is_built_beside_the_model(tmp_path):
    model = fake_wheel(tmp_path, "en_clinkd_ner", "0.1.0", ["spacy-clinkd<0.2.0,>=0.1.0"])
    done = run_script(model)
    assert done.returncode == 0, done.stderr
    code = tmp_path / f"spacy_clinkd-{__version__}-py3-none-any.whl"
    names = zipfile.ZipFile(code).namelist()
    assert "spacy_clinkd/pipeline/ner.py" in names and not any("__pycache__" in n for n in names)
    assert f"pip install --find-links {tmp_path} en_clinkd_ner" in done.stdout


@pytest.mark.slow
def test_an_unsatisfied_requirement_fails_and_leaves_no_wheel(tmp_path):
    model = fake_wheel(tmp_path, "en_clinkd_ner", "0.1.0", ["spacy-clinkd>=99"])
    done = run_script(model)
    assert done.returncode != 0
    assert "requires spacy-clinkd>=99" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [model.name]
