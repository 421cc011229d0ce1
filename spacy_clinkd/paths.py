"""User paths: outputs checked before any work, written atomically, and
every `OSError` turned into a numbered `ClinkdError` naming the path.

A conversion or an evaluation can run for minutes; an output that cannot be
written (a directory where a file is needed, a file where a directory is
needed, no permission) should stop it at once, not after the work. Outputs
are written to a temporary file beside the target and renamed over it, so a
killed run or a full disk leaves the old file or nothing, never half a file.
"""
import os
import secrets
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from .errors import ClinkdError, Errors


def _reason(err: OSError) -> str:
    return err.strerror or type(err).__name__


def write_error(path: str | Path, err: OSError) -> ClinkdError:
    """RETURNS (ClinkdError): E020 for an `OSError` raised writing `path`."""
    return ClinkdError(Errors.E020.format(path=path, reason=_reason(err)))


def _nearest_existing(path: Path) -> Path:
    for candidate in [path, *path.parents]:
        if candidate.exists():
            return candidate
    return Path(".")


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def _check_parent_writable(path: Path) -> None:
    """The folders of `path` exist or can be made, and a file can be created there."""
    ancestor = _nearest_existing(path.parent)
    if not ancestor.is_dir():
        raise ClinkdError(Errors.E020.format(path=path, reason=f"{ancestor} is a file, not a folder"))
    try:
        # A real probe: os.access says yes to root even on read-only mounts.
        with tempfile.TemporaryFile(dir=ancestor):
            pass
    except OSError as err:
        raise ClinkdError(
            Errors.E020.format(path=path, reason=f"cannot create files in {ancestor} ({_reason(err)})")
        ) from None


def check_output_file(path: str | Path, *, inputs: Mapping[str, str | Path | None] | None = None) -> Path:
    """Check, before any work, that `path` can be written as a file.

    path (Union[str, Path]): the output file.
    inputs (Optional[Mapping[str, Optional[Union[str, Path]]]]): what → input
        path; the output may not be any of them (None values are ignored).
    RETURNS (Path): `path`.
    RAISES ClinkdError: E021 (the output is an input) or E020 (a folder is in
        the way, a parent is a file, or the folder is not writable).
    """
    path = Path(path)
    for what, source in (inputs or {}).items():
        if source is not None and _same_file(path, Path(source)):
            raise ClinkdError(Errors.E021.format(path=path, what=what))
    if path.is_dir():
        raise ClinkdError(Errors.E020.format(path=path, reason="it is a folder"))
    _check_parent_writable(path)
    return path


def check_report_outputs(
    output: str | Path, markdown: str | Path | None, *, inputs: Mapping[str, str | Path | None]
) -> None:
    """Check, before any work, a command's JSON `output` and optional
    `markdown` report: each writable, neither an input, not the same file.

    RAISES ClinkdError: E020, E021 or E023.
    """
    check_output_file(output, inputs=inputs)
    if markdown is not None:
        check_output_file(markdown, inputs=inputs)
        check_distinct({"--output": output, "--markdown": markdown})


def check_output_dir(path: str | Path, *, inputs: Mapping[str, str | Path | None] | None = None) -> Path:
    """Check, before any work, that `path` is or can become a writable folder.

    path (Union[str, Path]): the output folder.
    inputs (Optional[Mapping[str, Optional[Union[str, Path]]]]): what → input
        path; the folder may not be any of them.
    RETURNS (Path): `path`.
    RAISES ClinkdError: E021 or E020.
    """
    path = Path(path)
    for what, source in (inputs or {}).items():
        if source is not None and _same_file(path, Path(source)):
            raise ClinkdError(Errors.E021.format(path=path, what=what))
    if path.exists() and not path.is_dir():
        raise ClinkdError(Errors.E020.format(path=path, reason="it is a file, not a folder"))
    _check_parent_writable(path / "x")
    return path


def check_distinct(outputs: Mapping[str, str | Path | None]) -> None:
    """RAISES ClinkdError: E023 if two of the named outputs are one file."""
    seen: dict[Path, str] = {}
    for what, path in outputs.items():
        if path is None:
            continue
        resolved = Path(path).resolve()
        if resolved in seen:
            raise ClinkdError(Errors.E023.format(path=path, first=seen[resolved], second=what))
        seen[resolved] = what


@contextmanager
def atomic_output(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it over `path` on success.

    Parent folders are created. On any error the temporary file is removed
    and `path` is left as it was; an `OSError` becomes E020 naming `path`.

    path (Union[str, Path]): the file to write.
    YIELDS (Path): where to write the content.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise write_error(path, err) from None
    # Not mkstemp: its files are private (0600); the writer creates this one
    # with the usual permissions.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.partial")
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as err:
        raise write_error(path, err) from None
    finally:
        if tmp.exists():
            tmp.unlink()


def write_atomic(path: str | Path, write: Callable[[Path], object]) -> None:
    """Call `write(tmp)` and rename `tmp` over `path` (see `atomic_output`)."""
    with atomic_output(path) as tmp:
        write(tmp)


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write UTF-8 text to `path` atomically (see `atomic_output`)."""
    with atomic_output(path) as tmp:
        tmp.write_text(text, encoding="utf8")
