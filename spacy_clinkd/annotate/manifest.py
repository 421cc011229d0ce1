"""What an output was made from, so a resume never mixes two runs in one file.

Before the first record, `annotate` writes the output's manifest beside it
(`notes.jsonl` → `notes.manifest.json`, atomically):

    {"annotate_manifest": 1, "spacy_clinkd": "0.1.0",
     "input": {"path": "/data/notes.jsonl", "format": "jsonl", "text_column": null,
               "notes": 10000, "ids_sha256": "…", "size": 123456, "mtime": 1767225600.0},
     "model": {"name": "en_clinkd_ner", "version": "0.1.0", "precision": "fp32",
               "source": "en_clinkd_ner"},
     "settings": {"window_chars": 100000}}

A later run on the same output compares its own identity with it
(`check_resume`). What must match: the input's ids, in order (`ids_sha256`:
which notes, not their bytes, so a note fixed in place can be retried with
`--retry-failed`) and its CSV text column; the model's name, version and
precision; the window size (it decides the records of long notes). The
input's path, size and time, and where the model was loaded from, are kept
for people only: a moved input or a reinstalled model still resumes. Two
pipelines with the same name and version are taken to be the same model.
An output that holds records but has no manifest was not written by this
annotate, and is refused before anything in it is touched.
"""
from __future__ import annotations

import hashlib
import json
import os
from importlib import metadata
from pathlib import Path
from typing import Any

from ..errors import ClinkdError, Errors
from ..paths import write_text_atomic
from ..pipeline.loading import precision_of

MANIFEST_VERSION = 1
# The fields that must match for a run to resume an output.
MATCH = {
    "input": ("notes", "ids_sha256", "text_column"),
    "model": ("name", "version", "precision"),
    "settings": ("window_chars",),
}


def manifest_path(output: str | Path) -> Path:
    """The manifest beside an output: notes.jsonl → notes.manifest.json."""
    output = Path(output)
    stem = output.name[: -len(".jsonl")] if output.name.endswith(".jsonl") else output.name
    return output.with_name(f"{stem}.manifest.json")


def ids_digest(ids: list[str]) -> str:
    """SHA-256 of the ids in order (each length-prefixed, so no two lists share one)."""
    digest = hashlib.sha256()
    for note_id in ids:
        data = note_id.encode("utf8")
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()


def input_identity(path: Path, *, input_format: str, text_column: str | None, ids: list[str]) -> dict[str, Any]:
    """The input part of a manifest (see the module docstring)."""
    try:
        st = os.stat(path)
        size, mtime = (st.st_size, st.st_mtime) if not path.is_dir() else (None, st.st_mtime)
    except OSError:
        size = mtime = None
    return {
        "path": str(path.absolute()),
        "format": input_format,
        "text_column": text_column if input_format == "csv" else None,
        "notes": len(ids),
        "ids_sha256": ids_digest(ids),
        "size": size,
        "mtime": mtime,
    }


def model_identity(nlp: Any, source: str) -> dict[str, Any]:
    """The model part of a manifest: name (`lang_name`), version, precision.

    nlp (Language): the loaded pipeline.
    source (str): what it was loaded from (kept, not compared).
    """
    meta = nlp.meta
    return {
        "name": f"{meta.get('lang', nlp.lang)}_{meta.get('name', 'pipeline')}",
        "version": str(meta.get("version", "")),
        "precision": precision_of(nlp),
        "source": source,
    }


def _package_version() -> str | None:
    try:
        return metadata.version("spacy_clinkd")
    except metadata.PackageNotFoundError:  # run from a source tree
        return None


def make_manifest(input_: dict[str, Any], model: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    """A manifest (module docstring) from its three parts."""
    return {
        "annotate_manifest": MANIFEST_VERSION,
        "spacy_clinkd": _package_version(),
        "input": input_,
        "model": model,
        "settings": settings,
    }


def differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What differs between two manifests in the fields that must match, for people."""
    found = []
    for part, keys in MATCH.items():
        before, now = old.get(part) or {}, new.get(part) or {}
        for key in keys:
            if before.get(key) != now.get(key):
                found.append(f"{part} {key}: {before.get(key)!r} then, {now.get(key)!r} now")
    if any(part.startswith("input ") for part in found):
        found.append(f"the input was {(old.get('input') or {}).get('path')}, now {new['input']['path']}")
    return found


def read_manifest(path: Path, *, output: Path, errors: Path) -> dict[str, Any] | None:
    """The manifest of an earlier run, or None if there is none.

    RAISES ClinkdError: E421, it exists but is not a manifest.
    """
    try:
        data = json.loads(path.read_text(encoding="utf8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as err:
        raise ClinkdError(Errors.E421.format(path=path, reason=err, output=output, errors=errors)) from None
    if not isinstance(data, dict) or data.get("annotate_manifest") != MANIFEST_VERSION:
        reason = "not an annotate manifest of this version"
        raise ClinkdError(Errors.E421.format(path=path, reason=reason, output=output, errors=errors))
    return data


def check_resume(
    manifest: dict[str, Any], *, path: Path, output: Path, errors: Path, has_records: bool
) -> bool:
    """Check that this run may write to an output; RETURNS whether its manifest must be (re)written.

    manifest (Dict[str, Any]): this run's manifest.
    path (Path): the manifest file.
    output (Path): the output (named in messages).
    errors (Path): its errors file.
    has_records (bool): whether the output or the errors file holds any bytes.
    RAISES ClinkdError: E419 (records of another input, model or window
        size), E420 (records and no manifest), E421 (an unreadable manifest).
    """
    old = read_manifest(path, output=output, errors=errors)
    if old is None:
        if has_records:
            raise ClinkdError(Errors.E420.format(output=output, manifest=path))
        return True
    found = differences(old, manifest)
    if not found:
        return False
    if has_records:
        text = "; ".join(found)
        raise ClinkdError(Errors.E419.format(output=output, differences=text, errors=errors, manifest=path))
    return True  # a manifest without records: nothing to mix, start over


def write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    """Write the manifest atomically (a kill leaves the old one or the new one)."""
    write_text_atomic(path, json.dumps(manifest, indent=2) + "\n")
