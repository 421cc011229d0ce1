"""Tests for spacy_clinkd.assets and `python -m spacy_clinkd fetch-assets`."""
import hashlib
import re
import shutil
from pathlib import Path

import pytest
import srsly
from typer.testing import CliRunner
from weasel.schemas import ProjectConfigSchema, validate
from weasel.util import get_checksum

from spacy_clinkd.assets import (
    COPIED,
    SKIPPED,
    UP_TO_DATE,
    AssetResult,
    checksum,
    fetch_assets,
    select_assets,
)
from spacy_clinkd.cli._app import app
from spacy_clinkd.cli.assets import fetch_assets_cli
from spacy_clinkd.errors import ClinkdError

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
    message = str(err.value)
    assert message.startswith(f"The data mirror '{missing}' does not exist.")
    assert f"`python -m spacy project assets {project}`" in message
    assert "`--vars.data_mirror DIR`" in message


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
    assert str(err.value) == (
        f"The data mirror has no '{mirror / 'toy' / 'a.tsv'}', "
        "needed for the asset 'assets/toy/a.tsv'."
    )


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


# The real project.yml


def test_project_assets_valid() -> None:
    config = srsly.read_yaml(REPO / "project.yml")
    assert validate(ProjectConfigSchema, config) == []
    assets = config["assets"]
    assert len(assets) == 31
    dests = [asset["dest"] for asset in assets]
    assert len(set(dests)) == len(dests)
    hex32 = re.compile(r"^[0-9a-f]{32}$")
    raw_url = re.compile(
        r"^https://raw\.githubusercontent\.com/[\w.-]+/[\w.-]+/[0-9a-f]{40}/\S+$"
    )
    for asset in assets:
        dest = asset["dest"]
        assert dest.startswith("assets/"), dest
        assert ".." not in Path(dest).parts, dest
        assert asset.get("description"), dest
        # Also for git folders: without one, weasel deletes a mirror copy and
        # tries to clone it again.
        assert hex32.match(asset["checksum"]), dest
        if "git" in asset:
            assert asset["git"]["repo"].startswith("https://github.com/"), dest
            assert asset["git"]["path"], dest
        elif "url" in asset:
            assert raw_url.match(asset["url"]), dest
        else:
            why = re.search(r"no (public|per-file) URL", asset["description"], re.IGNORECASE)
            assert why, dest


def test_project_mirror_matches_checksums() -> None:
    """The mirror named by vars.data_mirror holds every asset with its checksum."""
    config = srsly.read_yaml(REPO / "project.yml")
    mirror = REPO / config["vars"]["data_mirror"]
    if not mirror.is_dir():
        pytest.skip(f"no data mirror at {mirror}")
    mismatched = [
        asset["dest"]
        for asset in config["assets"]
        if not (mirror / asset["dest"].removeprefix("assets/")).exists()
        or checksum(mirror / asset["dest"].removeprefix("assets/")) != asset["checksum"]
    ]
    assert mismatched == []
