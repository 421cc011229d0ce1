"""Get the project's data assets and verify them: mirror first, then public sources.

The corpora are never committed. project.yml `assets` names each file's public
source: a URL and MD5, a git repository folder, or, for a derived file, a
recipe (`derived_assets.RECIPES`) that rebuilds it from such sources.
`fetch_assets` takes each asset from the first place that has it:

1. a local mirror laid out like `assets/` (`<mirror>/<dest minus "assets/">`),
   copied and verified: the offline path for CI and machines without internet;
2. the project's own copy, if it is already there and verified;
3. with `download=True`, its public source: the URL (through weasel's
   downloader, as `spacy project assets` does) or the git folder, or, for a
   derived asset, its recipe, whose sources come the same way.

What none of these gives is reported once, at the end, one line per asset
with the URL or command that gets it (E210). Source archives are marked
`extra: true` in project.yml: they are fetched only to build a derived asset.
`build_derived` rebuilds derived assets from their sources even when the
mirror holds them (scripts/build_derived_assets.py, `build-assets`).

Checksums use weasel's definition, so a folder's checksum is the MD5 of its
files' bytes in sorted path order. A folder asset's checksum is that of the
mirror's copy. Weasel uses it for git folders only to skip a clone when the
folder is in place, so a mirror copy is never deleted by a later `spacy
project assets`; an upstream folder that differs from the mirror
(MACCROBAT's mirror withholds 20 documents) is cloned again, and is accepted
here with a note, not rejected.
"""
import hashlib
import os
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import srsly

from .derived_assets import RECIPES, Recipe, content_md5, recipe_for
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
DOWNLOADED = "downloaded"
BUILT = "built"


@dataclass(frozen=True)
class AssetResult:
    """What happened to one asset.

    dest (str): The asset's dest as written in project.yml.
    status (str): "copied" (from the mirror), "up to date", "downloaded",
        "built" (by its recipe) or "skipped" (dest not under assets/).
    is_dir (bool): Whether the asset is a folder.
    n_files (int): Number of files in the asset (0 when skipped).
    checksum (str | None): The MD5 the asset was verified against (from
        project.yml, or a recipe's content MD5), or None when it was not
        verified against one.
    note (str | None): What else to know, e.g. why it was not verified.
    """

    dest: str
    status: str
    is_dir: bool = False
    n_files: int = 0
    checksum: str | None = None
    note: str | None = None

    def describe(self) -> str:
        """RETURNS (str): One line for the console."""
        if self.status == SKIPPED:
            return f"{self.status:<10} {self.dest} (dest not under {ASSETS_DIR}/)"
        what = f"{self.n_files} files, " if self.is_dir else ""
        if self.checksum is not None:
            check = f"MD5 verified {self.checksum}"
        elif self.status == COPIED:
            check = "copy verified against the mirror; no checksum in project.yml"
        else:
            check = "not verified: no checksum in project.yml"
        note = f"; {self.note}" if self.note else ""
        return f"{self.status:<10} {self.dest} ({what}{check}{note})"


@dataclass(frozen=True)
class MissingAsset:
    """An asset that could not be had, and how to get it.

    dest (str): The asset's dest.
    remedy (str): The URL or command that gets it.
    reason (str | None): Why a download or build failed, if one was tried.
    """

    dest: str
    remedy: str
    reason: str | None = None

    def describe(self) -> str:
        """RETURNS (str): One line (a list item) for E210."""
        reason = f"{self.reason.rstrip('.')}. " if self.reason else ""
        return f"- {self.dest}: {reason}{self.remedy}"


