"""An encoder split over several PyPI packages: the pieces are verified before
anything is read, joined, unpacked once, and the extracted files verified.
A small fake split zip stands in for the 438 MB one."""
import hashlib
import io
import zipfile
from pathlib import Path

import pytest

from spacy_clinkd.errors import ClinkdError
from spacy_clinkd.models import split_encoder
from spacy_clinkd.models.split_encoder import SplitEncoder, SplitPart, assemble_split_encoder
from tests.util import run_cli

pytestmark = pytest.mark.hostile

FILES = {"model.safetensors": b"weights " * 50, "config.json": b'{"model_type": "mpnet"}', "vocab.txt": b"<s>\n"}
ALIAS = "fake-split"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def split_zip(n_parts: int = 3) -> list[bytes]:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in FILES.items():
            zf.writestr(f"{ALIAS}/{name}", data)
        zf.writestr(f"{ALIAS}/desktop.ini", b"not for us")
        zf.writestr(f"{ALIAS}/pytorch_model.bin", b"a pickle")
    data = buffer.getvalue()
    size = -(-len(data) // n_parts)
    return [data[i : i + size] for i in range(0, len(data), size)]


def make_spec(pieces: list[bytes]) -> SplitEncoder:
    parts = tuple(
        SplitPart(
            distribution=f"fake-split-part-{i:03d}",
            member=f"fake_split_part_{i:03d}/input/{ALIAS}.zip.{i:03d}",
            sha256=sha256(piece),
        )
        for i, piece in enumerate(pieces, start=1)
    )
    return SplitEncoder(alias=ALIAS, version="0.0.1", folder=ALIAS, parts=parts, files={k: sha256(v) for k, v in FILES.items()})


@pytest.fixture
def fake(tmp_path, monkeypatch):
    """(spec, folder of bare pieces, folder of wheels, cache); the spec registered as an alias."""
    pieces = split_zip()
    spec = make_spec(pieces)
    monkeypatch.setitem(split_encoder.SPLIT_ENCODERS, ALIAS, spec)
    bare = tmp_path / "bare"
    bare.mkdir()
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    for part, piece in zip(spec.parts, pieces):
        (bare / part.file_name).write_bytes(piece)
        wheel = wheels / f"{part.distribution.replace('-', '_')}-0.0.1-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as zf:
            zf.writestr(part.member, piece)
    return spec, bare, wheels, tmp_path / "cache"


@pytest.mark.parametrize("source", ["bare", "wheels"])
def test_pieces_join_into_a_verified_folder_with_only_the_pinned_files(fake, source):
    spec, bare, wheels, cache = fake
    folder = assemble_split_encoder(ALIAS, parts_dir=bare if source == "bare" else wheels, cache=cache)
    assert folder == cache / ALIAS
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == FILES
    assert [p.name for p in cache.iterdir()] == [ALIAS]  # no scratch left behind


def test_a_second_call_uses_the_cache_and_still_verifies_it(fake):
    spec, bare, _, cache = fake
    folder = assemble_split_encoder(ALIAS, parts_dir=bare, cache=cache)
    for piece in bare.iterdir():
        piece.unlink()  # the pieces are no longer needed
    assert assemble_split_encoder(ALIAS, parts_dir=bare, cache=cache) == folder
    (folder / "config.json").write_bytes(b'{"auto_map": 1}')
    with pytest.raises(ClinkdError, match=r"config.json has SHA-256 .*, expected " + sha256(FILES["config.json"])):
        assemble_split_encoder(ALIAS, parts_dir=bare, cache=cache)


def test_a_missing_piece_is_named_with_its_hash(fake):
    spec, bare, _, cache = fake
    (bare / spec.parts[1].file_name).unlink()
    with pytest.raises(ClinkdError) as exc:
        assemble_split_encoder(ALIAS, parts_dir=bare, cache=cache)
    message = str(exc.value)
    assert "fake-split-part-002" in message and spec.parts[1].sha256 in message
    assert "fake-split-part-001==0.0.1" in message  # how to get them
    assert not (cache / ALIAS).exists()


def test_a_changed_piece_is_named_with_both_hashes_and_nothing_is_unpacked(fake):
    spec, bare, _, cache = fake
    piece = bare / spec.parts[2].file_name
    data = piece.read_bytes()
    changed = data[:5] + bytes([data[5] ^ 0xFF]) + data[6:]
    piece.write_bytes(changed)
    with pytest.raises(ClinkdError) as exc:
        assemble_split_encoder(ALIAS, parts_dir=bare, cache=cache)
    message = str(exc.value)
    assert "fake-split-part-003" in message
    assert f"SHA-256 {sha256(changed)}, expected {spec.parts[2].sha256}" in message
    assert not (cache / ALIAS).exists()


def test_installed_distributions_are_found_through_their_metadata(fake, monkeypatch):
    spec, bare, _, cache = fake

    class Dist:
        def locate_file(self, member):
            return bare / Path(member).name

    def distribution(name):
        if name == "fake-split-part-003":
            raise split_encoder.metadata.PackageNotFoundError(name)
        return Dist()

    monkeypatch.setattr(split_encoder.metadata, "distribution", distribution)
    with pytest.raises(ClinkdError, match="fake-split-part-003 .* is not among the installed packages"):
        assemble_split_encoder(ALIAS, cache=cache)
    monkeypatch.setattr(split_encoder.metadata, "distribution", lambda name: Dist())
    assert (assemble_split_encoder(ALIAS, cache=cache) / "vocab.txt").read_bytes() == FILES["vocab.txt"]


def test_the_alias_resolves_through_the_cache_named_by_the_environment(fake, monkeypatch, tmp_path):
    from spacy_clinkd.models.encoder import resolve_encoder_name

    spec, bare, _, _ = fake
    monkeypatch.setenv("SPACY_CLINKD_CACHE", str(tmp_path / "env_cache"))
    with pytest.raises(ClinkdError, match="fetch-encoder fake-split"):
        resolve_encoder_name(ALIAS)  # nothing installed, nothing cached
    assemble_split_encoder(ALIAS, parts_dir=bare)
    assert resolve_encoder_name(ALIAS) == str(tmp_path / "env_cache" / "encoders" / ALIAS)


def test_fetch_encoder_command(fake, monkeypatch, capsys):
    spec, _, wheels, cache = fake
    code, out, err = run_cli(monkeypatch, capsys, "fetch-encoder", ALIAS, "--parts", wheels, "--cache", cache)
    assert code == 0, err
    assert (cache / ALIAS / "model.safetensors").read_bytes() == FILES["model.safetensors"]
    code, _, err = run_cli(monkeypatch, capsys, "fetch-encoder", "no-such-encoder")
    assert code == 1 and "Unknown encoder alias 'no-such-encoder'" in err
    code, _, err = run_cli(monkeypatch, capsys, "fetch-encoder", ALIAS, "--download")
    assert code == 1 and "--download needs --parts" in err


def test_download_asks_pip_only_for_the_missing_wheels(fake, monkeypatch, tmp_path):
    import subprocess

    spec, bare, _, _ = fake
    (bare / spec.parts[0].file_name).unlink()
    calls = []

    def run(cmd, **kwargs):
        calls.append(cmd)
        return subprocess.CompletedProcess(cmd, 1, "", "ERROR: No matching distribution found for fake-split-part-001")

    monkeypatch.setattr(subprocess, "run", run)
    with pytest.raises(ClinkdError, match="pip could not download fake-split-part-001==0.0.1 .*No matching distribution"):
        split_encoder.download_parts(spec, bare)
    assert calls[0][-1] == "fake-split-part-001==0.0.1" and "fake-split-part-002==0.0.1" not in calls[0]
    calls.clear()
    split_encoder.download_parts(spec, tmp_path / "wheels")  # all there: pip is not run
    assert calls == []
