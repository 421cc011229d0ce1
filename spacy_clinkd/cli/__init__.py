"""`python -m spacy_clinkd COMMAND`: one module per project step."""
import sys

from ..errors import ClinkdError

# Importing the command modules attaches their commands to `app`.
from . import annotate, assemble, assets, benchmark, convert, distill, evaluate, student, train, vocab  # noqa: F401,E402
from ._app import app


def main() -> None:
    """Run the CLI; user errors print as one message, not a traceback."""
    try:
        app()
    except ClinkdError as err:
        print(f"✘ {err}", file=sys.stderr)
        sys.exit(1)


__all__ = ["app", "main"]
