"""`python -m spacy_clinkd COMMAND`: one module per project step.

The command modules only parse arguments: they import the package modules
that do the work inside the command functions, so `--help` and argument
errors load neither spaCy nor torch (tests/cli/test_startup.py).
"""
import sys

from ..errors import ClinkdError, Errors

# Importing the command modules attaches their commands to `app`.
from . import (  # noqa: F401,E402
    annotate,
    assemble,
    assertion,
    assets,
    benchmark,
    compare,
    convert,
    distill,
    encoder,
    evaluate,
    model_card,
    serve,
    student,
    train,
    transfer,
    vocab,
)
from ._app import app


def user_error(err: Exception) -> ClinkdError | None:
    """The user-facing error for an exception that reached the top, or None
    for a bug (which keeps its traceback).

    The package turns the errors of user paths into `ClinkdError`s where it
    opens them; an `OSError` that names a file and still gets here (from a
    library, say) is reported the same way, as E022, never as a traceback.
    """
    if isinstance(err, ClinkdError):
        return err
    if isinstance(err, OSError) and err.filename is not None:
        return ClinkdError(Errors.E022.format(path=err.filename, reason=err.strerror or err))
    return None


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; user errors print as one message, not a traceback.

    argv (Optional[List[str]]): the arguments; None reads `sys.argv`.
    """
    try:
        app(args=argv)
    except Exception as err:
        error = user_error(err)
        if error is None:
            raise
        print(f"✘ {error}", file=sys.stderr)
        sys.exit(1)


__all__ = ["app", "main"]
