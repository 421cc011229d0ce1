"""Tests for spacy_clinkd.assets and `python -m spacy_clinkd fetch-assets`."""
import hashlib
import io
import re
import shutil
import tarfile
from pathlib import Path

import pytest
import srsly
from typer.testing import CliRunner
from weasel.schemas import ProjectConfigSchema, validate
from weasel.util import get_checksum

import spacy_clinkd.assets
from spacy_clinkd.assets import (
    BUILT,
    COPIED,
    DOWNLOADED,
    SKIPPED,
    UP_TO_DATE,
    AssetResult,
    checksum,
    fetch_assets,
    select_assets,
)
from spacy_clinkd.cli._app import app
from spacy_clinkd.cli.assets import fetch_assets_cli
from spacy_clinkd.derived_assets import RECIPES, recipe_for
from spacy_clinkd.errors import ClinkdError
from tests.util import refuse_downloads

HERE = Path(__file__).parent
FIXTURES = HERE / "data" / "assets"
REPO = HERE.parent

A_MD5 = "a2bd87baafdc7784dc469bea449424b5"
B_MD5 = "281b0c301ee9f2067974d6c075d33ae3"
BRAT_MD5 = "113c57e526ae1af5a114d9464bb05f9a"
ALL_COPIED = [
    AssetResult("assets/toy/a.tsv", COPIED, False, 1, A_MD5),
    AssetResult("assets/toy/sub/b.txt", COPIED, False, 1, B_MD5),
    AssetResult("assets/maccrobat/brat", COPIED, True, 4, BRAT_MD5),
    AssetResult("assets/plain_dir", COPIED, True, 2, None),
]


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test here goes online: one that downloads installs its own fake."""
    refuse_downloads(monkeypatch)


@pytest.fixture
def toy(tmp_path: Path) -> tuple[Path, Path]:
    """A writable copy of the toy project and its mirror (project.yml: ../mirror)."""
    project = tmp_path / "project"
    mirror = tmp_path / "mirror"
    shutil.copytree(FIXTURES / "project", project)
    shutil.copytree(FIXTURES / "mirror", mirror)
    return project, mirror


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_fixture_checksums_match_weasel() -> None:
    mirror = FIXTURES / "mirror"
    for rel, expected in [
        ("toy/a.tsv", A_MD5),
        ("toy/sub/b.txt", B_MD5),
        ("maccrobat/brat", BRAT_MD5),
    ]:
        assert checksum(mirror / rel) == expected
        assert get_checksum(mirror / rel) == expected
    assert checksum(mirror / "plain_dir") == get_checksum(mirror / "plain_dir")


def test_fetch_copies_and_verifies(toy: tuple[Path, Path]) -> None:
    project, mirror = toy
    seen: list[AssetResult] = []
    report = fetch_assets(project, mirror=mirror, on_result=seen.append)
    assert report.results == ALL_COPIED
    assert seen == ALL_COPIED
    assert report.split == mirror / "maccrobat" / "split.json"
    for rel in ["toy/a.tsv", "toy/sub/b.txt", "maccrobat/brat/0001.ann", "plain_dir/nested/y.txt"]:
        assert (project / "assets" / rel).read_bytes() == (mirror / rel).read_bytes()
    assert sorted(p.name for p in (project / "assets" / "maccrobat" / "brat").iterdir()) == [
        "0001.ann",
        "0001.txt",
        "0002.ann",
        "0002.txt",
    ]
    # No temporary copies left behind.
    assert [p for p in (project / "assets").rglob(".*")] == []
    assert report.summary() == (
        "4 assets: 4 copied (8 files), 0 up to date, 0 skipped; "
        "3 verified against project.yml checksums; "
        f"{mirror / 'maccrobat' / 'split.json'} matches configs/splits/maccrobat.json"
    )


def test_fetch_is_idempotent(toy: tuple[Path, Path]) -> None:
    project, mirror = toy
    fetch_assets(project, mirror=mirror)
    dest = project / "assets" / "toy" / "a.tsv"
    mtime = dest.stat().st_mtime_ns
    report = fetch_assets(project, mirror=mirror)
    assert [(r.dest, r.status) for r in report.results] == [
        ("assets/toy/a.tsv", UP_TO_DATE),
        ("assets/toy/sub/b.txt", UP_TO_DATE),
        ("assets/maccrobat/brat", UP_TO_DATE),
        ("assets/plain_dir", UP_TO_DATE),
    ]
    assert dest.stat().st_mtime_ns == mtime


def test_fetch_replaces_changed_destination(toy: tuple[Path, Path]) -> None:
    project, mirror = toy
    fetch_assets(project, mirror=mirror)
    (project / "assets" / "toy" / "a.tsv").write_text("edited\n")
    (project / "assets" / "plain_dir" / "stray.txt").write_text("stray\n")
    report = fetch_assets(project, mirror=mirror)
    assert [r.status for r in report.results] == [COPIED, UP_TO_DATE, UP_TO_DATE, COPIED]
    assert _md5(project / "assets" / "toy" / "a.tsv") == A_MD5
    assert not (project / "assets" / "plain_dir" / "stray.txt").exists()


def test_default_mirror_is_project_var(toy: tuple[Path, Path]) -> None:
    project, _ = toy
    report = fetch_assets(project)
    assert report.results == ALL_COPIED


def test_checksum_mismatch_names_file(toy: tuple[Path, Path]) -> None:
    project, mirror = toy
    bad = mirror / "toy" / "sub" / "b.txt"
    bad.write_bytes(b"tampered\n")
    actual = hashlib.md5(b"tampered\n").hexdigest()
    with pytest.raises(ClinkdError) as err:
        fetch_assets(project, mirror=mirror)
    assert str(err.value) == (
        f"Checksum mismatch for '{bad}' (asset 'assets/toy/sub/b.txt'): "
        f"expected MD5 {B_MD5}, got {actual}."
    )
    assert not (project / "assets" / "toy" / "sub").exists()


def test_folder_checksum_mismatch(toy: tuple[Path, Path]) -> None:
    project, mirror = toy
    (mirror / "maccrobat" / "brat" / "0003.txt").write_text("extra\n")
    with pytest.raises(ClinkdError, match=rf"expected MD5 {BRAT_MD5}, got [0-9a-f]{{32}}"):
        fetch_assets(project, mirror=mirror, only=["maccrobat"])
    assert not (project / "assets" / "maccrobat").exists()


def test_missing_mirror_is_clear(toy: tuple[Path, Path], tmp_path: Path) -> None:
    project, _ = toy
    missing = tmp_path / "no_such_mirror"
    with pytest.raises(ClinkdError) as err:
        fetch_assets(project, mirror=missing)
    assets_cmd = f"`python -m spacy project assets {project}`"
    assert str(err.value) == (
        f"4 of 4 assets could not be had (the data mirror '{missing}' does not exist; "
        "nothing was downloaded). Each one, and how to get it:\n"
        f"- assets/toy/a.tsv: Download https://example.org/toy/a.tsv (MD5 {A_MD5}) to "
        f"assets/toy/a.tsv, e.g. with {assets_cmd}.\n"
        "- assets/toy/sub/b.txt: No URL, git folder or recipe in project.yml (toy local "
        "file: no public URL, the mirror is the only source): copy it into assets/toy/sub/b.txt "
        "yourself, or put it in the mirror.\n"
        "- assets/maccrobat/brat: Clone the folder 'brat' of https://github.com/example/toy "
        f"(branch main) to assets/maccrobat/brat, e.g. with {assets_cmd}.\n"
        "- assets/plain_dir: No URL, git folder or recipe in project.yml (toy folder "
        "without a checksum): copy it into assets/plain_dir yourself, or put it in the mirror.\n"
        f"Online, `python -m spacy_clinkd fetch-assets {project} --download` (what `spacy project "
        "run fetch-data` runs) gets all of these. Offline, pass --mirror DIR (`--vars.data_mirror "
        "DIR` to `spacy project run`): a copy of the corpora laid out like assets/."
    )
    assert not (project / "assets").exists()


def test_relative_mirror_is_relative_to_project(toy: tuple[Path, Path]) -> None:
    project, _ = toy
    with pytest.raises(ClinkdError, match="does not exist"):
        fetch_assets(project, mirror="mirror")  # would be tmp_path/mirror from tmp_path
    assert fetch_assets(project, mirror="../mirror").results == ALL_COPIED


def test_missing_mirror_file(toy: tuple[Path, Path]) -> None:
    project, mirror = toy
    (mirror / "toy" / "a.tsv").unlink()
    with pytest.raises(ClinkdError) as err:
        fetch_assets(project, mirror=mirror)
    message = str(err.value)
    assert message.startswith(
        f"1 of 4 assets could not be had (not in the data mirror '{mirror}'; nothing was downloaded)."
    )
    assert "\n- assets/toy/a.tsv: Download https://example.org/toy/a.tsv" in message
    # The others were still copied: a rerun only needs the missing one.
    assert (project / "assets" / "toy" / "sub" / "b.txt").is_file()
    assert (project / "assets" / "maccrobat" / "brat" / "0001.ann").is_file()
    # Once the project has its own copy, the mirror need not have it.
    shutil.copyfile(FIXTURES / "mirror" / "toy" / "a.tsv", project / "assets" / "toy" / "a.tsv")
    report = fetch_assets(project, mirror=mirror)
    assert report.results[0] == AssetResult("assets/toy/a.tsv", UP_TO_DATE, False, 1, A_MD5)


def test_download_fills_what_the_mirror_lacks(
    toy: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    project, mirror = toy
    (mirror / "toy" / "a.tsv").unlink()
    shutil.rmtree(mirror / "maccrobat" / "brat")
    calls: list[tuple[str, ...]] = []

    def fake_download(url: str, dest: Path) -> None:
        calls.append((url, dest.name))
        shutil.copyfile(FIXTURES / "mirror" / "toy" / "a.tsv", dest)

    def fake_clone(repo: str, path: str, dest: Path, *, branch: str) -> None:
        # upstream holds one file more than the mirror's copy (as MACCROBAT's does)
        calls.append((repo, path, branch))
        shutil.copytree(FIXTURES / "mirror" / "maccrobat" / "brat", dest)
        (dest / "hi.txt").write_text("hi")

    monkeypatch.setattr(spacy_clinkd.assets, "download_url", fake_download)
    monkeypatch.setattr(spacy_clinkd.assets, "clone_git", fake_clone)
    report = fetch_assets(project, mirror=mirror, download=True)
    assert calls == [
        ("https://example.org/toy/a.tsv", ".a.tsv.partial"),
        ("https://github.com/example/toy", "brat", "main"),
    ]
    a, b, brat, plain = report.results
    assert a == AssetResult("assets/toy/a.tsv", DOWNLOADED, False, 1, A_MD5)
    assert b.status == COPIED and plain.status == COPIED
    assert (brat.status, brat.n_files, brat.checksum) == (DOWNLOADED, 5, None)
    assert brat.note is not None and f"not the pinned {BRAT_MD5}" in brat.note
    assert (project / "assets" / "maccrobat" / "brat" / "hi.txt").is_file()
    assert [p for p in (project / "assets").rglob(".*")] == []
    assert "2 downloaded" in report.summary()
    # A rerun uses the project's copies and downloads nothing.
    calls.clear()
    again = fetch_assets(project, mirror=mirror, download=True)
    assert calls == []
    assert [r.status for r in again.results] == [UP_TO_DATE, UP_TO_DATE, UP_TO_DATE, UP_TO_DATE]


def test_failed_downloads_are_named_with_url_and_reason(
    toy: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project, _ = toy

    def bad_bytes(url: str, dest: Path) -> None:
        dest.write_bytes(b"<html>rate limited</html>")

    def no_network(repo: str, path: str, dest: Path, *, branch: str) -> None:
        raise OSError("Network is unreachable")

    monkeypatch.setattr(spacy_clinkd.assets, "download_url", bad_bytes)
    monkeypatch.setattr(spacy_clinkd.assets, "clone_git", no_network)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ClinkdError) as err:
        fetch_assets(project, mirror=empty, download=True)
    lines = str(err.value).splitlines()
    bad_md5 = hashlib.md5(b"<html>rate limited</html>").hexdigest()
    assert lines[0] == (
        f"4 of 4 assets could not be had (not in the data mirror '{empty}'; downloads were tried). "
        "Each one, and how to get it:"
    )
    assert lines[1] == (
        f"- assets/toy/a.tsv: the file downloaded from https://example.org/toy/a.tsv has MD5 {bad_md5}, "
        f"not {A_MD5}. Download https://example.org/toy/a.tsv (MD5 {A_MD5}) to assets/toy/a.tsv, "
        f"e.g. with `python -m spacy project assets {project}`."
    )
    assert lines[3].startswith(
        "- assets/maccrobat/brat: getting it from https://github.com/example/toy (folder 'brat') "
        "failed: Network is unreachable. Clone the folder 'brat' of https://github.com/example/toy"
    )
    assert lines[-1].startswith("Check the network and run the command again")
    # Nothing half-downloaded is left behind.
    assert not (project / "assets").exists() or [p for p in (project / "assets").rglob("*") if p.is_file()] == []


def test_only_filter(toy: tuple[Path, Path]) -> None:
    project, mirror = toy
    report = fetch_assets(project, mirror=mirror, only=["maccrobat"])
    assert report.results == [ALL_COPIED[2]]
    assert sorted(p.name for p in (project / "assets").iterdir()) == ["maccrobat"]
    report = fetch_assets(project, mirror=mirror, only=["assets/toy/", "plain"])
    assert [r.dest for r in report.results] == [
        "assets/toy/a.tsv",
        "assets/toy/sub/b.txt",
        "assets/plain_dir",
    ]
    assert report.split is None
    with pytest.raises(ClinkdError, match=r"--only assets/nope matches no asset"):
        fetch_assets(project, mirror=mirror, only=["nope"])


def test_select_assets_prefixes() -> None:
    assets = [{"dest": "assets/a/x"}, {"dest": "assets/ab/y"}, {"dest": "assets/b/z"}]
    assert select_assets(assets) == assets
    assert select_assets(assets, ["a/"]) == [assets[0]]
    assert select_assets(assets, ["./a"]) == assets[:2]
    assert select_assets(assets, ["assets/b"]) == [assets[2]]


def test_split_mismatch(toy: tuple[Path, Path]) -> None:
    project, mirror = toy
    srsly.write_json(project / "configs" / "splits" / "maccrobat.json", {"train": ["0002"]})
    with pytest.raises(ClinkdError, match=r"\(different document ids\)"):
        fetch_assets(project, mirror=mirror, only=["maccrobat"])
    (project / "configs" / "splits" / "maccrobat.json").unlink()
    with pytest.raises(ClinkdError, match=r"\(the project's file is missing\)"):
        fetch_assets(project, mirror=mirror, only=["maccrobat"])
    (mirror / "maccrobat" / "split.json").unlink()
    assert fetch_assets(project, mirror=mirror, only=["maccrobat"]).split is None


def test_dest_outside_assets(toy: tuple[Path, Path]) -> None:
    project, mirror = toy
    srsly.write_yaml(
        project / "project.yml",
        {"assets": [{"dest": "corpus/x.txt"}, {"dest": "assets/../escape.txt"}]},
    )
    with pytest.raises(ClinkdError, match=r"'assets/\.\./escape\.txt' is not inside"):
        fetch_assets(project, mirror=mirror)
    srsly.write_yaml(project / "project.yml", {"assets": [{"dest": "corpus/x.txt"}]})
    report = fetch_assets(project, mirror=mirror)
    assert report.results == [AssetResult("corpus/x.txt", SKIPPED)]
    assert not (project / "corpus").exists()


def test_bad_assets_entry(toy: tuple[Path, Path]) -> None:
    project, mirror = toy
    srsly.write_yaml(project / "project.yml", {"assets": [{"url": "https://example.org"}]})
    with pytest.raises(ClinkdError, match=r"entry 0 is \{'url': 'https://example.org'\}"):
        fetch_assets(project, mirror=mirror)


def test_cli_fetch_assets(toy: tuple[Path, Path]) -> None:
    project, mirror = toy
    names = [cmd.name for cmd in app.registered_commands]
    assert "fetch-assets" in names
    assert fetch_assets_cli in [cmd.callback for cmd in app.registered_commands]
    # Typer runs a lone command without its name; other CLI modules may be loaded.
    prefix = ["fetch-assets"] if len(names) > 1 else []
    runner = CliRunner()
    args = [*prefix, str(project), "--mirror", str(mirror), "--only", "toy"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 3
    assert lines == [
        f"✔ copied     assets/toy/a.tsv (MD5 verified {A_MD5})",
        f"✔ copied     assets/toy/sub/b.txt (MD5 verified {B_MD5})",
        (
            "✔ 2 assets: 2 copied (2 files), 0 up to date, 0 skipped; "
            "2 verified against project.yml checksums"
        ),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert result.output.count("up to date assets/toy/") == 2
    result = runner.invoke(app, [*prefix, str(project), "--mirror", str(mirror), "--only", "plain"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == (
        "⚠ copied     assets/plain_dir (2 files, copy verified against the mirror; "
        "no checksum in project.yml)"
    )
    result = runner.invoke(app, [*prefix, str(project), "--mirror", str(project / "nope")])
    assert result.exit_code == 1
    assert isinstance(result.exception, ClinkdError)
    assert "does not exist; nothing was downloaded" in str(result.exception)


# The real project.yml


def test_project_assets_valid() -> None:
    config = srsly.read_yaml(REPO / "project.yml")
    assert validate(ProjectConfigSchema, config) == []
    assets = config["assets"]
    assert len(assets) == 34
    dests = [asset["dest"] for asset in assets]
    assert len(set(dests)) == len(dests)
    hex32 = re.compile(r"^[0-9a-f]{32}$")
    # a file at a commit, or GitHub's archive of a commit (weasel would rewrite
    # a github.com/…/archive URL to raw.githubusercontent.com, which has none)
    pinned_url = re.compile(
        r"^https://(raw\.githubusercontent\.com/[\w.-]+/[\w.-]+/[0-9a-f]{40}/\S+"
        r"|codeload\.github\.com/[\w.-]+/[\w.-]+/tar\.gz/[0-9a-f]{40})$"
    )
    for asset in assets:
        dest = asset["dest"]
        assert dest.startswith("assets/"), dest
        assert ".." not in Path(dest).parts, dest
        assert asset.get("description"), dest
        if asset.get("extra"):
            # A source only derived assets are built from: with a URL, and a
            # checksum unless its description says why there is none (then
            # what is built from it is checked against its own).
            assert any(dest in r.sources for r in RECIPES), dest
            assert pinned_url.match(asset["url"]), dest
            assert "checksum" in asset or "No checksum:" in asset["description"], dest
            if "checksum" in asset:
                assert hex32.match(asset["checksum"]), dest
            continue
        # Also for git folders: without one, weasel deletes a mirror copy and
        # tries to clone it again.
        assert hex32.match(asset["checksum"]), dest
        if "git" in asset:
            assert asset["git"]["repo"].startswith("https://github.com/"), dest
            assert asset["git"]["path"], dest
        elif "url" in asset:
            assert pinned_url.match(asset["url"]), dest
        else:
            # no URL of its own: a recipe rebuilds it, and says so
            assert recipe_for(dest) is not None, dest
            assert asset["description"].startswith("DERIVED"), dest
            assert "build-assets" in asset["description"], dest


def test_recipes_match_project_yml() -> None:
    """Each recipe writes URL-less assets from assets that have a public source,
    and the build-assets command lists exactly the recipes' outputs."""
    config = srsly.read_yaml(REPO / "project.yml")
    assets = {a["dest"]: a for a in config["assets"]}
    outputs = [dest for recipe in RECIPES for dest in recipe.outputs]
    for recipe in RECIPES:
        for dest in recipe.outputs:
            assert dest in assets and "url" not in assets[dest] and "git" not in assets[dest], dest
            assert not assets[dest].get("extra"), dest
        for dest in recipe.sources:
            assert "url" in assets[dest] or "git" in assets[dest], dest
        for name in recipe.inputs:
            assert (REPO / name).is_file(), name
    commands = {c["name"]: c for c in config["commands"]}
    assert sorted(commands["build-assets"]["outputs"]) == sorted(outputs)
    assert "--download" in commands["fetch-data"]["script"][0]
    inputs = [name for recipe in RECIPES for name in recipe.inputs]
    for command in ("build-assets", "fetch-data"):
        assert all(name in commands[command]["deps"] for name in inputs), command


