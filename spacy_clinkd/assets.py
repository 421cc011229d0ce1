"""Copy the project's data assets from a local mirror and verify them.

The corpora are never committed. project.yml `assets` names each file's public
URL and MD5 (`spacy project assets` downloads them online); offline machines
and CI copy the same files from a mirror directory laid out like `assets/`
(`<mirror>/<dest minus "assets/">`). Checksums use weasel's definition, so a
folder's checksum is the MD5 of its files' bytes in sorted path order.

A folder asset's checksum is that of the mirror's copy. Weasel uses it for git
folders only to skip a clone when the folder is in place, so a mirror copy is
never deleted by a later `spacy project assets`; an upstream folder that
differs from the mirror (MACCROBAT's mirror withholds 20 documents) is simply
cloned again.
"""
import hashlib
import os
import shutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import srsly

from .errors import ClinkdError, Errors

PROJECT_FILE = "project.yml"
ASSETS_DIR = "assets"
MIRROR_VAR = "data_mirror"
# MACCROBAT's fixed document split: the mirror's copy must equal the repo's.
MACCROBAT_PREFIX = "assets/maccrobat"
MIRROR_SPLIT = Path("maccrobat") / "split.json"
PROJECT_SPLIT = Path("configs") / "splits" / "maccrobat.json"

COPIED = "copied"
UP_TO_DATE = "up to date"
SKIPPED = "skipped"


@dataclass(frozen=True)
class AssetResult:
    """What happened to one asset.

    dest (str): The asset's dest as written in project.yml.
    status (str): "copied", "up to date" or "skipped" (dest not under assets/).
    is_dir (bool): Whether the asset is a folder.
    n_files (int): Number of files in the asset (0 when skipped).
    checksum (str | None): The MD5 from project.yml the asset was verified
        against, or None when project.yml has none (then the copy is only
        checked against the mirror's bytes).
    """

    dest: str
    status: str
    is_dir: bool = False
    n_files: int = 0
    checksum: str | None = None

    def describe(self) -> str:
        """RETURNS (str): One line for the console."""
        if self.status == SKIPPED:
            return f"{self.status:<10} {self.dest} (dest not under {ASSETS_DIR}/)"
        what = f"{self.n_files} files, " if self.is_dir else ""
        if self.checksum is not None:
            check = f"MD5 verified {self.checksum}"
        else:
            check = "copy verified against the mirror; no checksum in project.yml"
        return f"{self.status:<10} {self.dest} ({what}{check})"


@dataclass
class FetchReport:
    """Results of `fetch_assets`.

    results (list[AssetResult]): One per selected asset, in project.yml order.
    split (Path | None): The mirror's MACCROBAT split.json if it was
        checked against the project's copy, else None.
    """

    results: list[AssetResult] = field(default_factory=list)
    split: Path | None = None

    def summary(self) -> str:
        """RETURNS (str): One summary line for the console."""
        n_copied = sum(r.status == COPIED for r in self.results)
        n_current = sum(r.status == UP_TO_DATE for r in self.results)
        n_skipped = sum(r.status == SKIPPED for r in self.results)
        n_files = sum(r.n_files for r in self.results if r.status == COPIED)
        n_verified = sum(
            r.checksum is not None for r in self.results if r.status != SKIPPED
        )
        text = (
            f"{len(self.results)} assets: {n_copied} copied ({n_files} files), "
            f"{n_current} up to date, {n_skipped} skipped; "
            f"{n_verified} verified against project.yml checksums"
        )
        if self.split is not None:
            text += f"; {self.split} matches {PROJECT_SPLIT.as_posix()}"
        return text


def checksum(path: str | Path) -> str:
    """MD5 of a file, or of a folder's files (bytes in sorted path order).

    Same definition as `weasel.util.get_checksum`, which verifies project.yml
    checksums for `spacy project assets`.

    path (str | Path): A file or folder.
    RETURNS (str): 32 hex digits.
    """
    path = Path(path)
    if path.is_file():
        return _md5_file(path)
    if not path.is_dir():
        raise FileNotFoundError(path)
    digest = hashlib.md5()
    for sub_file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(sub_file.read_bytes())
    return digest.hexdigest()


def read_project(project_dir: str | Path) -> dict[str, Any]:
    """Read a project's project.yml as a mapping.

    project_dir (str | Path): The project directory.
    RETURNS (dict[str, Any]): The parsed file (empty for an empty file).
    RAISES ClinkdError: no project.yml (E200), unreadable or not YAML (E208),
        or YAML that is not a mapping, e.g. a list (E209).
    """
    path = Path(project_dir) / PROJECT_FILE
    if not path.is_file():
        raise ClinkdError(Errors.E200.format(project=project_dir))
    try:
        data = srsly.read_yaml(path)
    except (OSError, ValueError) as err:
        raise ClinkdError(Errors.E208.format(path=path, reason=err)) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ClinkdError(Errors.E209.format(path=path, found=type(data).__name__))
    return data


