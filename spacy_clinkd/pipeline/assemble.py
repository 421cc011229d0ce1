"""Assemble the shipped pipeline: a trained `clinkd_ner` pipeline plus sentence
boundaries and `clinkd_assertion` (what `python -m spacy_clinkd assemble` and
the project's `assemble` step write before `spacy package`)."""
from __future__ import annotations

from pathlib import Path

from ..errors import ClinkdError, Errors
from .assertion import add_assertion


def assemble_pipeline(model: str | Path, output: str | Path, *, after: str = "clinkd_ner") -> list[str]:
    """Load a trained pipeline, add `sentencizer` and `clinkd_assertion` after
    its entity component, and save it.

    model (Union[str, Path]): the trained pipeline (directory or package).
    output (Union[str, Path]): the directory to write.
    after (str): the entity component to follow.
    RETURNS (List[str]): the component names of the written pipeline.
    """
    import spacy

    try:
        nlp = spacy.load(model)
    except (OSError, ValueError) as err:
        raise ClinkdError(Errors.E011.format(path=model, reason=err)) from err
    add_assertion(nlp, after=after)
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(output)
    return list(nlp.pipe_names)