def test_project_mirror_matches_checksums() -> None:
    """The mirror named by vars.data_mirror holds every asset with its checksum."""
    config = srsly.read_yaml(REPO / "project.yml")
    mirror = REPO / config["vars"]["data_mirror"]
    if not mirror.is_dir():
        pytest.skip(f"no data mirror at {mirror}")
    # Source archives (extra) the mirror never held are fetched from their URL.
    mismatched = [
        asset["dest"]
        for asset in config["assets"]
        if not (mirror / asset["dest"].removeprefix("assets/")).exists()
        and not asset.get("extra")
        or (mirror / asset["dest"].removeprefix("assets/")).exists()
        and checksum(mirror / asset["dest"].removeprefix("assets/")) != asset["checksum"]
    ]
    assert mismatched == []


def test_empty_mirror_names_every_asset_with_its_remedy(tmp_path: Path) -> None:
    """A new user without the mirror, offline: the real project.yml, an empty
    mirror. Every asset the project needs is named once, with the URL, git
    folder or command that gets it; nothing is downloaded or left behind."""
    project = tmp_path / "project"
    project.mkdir()
    shutil.copyfile(REPO / "project.yml", project / "project.yml")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ClinkdError) as err:
        fetch_assets(project, mirror=empty)
    message = str(err.value)
    config = srsly.read_yaml(REPO / "project.yml")
    assets = {a["dest"]: a for a in config["assets"]}
    needed = [a for a in config["assets"] if not a.get("extra")]
    lines = message.splitlines()
    assert lines[0] == (
        f"{len(needed)} of {len(needed)} assets could not be had (not in the data mirror '{empty}'; "
        "nothing was downloaded). Each one, and how to get it:"
    )
    items = {line[2:].split(": ", 1)[0]: line for line in lines if line.startswith("- ")}
    assert sorted(items) == sorted(a["dest"] for a in needed)
    assets_cmd = f"`python -m spacy project assets {project}`"
    build_cmd = f"`python -m spacy project run build-assets {project}`"
    for dest, line in items.items():
        asset = assets[dest]
        if "url" in asset:
            assert line == (
                f"- {dest}: Download {asset['url']} (MD5 {asset['checksum']}) to {dest}, "
                f"e.g. with {assets_cmd}."
            )
        elif "git" in asset:
            git = asset["git"]
            assert line == (
                f"- {dest}: Clone the folder '{git['path']}' of {git['repo']} (branch {git['branch']}) "
                f"to {dest}, e.g. with {assets_cmd}."
            )
        else:
            recipe = recipe_for(dest)
            assert recipe is not None, dest
            (source,) = recipe.sources
            public = assets[source].get("url") or assets[source]["git"]["repo"]
            assert line.startswith(f"- {dest}: its source {source} is not in the project or the mirror. ")
            assert f"Rebuild it from its public source ({source} from {public}" in line
            assert line.endswith(f" with {build_cmd}.")
    assert lines[-1].startswith(f"Online, `python -m spacy_clinkd fetch-assets {project} --download`")
    assert sorted(p.name for p in project.iterdir()) == ["project.yml"]
    # The same from the command line, as `spacy project run fetch-data --vars.data_mirror EMPTY` minus --download.
    result = CliRunner().invoke(app, ["fetch-assets", str(project), "--mirror", str(empty)])
    assert result.exit_code == 1
    assert str(result.exception) == message