def read_assets(project_dir: str | Path) -> list[dict[str, Any]]:
    """Read the `assets` list of a project's project.yml.

    Only `assets` is read, so `${vars.x}` strings in commands need no
    substitution.

    project_dir (str | Path): The project directory.
    RETURNS (list[dict[str, Any]]): The asset entries, in file order.
    """
    path = Path(project_dir) / PROJECT_FILE
    assets = read_project(project_dir).get("assets") or []
    if not isinstance(assets, list):
        raise ClinkdError(Errors.E201.format(path=path, index=0, value=assets))
    for i, asset in enumerate(assets):
        if not isinstance(asset, dict) or not isinstance(asset.get("dest"), str):
            raise ClinkdError(Errors.E201.format(path=path, index=i, value=asset))
    return assets


def resolve_mirror(
    project_dir: str | Path, mirror: str | Path | None = None
) -> Path:
    """Find the mirror directory; relative paths are relative to the project.

    project_dir (str | Path): The project directory.
    mirror (str | Path | None): The mirror, or None to use the
        project's `vars.data_mirror`.
    RETURNS (Path): The mirror path (not checked for existence).
    """
    project_dir = Path(project_dir)
    if mirror is None:
        variables = read_project(project_dir).get("vars") or {}
        mirror = variables.get(MIRROR_VAR) if isinstance(variables, dict) else None
        if not mirror or not isinstance(mirror, str):
            raise ClinkdError(
                Errors.E202.format(mirror=f"(vars.{MIRROR_VAR} unset)", project=project_dir)
            )
    mirror = Path(mirror)
    return mirror if mirror.is_absolute() else project_dir / mirror


def select_assets(
    assets: Sequence[dict[str, Any]], only: Iterable[str] = ()
) -> list[dict[str, Any]]:
    """Keep the assets whose dest starts with `assets/<prefix>` for a prefix.

    assets (Sequence[dict[str, Any]]): Asset entries from project.yml.
    only (Iterable[str]): Prefixes such as "maccrobat" or "assets/bc5cdr/conll";
        empty keeps every asset.
    RETURNS (list[dict[str, Any]]): The selected assets, in order.
    """
    prefixes = [_normalize_prefix(p) for p in only]
    if not prefixes:
        return list(assets)
    for prefix in prefixes:
        if not any(a["dest"].startswith(prefix) for a in assets):
            options = ", ".join(a["dest"] for a in assets) or "(none)"
            raise ClinkdError(Errors.E206.format(prefix=prefix, options=options))
    return [a for a in assets if any(a["dest"].startswith(p) for p in prefixes)]


def fetch_assets(
    project_dir: str | Path,
    *,
    mirror: str | Path | None = None,
    only: Iterable[str] = (),
    on_result: Callable[[AssetResult], None] | None = None,
) -> FetchReport:
    """Copy the project's assets from a local mirror, verifying each one.

    For every asset with a dest under `assets/`, `<mirror>/<dest minus
    "assets/">` (a file or folder) is verified against the asset's `checksum`
    and copied to `<project>/<dest>`, unless the destination already holds the
    same content. Copies go through a temporary
    name, so a failed run leaves no partial asset behind. If a MACCROBAT asset
    is selected and the mirror has `maccrobat/split.json`, it must equal the
    project's `configs/splits/maccrobat.json`.

    project_dir (str | Path): The project directory (holds project.yml).
    mirror (str | Path | None): The mirror directory; relative paths
        are relative to project_dir. None uses the project's `vars.data_mirror`.
    only (Iterable[str]): Restrict to dests starting with `assets/<prefix>`.
    on_result (Callable[[AssetResult], None] | None): Called after each asset.
    RETURNS (FetchReport): What was copied or found up to date.
    """
    project_dir = Path(project_dir)
    assets = select_assets(read_assets(project_dir), only)
    mirror_dir = resolve_mirror(project_dir, mirror)
    if not mirror_dir.is_dir():
        raise ClinkdError(Errors.E202.format(mirror=mirror_dir, project=project_dir))
    report = FetchReport()
    for asset in assets:
        result = _fetch_asset(asset, project_dir=project_dir, mirror_dir=mirror_dir)
        report.results.append(result)
        if on_result is not None:
            on_result(result)
    if any(a["dest"].startswith(MACCROBAT_PREFIX) for a in assets):
        report.split = check_split(project_dir, mirror_dir)
    return report