@dataclass
class FetchReport:
    """Results of `fetch_assets`.

    results (list[AssetResult]): One per asset had, in the order they were
        had (project.yml order; a derived asset's sources just before it).
    split (Path | None): The mirror's MACCROBAT split.json if it was
        checked against the project's copy, else None.
    """

    results: list[AssetResult] = field(default_factory=list)
    split: Path | None = None

    def summary(self) -> str:
        """RETURNS (str): One summary line for the console."""
        counts = {
            status: sum(r.status == status for r in self.results)
            for status in (COPIED, DOWNLOADED, BUILT, UP_TO_DATE, SKIPPED)
        }
        n_files = sum(r.n_files for r in self.results if r.status == COPIED)
        n_verified = sum(
            r.checksum is not None for r in self.results if r.status != SKIPPED
        )
        fetched = "".join(
            f"{counts[status]} {status}, " for status in (DOWNLOADED, BUILT) if counts[status]
        )
        text = (
            f"{len(self.results)} assets: {counts[COPIED]} copied ({n_files} files), "
            f"{fetched}{counts[UP_TO_DATE]} up to date, {counts[SKIPPED]} skipped; "
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
    RAISES ClinkdError: mirror is None and the project sets none (E202).
    """
    project_dir = Path(project_dir)
    if mirror is None:
        variables = read_project(project_dir).get("vars") or {}
        mirror = variables.get(MIRROR_VAR) if isinstance(variables, dict) else None
        if not mirror or not isinstance(mirror, str):
            raise ClinkdError(Errors.E202.format(project=project_dir))
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


def download_url(url: str, dest: Path) -> None:
    """Download `url` to the file `dest`, as `spacy project assets` does
    (weasel's downloader). Tests replace this function: they never go online.

    url (str): The asset's URL.
    dest (Path): The file to write.
    """
    from weasel.util import download_file

    download_file(url, dest, force=True)


def clone_git(repo: str, path: str, dest: Path, *, branch: str) -> None:
    """Copy the folder `path` of a git repository's `branch` to `dest`, as
    `spacy project assets` does (weasel's git_checkout, which needs `git`).
    Tests replace this function: they never go online.

    repo (str): The repository URL.
    path (str): The folder (or file) inside it.
    dest (Path): Where to put it; must not exist.
    branch (str): The branch to clone.
    """
    from weasel.util import git_checkout

    git_checkout(repo, path, dest, branch=branch)


def fetch_assets(
    project_dir: str | Path,
    *,
    mirror: str | Path | None = None,
    only: Iterable[str] = (),
    download: bool = False,
    on_result: Callable[[AssetResult], None] | None = None,
    recipes: Sequence[Recipe] = RECIPES,
) -> FetchReport:
    """Get the project's assets, verifying each one: mirror first, then the
    project's own copy, then (with `download`) the public source.

    For every asset with a dest under `assets/` (but not an `extra: true`
    one, a source fetched only to build a derived asset), `<mirror>/<dest
    minus "assets/">` (a file or folder) is verified against the asset's
    `checksum` and copied to `<project>/<dest>`, unless the destination
    already holds the same content. Copies go through a temporary name, so a
    failed run leaves no partial asset behind. If a MACCROBAT asset is
    selected and the mirror has `maccrobat/split.json`, it must equal the
    project's `configs/splits/maccrobat.json`. What the mirror lacks is
    taken from the project if it is there and verified, else (with
    `download`) downloaded from its URL or git folder, or rebuilt by its
    recipe; derived assets are rebuilt without downloading when their sources
    are in the project or the mirror.

    project_dir (str | Path): The project directory (holds project.yml).
    mirror (str | Path | None): The mirror directory; relative paths
        are relative to project_dir. None uses the project's `vars.data_mirror`
        (with `download`, a project without one is fetched without a mirror).
        A mirror that does not exist is an empty one.
    only (Iterable[str]): Restrict to dests starting with `assets/<prefix>`.
    download (bool): Get what the mirror and the project lack from its public
        source (network).
    on_result (Callable[[AssetResult], None] | None): Called after each asset.
    recipes (Sequence[Recipe]): How derived assets are rebuilt.
    RETURNS (FetchReport): What was copied, downloaded, built or up to date.
    RAISES ClinkdError: E210 after all the others are had, if some assets
        could not be had, naming each with its URL or command; E204 for a
        mirror copy that fails its checksum.
    """
    project_dir = Path(project_dir)
    all_assets = read_assets(project_dir)
    selected = [a for a in select_assets(all_assets, only) if not a.get("extra")]
    mirror_dir = _mirror_or_none(project_dir, mirror, download=download)
    fetcher = _Fetcher(
        project_dir, all_assets, mirror_dir=mirror_dir, download=download,
        on_result=on_result, recipes=recipes,
    )
    missing = []
    for asset in selected:
        try:
            fetcher.get(asset)
        except _Unavailable as err:
            missing.append(MissingAsset(asset["dest"], fetcher.remedy(asset), err.reason))
    if mirror_dir is not None and mirror_dir.is_dir():
        if any(a["dest"].startswith(MACCROBAT_PREFIX) for a in selected):
            fetcher.report.split = check_split(project_dir, mirror_dir)
    if missing:
        raise fetcher.unavailable(missing, total=len(selected))
    return fetcher.report


def build_derived(
    project_dir: str | Path,
    *,
    mirror: str | Path | None = None,
    names: Iterable[str] = (),
    download: bool = True,
    force: bool = False,
    on_result: Callable[[AssetResult], None] | None = None,
    recipes: Sequence[Recipe] = RECIPES,
) -> FetchReport:
    """Rebuild derived assets from their public sources, verifying each.

    Unlike `fetch_assets`, a derived asset is never copied from the mirror:
    it is built from its sources (from the project, the mirror, or with
    `download` their URL or git folder), then checked against its project.yml
    checksum (or its recipe's content MD5) before it is put in place. Outputs
    already in the project and verified are left alone unless `force`.

    project_dir (str | Path): The project directory (holds project.yml).
    mirror (str | Path | None): The mirror for the sources (see
        `fetch_assets`); None uses `vars.data_mirror` if the project sets one.
    names (Iterable[str]): Recipe names (e.g. "brown"); empty builds all.
    download (bool): Download sources neither the project nor the mirror has.
    force (bool): Rebuild outputs already in place.
    on_result (Callable[[AssetResult], None] | None): Called after each asset.
    recipes (Sequence[Recipe]): The recipes to choose from.
    RETURNS (FetchReport): The sources had and the outputs built.
    RAISES ClinkdError: E213 for an unknown name; E210 naming each output
        that could not be built, why, and how to get it.
    """
    project_dir = Path(project_dir)
    names = list(names)
    known = [r.name for r in recipes]
    for name in names:
        if name not in known:
            raise ClinkdError(Errors.E213.format(name=name, options=", ".join(known)))
    chosen = [r for r in recipes if not names or r.name in names]
    all_assets = read_assets(project_dir)
    mirror_dir = _mirror_or_none(project_dir, mirror, download=True)
    fetcher = _Fetcher(
        project_dir, all_assets, mirror_dir=mirror_dir, download=download,
        on_result=on_result, recipes=recipes,
    )
    missing = []
    for recipe in chosen:
        current = None if force else fetcher.present_outputs(recipe)
        try:
            if current is not None:
                for result in current:
                    fetcher.record(result)
            else:
                fetcher.build(recipe)
        except _Unavailable as err:
            for dest in recipe.outputs:
                missing.append(MissingAsset(dest, fetcher.remedy(fetcher.asset(dest)), err.reason))
    if missing:
        total = sum(len(r.outputs) for r in chosen)
        raise fetcher.unavailable(missing, total=total)
    return fetcher.report


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


class _Unavailable(Exception):
    """An asset none of the places had; `reason` says why, if a try failed."""

    def __init__(self, reason: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason


class _Fetcher:
    """Gets assets one at a time and remembers each outcome, so that an asset
    that is both a source and a selected asset (assets/brown/tagged) is had,
    and reported, once."""

    def __init__(
        self,
        project_dir: Path,
        assets: Sequence[dict[str, Any]],
        *,
        mirror_dir: Path | None,
        download: bool,
        on_result: Callable[[AssetResult], None] | None,
        recipes: Sequence[Recipe] = RECIPES,
    ) -> None:
        self.project_dir = project_dir
        self.assets = {a["dest"]: a for a in assets}
        self.mirror_dir = mirror_dir if mirror_dir is not None and mirror_dir.is_dir() else None
        self.mirror_given = mirror_dir
        self.download = download
        self.on_result = on_result
        self.recipes = recipes
        self.report = FetchReport()
        self.done: dict[str, AssetResult] = {}
        self.failed: dict[str, _Unavailable] = {}
        self.build_command = _build_command(project_dir, recipes)

    def asset(self, dest: str) -> dict[str, Any]:
        return self.assets.get(dest, {"dest": dest})

    def record(self, result: AssetResult) -> AssetResult:
        self.done[result.dest] = result
        self.report.results.append(result)
        if self.on_result is not None:
            self.on_result(result)
        return result

    def get(self, asset: dict[str, Any]) -> AssetResult:
        dest_str: str = asset["dest"]
        if dest_str in self.done:
            return self.done[dest_str]
        if dest_str in self.failed:
            raise self.failed[dest_str]
        try:
            result = self._get(asset)
        except _Unavailable as err:
            self.failed[dest_str] = err
            raise
        # None: a recipe built it, and recorded it with its other outputs
        return self.done[dest_str] if result is None else self.record(result)

    def _get(self, asset: dict[str, Any]) -> AssetResult | None:
        dest_str: str = asset["dest"]
        rel = _relative_to_assets(dest_str)
        if rel is None:
            return AssetResult(dest=dest_str, status=SKIPPED)
        dest = self._dest_path(dest_str)
        expected = _expected(asset)
        if self.mirror_dir is not None:
            src = self.mirror_dir / rel
            if src.is_file():
                status = _sync_file(src, dest, expected=expected, dest_str=dest_str)
                return AssetResult(dest=dest_str, status=status, n_files=1, checksum=expected)
            if src.is_dir():
                status, n_files = _sync_dir(src, dest, expected=expected, dest_str=dest_str)
                return AssetResult(
                    dest=dest_str, status=status, is_dir=True, n_files=n_files, checksum=expected
                )
        present = self.verify_present(asset)
        if present is not None:
            return present
        recipe = recipe_for(dest_str, self.recipes)
        if recipe is not None and "url" not in asset and "git" not in asset:
            self.build(recipe)
            return None
        if not self.download or not ("url" in asset or "git" in asset):
            raise _Unavailable(None)
        return self._download(asset, dest)

    def verify_present(self, asset: dict[str, Any]) -> AssetResult | None:
        """The project's own copy of an asset, if it is there and verified
        (a git folder that differs from its checksum is accepted, with a note)."""
        dest_str: str = asset["dest"]
        dest = self._dest_path(dest_str)
        if not dest.exists():
            return None
        expected = _expected(asset)
        is_dir = dest.is_dir()
        n_files = len(_file_md5s(dest)) if is_dir else 1
        recipe = recipe_for(dest_str, self.recipes)
        content = recipe.content_md5.get(dest_str) if recipe is not None else None
        if expected is None:
            return AssetResult(dest_str, UP_TO_DATE, is_dir, n_files, None, "already in the project")
        actual = checksum(dest)
        if actual == expected:
            return AssetResult(dest_str, UP_TO_DATE, is_dir, n_files, expected)
        if content is not None and not is_dir and content_md5(dest) == content:
            return AssetResult(dest_str, UP_TO_DATE, is_dir, n_files, content, _REBUILT_GZIP)
        if "git" in asset and is_dir:
            return AssetResult(dest_str, UP_TO_DATE, is_dir, n_files, None, _git_note(actual, expected))
        return None

    def present_outputs(self, recipe: Recipe) -> list[AssetResult] | None:
        results = []
        for dest in recipe.outputs:
            present = self.verify_present(self.asset(dest))
            if present is None or present.checksum is None:
                return None
            results.append(present)
        return results

    def build(self, recipe: Recipe) -> list[AssetResult]:
        """Build a recipe's outputs from its sources, verify, put in place."""
        first = recipe.outputs[0]
        if first in self.failed:
            raise self.failed[first]
        try:
            results = self._build(recipe)
        except _Unavailable as err:
            for dest in recipe.outputs:
                self.failed[dest] = err
            raise
        for result in results:
            self.record(result)
        return results

    def _build(self, recipe: Recipe) -> list[AssetResult]:
        sources: dict[str, Path] = {}
        for source in recipe.sources:
            if source not in self.assets:
                raise _Unavailable(Errors.E212.format(dest=source, recipe=recipe.name))
            try:
                self.get(self.assets[source])
            except _Unavailable as err:
                where = "the project or the mirror"
                if self.download:
                    where = "the project, the mirror or its public source"
                why = f" ({err.reason})" if err.reason else ""
                raise _Unavailable(f"its source {source} is not in {where}{why}") from None
            sources[source] = self._dest_path(source)
        for name in recipe.inputs:
            if not (self.project_dir / name).is_file():
                raise _Unavailable(f"{name}, which its recipe reads, is missing from the project")
        outputs = {dest: self._dest_path(dest) for dest in recipe.outputs}
        tmps = {dest: path.with_name(f".{path.name}.partial") for dest, path in outputs.items()}
        for tmp in tmps.values():
            _remove(tmp)
            tmp.parent.mkdir(parents=True, exist_ok=True)
        try:
            recipe.build(sources, tmps, self.project_dir)
            results = [self._verify_built(recipe, dest, tmp) for dest, tmp in tmps.items()]
        except ClinkdError as err:
            for tmp in tmps.values():
                _remove(tmp)
            raise _Unavailable(f"rebuilding it failed: {err}") from None
        except BaseException:
            for tmp in tmps.values():
                _remove(tmp)
            raise
        for dest, tmp in tmps.items():
            _remove(outputs[dest])
            os.replace(tmp, outputs[dest])
        return results

    def _verify_built(self, recipe: Recipe, dest: str, tmp: Path) -> AssetResult:
        expected = _expected(self.asset(dest))
        content = recipe.content_md5.get(dest)
        is_dir = tmp.is_dir()
        n_files = len(_file_md5s(tmp)) if is_dir else 1
        if content is not None:
            actual = content_md5(tmp)
            if actual != content:
                raise ClinkdError(Errors.E211.format(
                    dest=dest, what="decompressed content MD5", actual=actual, expected=content,
                    pinned_by="its recipe (spacy_clinkd/derived_assets.py)",
                ))
            return AssetResult(dest, BUILT, is_dir, n_files, content, _REBUILT_GZIP)
        actual = checksum(tmp)
        if expected is not None and actual != expected:
            raise ClinkdError(Errors.E211.format(
                dest=dest, what="MD5", actual=actual, expected=expected, pinned_by="project.yml"
            ))
        return AssetResult(dest, BUILT, is_dir, n_files, expected)

    def _download(self, asset: dict[str, Any], dest: Path) -> AssetResult:
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.partial")
        _remove(tmp)
        expected = _expected(asset)
        git = asset.get("git") or {}
        where = asset["url"] if "url" in asset else f"{git.get('repo')} (folder '{git.get('path')}')"
        try:
            if "url" in asset:
                download_url(asset["url"], tmp)
            else:
                clone_git(git["repo"], git.get("path", ""), tmp, branch=git.get("branch", "master"))
        # Whatever the network, HTTP or git raise is reported with the asset;
        # weasel's git helper exits (SystemExit) after printing git's message.
        except (Exception, SystemExit) as err:
            _remove(tmp)
            reason = str(err) or type(err).__name__
            if isinstance(err, SystemExit):
                reason = "git failed (its message is above)"
            raise _Unavailable(f"getting it from {where} failed: {reason}") from None
        if not tmp.exists():
            raise _Unavailable(f"getting it from {where} wrote nothing")
        is_dir = tmp.is_dir()
        n_files = len(_file_md5s(tmp)) if is_dir else 1
        actual = checksum(tmp)
        note = None
        if expected is not None and actual != expected:
            if "git" not in asset:
                _remove(tmp)
                raise _Unavailable(
                    f"the file downloaded from {where} has MD5 {actual}, not {expected}"
                )
            note, expected = _git_note(actual, expected), None
        _remove(dest)
        os.replace(tmp, dest)
        return AssetResult(asset["dest"], DOWNLOADED, is_dir, n_files, expected, note)

    def _dest_path(self, dest_str: str) -> Path:
        assets_root = (self.project_dir / ASSETS_DIR).resolve()
        dest = (self.project_dir / dest_str).resolve()
        if dest == assets_root or assets_root not in dest.parents:
            raise ClinkdError(Errors.E205.format(dest=dest_str))
        return dest

    def remedy(self, asset: dict[str, Any]) -> str:
        """RETURNS (str): How to get an asset: its URL, git folder or command."""
        project = self.project_dir
        assets_cmd = f"`python -m spacy project assets {project}`"
        checksum_ = f" (MD5 {asset['checksum']})" if asset.get("checksum") else ""
        if "url" in asset:
            return f"Download {asset['url']}{checksum_} to {asset['dest']}, e.g. with {assets_cmd}."
        if "git" in asset:
            git = asset["git"]
            return (
                f"Clone the folder '{git.get('path')}' of {git.get('repo')} "
                f"(branch {git.get('branch', 'master')}) to {asset['dest']}, e.g. with {assets_cmd}."
            )
        recipe = recipe_for(asset["dest"], self.recipes)
        if recipe is not None:
            command = self.build_command
            run = (
                f"`python -m spacy project run {command} {project}`"
                if command
                else f"`python -m spacy_clinkd fetch-assets {project} --download`"
            )
            sources = "; ".join(self._source_text(s) for s in recipe.sources)
            return f"Rebuild it from its public source ({sources}) with {run}."
        description = asset.get("description")
        about = f" ({description})" if description else ""
        return (
            f"No URL, git folder or recipe in project.yml{about}: copy it into "
            f"{asset['dest']} yourself, or put it in the mirror."
        )

    def _source_text(self, dest: str) -> str:
        asset = self.asset(dest)
        if "url" in asset:
            return f"{dest} from {asset['url']}"
        if "git" in asset:
            git = asset["git"]
            return f"{dest} from {git.get('repo')}, folder '{git.get('path')}'"
        return dest

    def unavailable(self, missing: Sequence[MissingAsset], *, total: int) -> ClinkdError:
        if self.mirror_given is None:
            where = "no data mirror"
        elif self.mirror_dir is None:
            where = f"the data mirror '{self.mirror_given}' does not exist"
        else:
            where = f"not in the data mirror '{self.mirror_given}'"
        where += "; downloads were tried" if self.download else "; nothing was downloaded"
        project = self.project_dir
        if self.download:
            hint = (
                "Check the network and run the command again (what is in place is kept), "
                "or put the files in a mirror and pass --mirror DIR."
            )
        else:
            hint = (
                f"Online, `python -m spacy_clinkd fetch-assets {project} --download` "
                "(what `spacy project run fetch-data` runs) gets all of these. Offline, pass "
                "--mirror DIR (`--vars.data_mirror DIR` to `spacy project run`): a copy of the "
                "corpora laid out like assets/."
            )
        return ClinkdError(Errors.E210.format(
            n=len(missing), total=total, where=where,
            lines="\n".join(m.describe() for m in missing), hint=hint,
        ))


_REBUILT_GZIP = (
    "rebuilt gzip: its content is verified, its compressed bytes depend on the zlib build"
)


def _git_note(actual: str, expected: str) -> str:
    return (
        f"the git folder's MD5 is {actual}, not the pinned {expected} (the mirror's copy): "
        "upstream holds other files"
    )


def _expected(asset: Mapping[str, Any]) -> str | None:
    value = asset.get("checksum")
    return value.lower() if isinstance(value, str) else None


def _mirror_or_none(
    project_dir: Path, mirror: str | Path | None, *, download: bool
) -> Path | None:
    try:
        return resolve_mirror(project_dir, mirror)
    except ClinkdError:
        if mirror is None and download:
            return None
        raise


def _build_command(project_dir: Path, recipes: Sequence[Recipe]) -> str | None:
    """The project command that builds derived assets: the first whose
    outputs are all recipe outputs (build-assets), or None."""
    derived = {dest for recipe in recipes for dest in recipe.outputs}
    commands = read_project(project_dir).get("commands") or []
    for command in commands if isinstance(commands, list) else []:
        if not isinstance(command, dict) or not isinstance(command.get("name"), str):
            continue
        outputs = command.get("outputs") or []
        if outputs and all(isinstance(o, str) and o in derived for o in outputs):
            return command["name"]
    return None


def _read_json(path: Path) -> Any:
    try:
        return srsly.read_json(path)
    except (OSError, ValueError) as err:
        raise ClinkdError(Errors.E022.format(path=path, reason=err)) from None


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
