"""Assemble the shipped pipeline: a trained `clinkd_ner` pipeline plus sentence
boundaries and `clinkd_assertion` (what `python -m spacy_clinkd assemble` and
the project's `assemble` step write before `spacy package`), optionally with
the int8 encoder stored and chosen as the default precision."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..errors import ClinkdError, Errors
from ..models.precision import check_precision
from .assertion import LEARNED, RULES, add_assertion, load_classifier
from .loading import load_pipeline


def assemble_pipeline(
    model: str | Path,
    output: str | Path,
    *,
    after: str = "clinkd_ner",
    int8: bool = False,
    inference: str = "fp32",
    keep_fp32: Sequence[str] = (),
    assertion_classifier: str | Path | None = None,
) -> list[str]:
    """Load a trained pipeline, add `sentencizer` and `clinkd_assertion` after
    its entity component, and save it.

    model (Union[str, Path]): the trained pipeline (directory or package).
    output (Union[str, Path]): the directory to write.
    after (str): the entity component to follow.
    int8 (bool): make the int8 encoder of `after` (a `clinkd_ner`) and save it
        with the pipeline, so that int8 is one setting away after loading.
    inference (str): the precision the saved config chooses, "fp32" or
        "int8" (which needs `int8`).
    keep_fp32 (Sequence[str]): encoder weight-name prefixes (e.g.
        "encoder.layer.0") whose MatMuls the int8 encoder keeps in fp32.
    assertion_classifier (Optional[Union[str, Path]]): a trained assertion
        classifier (`train-assertion`'s output, encoder or linear): saved inside the pipeline and
        chosen (backend "learned"); None: the cue rules decide.
    RETURNS (List[str]): the component names of the written pipeline.
    """
    check_precision(inference)
    if inference == "int8" and not int8:
        raise ClinkdError(Errors.E044)
    nlp = load_pipeline(model, inference if int8 else None, component=after)
    if int8:
        nlp.get_pipe(after).quantize(exclude=keep_fp32)
    add_assertion(nlp, after=after, backend=RULES if assertion_classifier is None else LEARNED)
    if assertion_classifier is not None:
        nlp.get_pipe("clinkd_assertion").classifier = load_classifier(assertion_classifier)
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(output)
    return list(nlp.pipe_names)