TOY_DERIVED = """
vars:
  data_mirror: "../mirror"
assets:
  - dest: "assets/notes/archive.tgz"
    url: "https://example.org/notes.tgz"
    extra: true
    description: "toy source archive"
  - dest: "assets/mtsamples/cogstack_txt_small"
    checksum: "{md5}"
    description: "toy derived folder"
commands:
  - name: "build-assets"
    script: ["python scripts/build_derived_assets.py ."]
    outputs: ["assets/mtsamples/cogstack_txt_small"]
"""


def _toy_archive(path: Path, files: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_fetch_builds_a_derived_asset_from_its_downloaded_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from spacy_clinkd.derived_assets import Recipe, build_cogstack

    notes = {"notes/b.txt": b"second note\n", "notes/a.txt": b"first note\n"}
    # folder checksum: the files' bytes in sorted name order (a.txt, b.txt)
    md5 = hashlib.md5(b"first note\nsecond note\n").hexdigest()
    project, mirror = tmp_path / "project", tmp_path / "mirror"
    project.mkdir()
    mirror.mkdir()
    (project / "project.yml").write_text(TOY_DERIVED.format(md5=md5))
    archive = tmp_path / "upstream.tgz"
    _toy_archive(archive, notes)
    recipe = Recipe(
        name="notes", outputs=("assets/mtsamples/cogstack_txt_small",),
        sources=("assets/notes/archive.tgz",), build=build_cogstack,
    )
    # Offline: the source is named with its URL, and the command that builds.
    with pytest.raises(ClinkdError) as err:
        fetch_assets(project, recipes=[recipe])
    assert (
        "- assets/mtsamples/cogstack_txt_small: its source assets/notes/archive.tgz is not in the project "
        "or the mirror. Rebuild it from its public source (assets/notes/archive.tgz from "
        f"https://example.org/notes.tgz) with `python -m spacy project run build-assets {project}`."
    ) in str(err.value).splitlines()
    downloads: list[str] = []

    def fake_download(url: str, dest: Path) -> None:
        downloads.append(url)
        shutil.copyfile(archive, dest)

    monkeypatch.setattr(spacy_clinkd.assets, "download_url", fake_download)
    report = fetch_assets(project, download=True, recipes=[recipe])
    assert downloads == ["https://example.org/notes.tgz"]
    assert [(r.dest, r.status, r.checksum) for r in report.results] == [
        ("assets/notes/archive.tgz", DOWNLOADED, None),
        ("assets/mtsamples/cogstack_txt_small", BUILT, md5),
    ]
    built = project / "assets" / "mtsamples" / "cogstack_txt_small"
    assert sorted(p.name for p in built.iterdir()) == ["a.txt", "b.txt"]
    # A source that is not the pinned one: the output is refused, nothing replaced.
    _toy_archive(archive, {**notes, "notes/c.txt": b"a third\n"})
    (project / "assets" / "notes" / "archive.tgz").unlink()
    shutil.rmtree(built)
    with pytest.raises(ClinkdError) as err:
        fetch_assets(project, download=True, recipes=[recipe])
    assert f"but project.yml pins {md5}: its public source differs" in str(err.value)
    assert not built.exists()
    assert [p.name for p in built.parent.iterdir() if p.name.startswith(".")] == []
