"""Where a packaged model came from, from what is cheap and reliable to read
when its card is written: the git commit of the project, the date, the seeds
of the saved pipeline configs, and the MD5s of the data assets.

The data checksums come from the project's `project.lock` when there is one
(what `spacy project run` recorded for the assets each command read, at the
time it ran), compared with the checksums pinned in `project.yml`; without a
lock, from the pins alone, for the assets some command of `project.yml`
reads (those pins are what `fetch-data` verifies, not a record of a run).
"""
from __future__ import annotations

import datetime
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..vcs import TRAINED_AT, git_commit

ASSETS_DIR = "assets/"
VAR = re.compile(r"\$\{vars\.([A-Za-z0-9_]+)\}")


def build_date() -> str:
    """RETURNS (str): today's date (UTC, ISO), or that of SOURCE_DATE_EPOCH when set
    (reproducible builds)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        moment = datetime.datetime.fromtimestamp(int(epoch), tz=datetime.timezone.utc)
    else:
        moment = datetime.datetime.now(tz=datetime.timezone.utc)
    return moment.date().isoformat()


def config_seeds(pipeline_dir: str | Path) -> dict[str, int] | None:
    """The seeds of a saved pipeline's config: `[system] seed` and `[training] seed`.

    RETURNS (Optional[Dict[str, int]]): {"system": int, "training": int} (those
        present); None when there is no config or it cannot be read.
    """
    from spacy.util import load_config

    path = Path(pipeline_dir) / "config.cfg"
    if not path.is_file():
        return None
    try:
        config = load_config(path, interpolate=True)
    except Exception:  # a config that does not interpolate states no seed we can trust
        return None
    seeds = {}
    for section in ("system", "training"):
        seed = (config.get(section) or {}).get("seed")
        if isinstance(seed, int) and not isinstance(seed, bool):
            seeds[section] = seed
    return seeds


def _read_yaml(path: Path) -> Any:
    import srsly

    try:
        return srsly.read_yaml(path)
    except (OSError, ValueError):
        return None


def _substitute(text: str, variables: Mapping[str, Any]) -> str:
    return VAR.sub(lambda m: str(variables.get(m.group(1), m.group(0))), text)


def _overlaps(dep: str, dest: str) -> bool:
    """Whether a command reading `dep` reads (part of) the asset `dest`."""
    dep, dest = dep.rstrip("/"), dest.rstrip("/")
    return dep == dest or dest.startswith(dep + "/") or dep.startswith(dest + "/")


def data_checksums(project_dir: str | Path) -> dict[str, Any] | None:
    """The MD5s of the data assets the project's commands read (module docstring).

    project_dir (Union[str, Path]): the folder of project.yml (and project.lock).
    RETURNS (Optional[Dict[str, Any]]): `{"source": "project.lock" | "project.yml",
        "assets": [{"path", "md5", "pinned", "commands"}]}`, sorted by path; with
        the lock, `md5` is what was read and `pinned` the project.yml checksum
        of that path (None if it pins none); without, `md5` is the pin. None
        when neither file can be read.
    """
    project_dir = Path(project_dir)
    project = _read_yaml(project_dir / "project.yml") if (project_dir / "project.yml").is_file() else None
    project = project if isinstance(project, dict) else {}
    pins = {
        str(a["dest"]): a.get("checksum")
        for a in project.get("assets") or []
        if isinstance(a, dict) and a.get("dest")
    }
    lock = _read_yaml(project_dir / "project.lock") if (project_dir / "project.lock").is_file() else None
    rows: dict[tuple[str, str | None], list[str]] = {}
    if isinstance(lock, dict) and lock:
        for command, entry in lock.items():
            for dep in (entry or {}).get("deps") or []:
                path = str(dep.get("path", ""))
                if path.startswith(ASSETS_DIR):
                    rows.setdefault((path, dep.get("md5")), []).append(str(command))
        assets = [
            {"path": path, "md5": md5, "pinned": pins.get(path), "commands": commands}
            for (path, md5), commands in sorted(rows.items(), key=lambda item: (item[0][0], str(item[0][1])))
        ]
        return {"source": "project.lock", "assets": assets}
    if not project:
        return None
    variables = project.get("vars") or {}
    for command in project.get("commands") or []:
        for dep in command.get("deps") or []:
            dep = _substitute(str(dep), variables)
            for dest, checksum in pins.items():
                if checksum and dep.startswith(ASSETS_DIR) and _overlaps(dep, dest):
                    commands = rows.setdefault((dest, checksum), [])
                    if command["name"] not in commands:
                        commands.append(str(command["name"]))
    assets = [
        {"path": path, "md5": md5, "pinned": md5, "commands": commands}
        for (path, md5), commands in sorted(rows.items())
    ]
    return {"source": "project.yml", "assets": assets}


def read_provenance(
    *,
    pipeline_dir: str | Path,
    project_dir: str | Path | None,
    test: Mapping[str, Any] | None = None,
    teacher: Mapping[str, Any] | None = None,
    transfer: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything the card's provenance section states.

    pipeline_dir (Union[str, Path]): the pipeline being packaged (its config's seeds).
    project_dir (Optional[Union[str, Path]]): the project (git commit, data
        checksums; the teacher's pipeline path is relative to it); None: not read.
    test, teacher, transfer (Optional[Mapping[str, Any]]): the card's inputs,
        for the bootstrap seed, the teacher's seeds and the transfer set's
        sampling seed.
    RETURNS (Dict[str, Any]): `{"commit", "dirty", "date", "versions",
        "seeds": {what: int}, "data": data_checksums(...) or None, "project",
        "trained_at": the pipeline meta's `TRAINED_AT` (`{"commit", "dirty"}`) or None}`.
    """

    import spacy

    from ..about import __version__

    seeds: dict[str, int] = {}
    for section, seed in (config_seeds(pipeline_dir) or {}).items():
        seeds[f"this pipeline's config, [{section}] seed"] = seed
    teacher_path = ((teacher or {}).get("model") or {}).get("path")
    if teacher_path:
        base = Path(project_dir) if project_dir is not None else Path(".")
        folder = Path(teacher_path) if Path(teacher_path).is_absolute() else base / teacher_path
        for section, seed in (config_seeds(folder) or {}).items():
            seeds[f"the teacher's config ({teacher_path}), [{section}] seed"] = seed
    if (transfer or {}).get("seed") is not None:
        seeds["the transfer set's sample (transfer-set --seed)"] = transfer["seed"]
    boot = (test or {}).get("bootstrap")
    if boot and boot.get("seed") is not None:
        seeds["the test scores' bootstrap"] = boot["seed"]
    git = git_commit(project_dir) if project_dir is not None else {"commit": "unknown", "dirty": None}
    return {
        **git,
        "date": build_date(),
        "versions": {"spacy_clinkd": __version__, "spaCy": spacy.__version__},
        "seeds": seeds,
        "data": data_checksums(project_dir) if project_dir is not None else None,
        "project": None if project_dir is None else str(project_dir),
        "trained_at": _trained_at(Path(pipeline_dir)),
    }


def _trained_at(pipeline_dir: Path) -> dict[str, Any] | None:
    """The training commit a pipeline's meta.json records, if it records one."""
    import srsly

    try:
        meta = srsly.read_json(pipeline_dir / "meta.json")
    except (OSError, ValueError):
        return None
    found = meta.get(TRAINED_AT) if isinstance(meta, dict) else None
    return found if isinstance(found, dict) and found.get("commit") else None
