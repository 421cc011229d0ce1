"""`python -m spacy_clinkd fetch-assets`: the corpora from a local mirror, else their public sources."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ._app import BUILD_PANEL, app

if TYPE_CHECKING:
    from ..assets import AssetResult


def _print_result(result: AssetResult) -> None:
    from ..assets import SKIPPED

    # One unwrapped line per asset, so logs stay greppable.
    if result.status == SKIPPED:
        mark = "ℹ"
    elif result.checksum is None:
        mark = "⚠"  # only checked against the mirror's own bytes
    else:
        mark = "✔"
    typer.echo(f"{mark} {result.describe()}")


@app.command("fetch-assets", rich_help_panel=BUILD_PANEL)
def fetch_assets_cli(
    project_dir: Annotated[
        Path,
        typer.Argument(help="Project directory (holds project.yml).", file_okay=False),
    ] = Path(),
    *,
    mirror: Annotated[
        Path | None,
        typer.Option(
            "--mirror",
            "-m",
            help="Local mirror of the corpora, laid out like assets/. Relative paths are "
            "relative to PROJECT_DIR. Default: the project's vars.data_mirror.",
        ),
    ] = None,
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only",
            help="Only assets whose dest starts with assets/PREFIX, e.g. --only maccrobat "
            "(repeatable).",
        ),
    ] = None,
    download: Annotated[
        bool,
        typer.Option(
            "--download",
            help="Get what the mirror lacks from its public source: the asset's URL or git "
            "folder (as `spacy project assets`), or, for a derived asset, its recipe "
            "(spacy_clinkd/derived_assets.py, as `spacy project run build-assets`). "
            "Without it nothing is downloaded.",
        ),
    ] = False,
) -> None:
    """Get the project.yml assets and verify their MD5s: from a local mirror
    first, then the project's own copy, then (--download) their public sources.

    Offline, nothing is downloaded: derived assets are still rebuilt when their
    sources are at hand. Assets already in place with the same content are
    left alone. What cannot be had is listed at the end, each asset with the
    URL or command that gets it, and the command fails.
    """
    from ..assets import fetch_assets

    report = fetch_assets(
        project_dir, mirror=mirror, only=only or (), download=download, on_result=_print_result
    )
    typer.echo(f"✔ {report.summary()}")
