"""The page ships in the wheel: setup.py's package_data, checked by building
a wheel from a copy of the package (not in the checkout, which others use)."""
import shutil
import subprocess
import sys
import zipfile

import pytest

from tests.util import ROOT


@pytest.mark.slow
def test_the_wheel_holds_the_page(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    for name in ("setup.py", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "spacy_clinkd", source / "spacy_clinkd", ignore=shutil.ignore_patterns("__pycache__"))
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path / "dist"), "."],
        cwd=source, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr
    (wheel,) = (tmp_path / "dist").glob("spacy_clinkd-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    static = sorted(p.name for p in (ROOT / "spacy_clinkd" / "serve" / "static").iterdir())
    assert {"app.js", "index.html", "style.css"} <= set(static)
    assert {f"spacy_clinkd/serve/static/{name}" for name in static} <= names
