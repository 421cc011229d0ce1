"""The Typer app every command module attaches to, and the option parsers
that several commands share."""
from typing import overload

import typer

from ..errors import ClinkdError, Errors

app = typer.Typer(
    name="spacy_clinkd",
    help="spacy_clinkd command-line tools (one command per project step).",
    no_args_is_help=True,
    add_completion=False,
)

# The two groups of `--help` (each command passes one as rich_help_panel):
# commands that run a finished pipeline, on the user's data or on a fixed
# check, apart from the steps project.yml runs to build one.
USER_PANEL = "Use a pipeline"
BUILD_PANEL = "Build the pipeline (project.yml steps)"


@overload
def parse_labels(labels: str) -> list[str]: ...
@overload
def parse_labels(labels: None) -> None: ...
def parse_labels(labels: str | None) -> list[str] | None:
    """Split a comma-separated --labels value.

    labels (Optional[str]): E.g. "DISEASE,MEDICATION"; None means all labels.
    RETURNS (Optional[List[str]]): The labels, stripped, or None.
    RAISES ClinkdError: the value holds no label (E255).
    """
    if labels is None:
        return None
    parsed = [label.strip() for label in labels.split(",") if label.strip()]
    if not parsed:
        raise ClinkdError(Errors.E255)
    return parsed