def check_split(project_dir: str | Path, mirror_dir: str | Path) -> Path | None:
    """Check the mirror's MACCROBAT split equals the project's copy.

    The two are compared as JSON, so formatting does not matter but every id
    and its order do.

    project_dir (str | Path): The project directory.
    mirror_dir (str | Path): The mirror directory.
    RETURNS (Path | None): The mirror's split.json, or None if it has none.
    """
    mirror_split = Path(mirror_dir) / MIRROR_SPLIT
    if not mirror_split.is_file():
        return None
    project_split = Path(project_dir) / PROJECT_SPLIT
    if not project_split.is_file():
        reason = "the project's file is missing"
    elif _read_json(mirror_split) != _read_json(project_split):
        reason = "different document ids"
    else:
        return mirror_split
    raise ClinkdError(
        Errors.E207.format(
            mirror_split=mirror_split, project_split=project_split, reason=reason
        )
    )


def _read_json(path: Path) -> Any:
    try:
        return srsly.read_json(path)
    except (OSError, ValueError) as err:
        raise ClinkdError(Errors.E022.format(path=path, reason=err)) from None


def _fetch_asset(asset: dict[str, Any], *, project_dir: Path, mirror_dir: Path) -> AssetResult:
    dest_str: str = asset["dest"]
    rel = _relative_to_assets(dest_str)
    if rel is None:
        return AssetResult(dest=dest_str, status=SKIPPED)
    assets_root = (project_dir / ASSETS_DIR).resolve()
    dest = (project_dir / dest_str).resolve()
    if dest == assets_root or assets_root not in dest.parents:
        raise ClinkdError(Errors.E205.format(dest=dest_str))
    src = mirror_dir / rel
    expected = asset.get("checksum")
    expected = expected.lower() if isinstance(expected, str) else None
    if src.is_file():
        status = _sync_file(src, dest, expected=expected, dest_str=dest_str)
        return AssetResult(dest=dest_str, status=status, n_files=1, checksum=expected)
    if src.is_dir():
        status, n_files = _sync_dir(src, dest, expected=expected, dest_str=dest_str)
        return AssetResult(
            dest=dest_str, status=status, is_dir=True, n_files=n_files, checksum=expected
        )
    raise ClinkdError(Errors.E203.format(path=src, dest=dest_str))


def _sync_file(src: Path, dest: Path, *, expected: str | None, dest_str: str) -> str:
    actual = _md5_file(src)
    if expected is not None and actual != expected:
        raise _mismatch(src, dest_str, expected, actual)
    if dest.is_file() and _md5_file(dest) == actual:
        return UP_TO_DATE
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.partial")
    shutil.copyfile(src, tmp)
    copied = _md5_file(tmp)
    if copied != actual:
        tmp.unlink()
        raise _mismatch(dest, dest_str, actual, copied)
    _remove(dest)
    os.replace(tmp, dest)
    return COPIED


def _sync_dir(
    src: Path, dest: Path, *, expected: str | None, dest_str: str
) -> tuple[str, int]:
    src_md5s = _file_md5s(src)
    if expected is not None:
        actual = checksum(src)
        if actual != expected:
            raise _mismatch(src, dest_str, expected, actual)
    if dest.is_dir() and _file_md5s(dest) == src_md5s:
        return UP_TO_DATE, len(src_md5s)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.partial")
    _remove(tmp)
    shutil.copytree(src, tmp)
    copied = _file_md5s(tmp)
    for rel, md5 in src_md5s.items():
        if copied.get(rel) != md5:
            shutil.rmtree(tmp)
            raise _mismatch(dest / rel, dest_str, md5, copied.get(rel, "(missing)"))
    _remove(dest)
    os.replace(tmp, dest)
    return COPIED, len(src_md5s)


def _file_md5s(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): _md5_file(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _md5_file(path: Path) -> str:
    digest = hashlib.md5()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _mismatch(path: Path, dest: str, expected: str, actual: str) -> ClinkdError:
    return ClinkdError(
        Errors.E204.format(path=path, dest=dest, expected=expected, actual=actual)
    )


def _relative_to_assets(dest: str) -> str | None:
    parts = Path(dest).parts
    if len(parts) < 2 or parts[0] != ASSETS_DIR:
        return None
    return Path(*parts[1:]).as_posix()


def _normalize_prefix(prefix: str) -> str:
    prefix = prefix.strip()
    while prefix.startswith("./"):
        prefix = prefix[2:]
    if prefix == ASSETS_DIR or prefix.startswith(f"{ASSETS_DIR}/"):
        return prefix
    return f"{ASSETS_DIR}/{prefix}"
