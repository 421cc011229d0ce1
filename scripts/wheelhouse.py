"""Build the spacy_clinkd wheel beside a packaged model's wheel, and check that
the model's requirement on spacy_clinkd is one this wheel satisfies.

    python scripts/wheelhouse.py packages/en_clinkd_ner-0.1.0/dist/en_clinkd_ner-0.1.0-py3-none-any.whl

`spacy package` writes the model's requirement on spacy-clinkd (the code of its
clinkd_ner and clinkd_assertion components) from the installed version. No
package index has spacy_clinkd, so the model's folder must hold its wheel: then
`pip install --find-links DIR en_clinkd_ner` resolves in a fresh environment
(spaCy, torch and the rest from the index). The wheel is built from a copy of
the sources, so no stale build/ folder of the checkout ends up in it.
"""
import shutil
import subprocess
import sys
import tempfile
import zipfile
from email.parser import Parser
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
# what setup.py reads: the code, its metadata sources, the licence it names
SOURCES = ("setup.py", "README.md", "LICENSE", "spacy_clinkd")


def wheel_metadata(wheel: Path) -> dict[str, list[str]]:
    """The METADATA fields of a wheel: field → values (Requires-Dist repeats)."""
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
        message = Parser().parsestr(archive.read(name).decode("utf8"))
    fields: dict[str, list[str]] = {}
    for key, value in message.items():
        fields.setdefault(key, []).append(value)
    return fields


def check_requirement(model_wheel: Path, code_wheel: Path) -> str:
    """Why the model wheel would not install with this code wheel, or "".

    model_wheel (Path): the wheel `spacy package` built.
    code_wheel (Path): the spacy_clinkd wheel.
    RETURNS (str): the problem; empty when the model requires the code wheel's
        distribution with a range its version is in.
    """
    code = wheel_metadata(code_wheel)
    name, version = code["Name"][0], Version(code["Version"][0])
    requires = [Requirement(r) for r in wheel_metadata(model_wheel).get("Requires-Dist", [])]
    ours = [r for r in requires if canonicalize_name(r.name) == canonicalize_name(name)]
    if not ours:
        return (
            f"{model_wheel.name} does not require {name}: it would install without the code of its "
            f"components and fail at spacy.load. Package it with spacy_clinkd installed (pip install -e .)."
        )
    wrong = [str(r) for r in ours if not r.specifier.contains(version, prereleases=True)]
    if wrong:
        return (
            f"{model_wheel.name} requires {', '.join(wrong)}, but the wheel built from this checkout is "
            f"{name} {version}. The installed spacy_clinkd's metadata is older than spacy_clinkd/about.py: "
            f"reinstall it (pip install -e .) and package again."
        )
    return ""


def build_code_wheel(dest: Path) -> Path:
    """Build the spacy_clinkd wheel into `dest` (replacing one of the same name)."""
    with tempfile.TemporaryDirectory() as tmp:
        source, out = Path(tmp) / "src", Path(tmp) / "out"
        source.mkdir()
        for name in SOURCES:
            path = ROOT / name
            if path.is_dir():
                shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
            else:
                shutil.copy2(path, source / name)
        done = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet", "-w", str(out), str(source)],
            capture_output=True, text=True,
        )
        if done.returncode != 0:
            sys.exit(f"pip wheel failed (exit code {done.returncode}):\n{done.stderr}")
        (wheel,) = out.glob("*.whl")
        dest.mkdir(parents=True, exist_ok=True)
        return Path(shutil.move(str(wheel), dest / wheel.name))


def main(model_wheel: Path) -> None:
    if not model_wheel.is_file():
        sys.exit(f"No model wheel at {model_wheel}: run spacy package first.")
    code_wheel = build_code_wheel(model_wheel.parent)
    problem = check_requirement(model_wheel, code_wheel)
    if problem:
        code_wheel.unlink()
        sys.exit(problem)
    model = model_wheel.name.split("-")[0]
    print(f"✔ {code_wheel} beside {model_wheel.name}")
    print(f"  install: pip install --find-links {model_wheel.parent} {model}")
    # RFC 2606's reserved domain: the meta's contact fields until the project has a public home
    fields = wheel_metadata(model_wheel)
    placeholders = [f"{key} {value}" for key in ("Home-page", "Author-email") for value in fields.get(key, []) if ".invalid" in value]
    if placeholders:
        print(f"⚠ placeholder contact in the model's meta ({'; '.join(placeholders)}): set url and email in the meta.json before publishing")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))
