"""Hostile text through a loaded pipeline: no crash, no misplaced entity,
batching that changes nothing.

`HOSTILE_TEXTS` is the list the tests run against a tiny random-weight
pipeline and `python -m spacy_clinkd hostile-text` runs against a trained or
packaged one (project command `hostile-text`). For each text the pipeline
must return a Doc whose text is the input (a lone surrogate becomes U+FFFD,
see `spacy_clinkd.tokenizer`), whose entities are on token boundaries with
`ent.text == doc.text[ent.start_char:ent.end_char]` and one finite
confidence in [0, 1] each (`doc.spans[key].attrs["scores"]`, when the
pipeline writes them); and `nlp.pipe` over all texts must give the entities
and confidences that one call per text gives.
"""
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc

from ..paths import check_output_file, write_text_atomic
from ..tokenizer import replace_lone_surrogates

_SENTENCE = "Patient reports dyspnea and chest pain; started on metoprolol 25mg and aspirin.\n"

HOSTILE_TEXTS: dict[str, str] = {
    "empty": "",
    "whitespace_only": " \t\n  \r\n\u00a0\u3000 ",
    "newlines_only": "\n\n\r\n\r",
    "long_document_200k": (_SENTENCE * (200_000 // len(_SENTENCE) + 1))[:200_000],
    "one_5000_character_token": "dyspnea" + "x" * 4988 + "fever",
    "control_characters": "Fever\x00 and\x07 cough\x1b[0m;\x08 pain\x7f \x0bnausea\x0c.",
    "zero_width": "\u200bfever\u200b and \ufeffcough\u2060; chest\u200bpain \u200b\u200b",
    "nbsp_and_hair_spaces": "fever\u00a0and\u200acough\u2009with\u202fchest\u2005pain",
    "emoji": "Patient 🤒 with fever 🤧🤧, seen by 👩🏽‍⚕️; aspirin 💊 25mg.",
    "mixed_scripts": "Fever лихорадка 发烧 حمى Fieber fièvre ज्वर with cough",
    "right_to_left": "\u202eFever\u202c المريض يعاني من الحمى \u200fوالسعال\u200f and cough",
    "combining_marks": "fe\u0301ver and cou\u0308gh, Z\u0336\u0335\u0334algo",
    "crlf": "Fever.\r\nCough and chest pain.\r\n\r\nStarted aspirin 25mg\r",
    "lone_surrogate": "fever \ud800 cough \udfff and \udbff\udc00pain",
    "punctuation_only": "!!!???...;;;---///((([[[",
    "digits_and_units": "5mg/kg/day 120/80mmHg 37.8°C 3x/wk 1e-9 ½tab",
}


def _ent_rows(doc: Doc) -> list[tuple[int, int, str]]:
    return [(e.start_char, e.end_char, e.label_) for e in doc.ents]


def _scores(doc: Doc, key: str) -> list[float] | None:
    group = doc.spans.get(key) if key else None
    return None if group is None else list(group.attrs.get("scores", []))


def check_doc(text: str, doc: Doc, *, spans_key: str = "clinkd_ner") -> list[str]:
    """The problems of one Doc made from `text` (empty: none).

    text (str): the input.
    doc (Doc): what the pipeline returned for it.
    spans_key (str): the span group with the entities' confidences.
    RETURNS (List[str]): one line per problem.
    """
    problems: list[str] = []
    expected = replace_lone_surrogates(text)
    if doc.text != expected:
        problems.append(f"doc.text differs from the input (first 40: {doc.text[:40]!r})")
    for ent in doc.ents:
        if ent.text != expected[ent.start_char : ent.end_char]:
            problems.append(f"entity {ent.text!r} is not the text at {ent.start_char}-{ent.end_char}")
    scores = _scores(doc, spans_key)
    if scores is not None:
        if len(scores) != len(doc.ents):
            problems.append(f"{len(scores)} confidences for {len(doc.ents)} entities")
        bad = [s for s in scores if not (math.isfinite(s) and 0.0 <= s <= 1.0)]
        if bad:
            problems.append(f"confidences outside [0, 1]: {bad[:5]}")
    return problems


def check_pipeline(
    nlp: Language,
    texts: Mapping[str, str] = HOSTILE_TEXTS,
    *,
    batch_size: int = 4,
    spans_key: str = "clinkd_ner",
    atol: float = 1e-4,
) -> dict[str, Any]:
    """Run each text through `nlp`, alone and with `nlp.pipe`, and check both.

    nlp (Language): the loaded pipeline.
    texts (Mapping[str, str]): name → text; default HOSTILE_TEXTS.
    batch_size (int): the batch size of `nlp.pipe`.
    spans_key (str): the span group with the entities' confidences.
    atol (float): how far a batched confidence may be from the single one
        (padding in a batch changes float sums in the last places).
    RETURNS (Dict[str, Any]): per text its length, tokens, entities (and how
        many of them are only whitespace) and problems (an exception counts
        as one), `pipe_problems`, and `ok`.
    """
    results: dict[str, dict[str, Any]] = {}
    singles: dict[str, Doc] = {}
    for name, text in texts.items():
        row: dict[str, Any] = {"chars": len(text), "problems": []}
        try:
            doc = nlp(text)
        except Exception as err:  # noqa: BLE001 - a crash is the finding
            row["problems"].append(f"crashed: {type(err).__name__}: {err}")
        else:
            singles[name] = doc
            # Counted, not a failure: a model may tag a whitespace token.
            blank = sum(1 for ent in doc.ents if not ent.text.strip())
            row.update(tokens=len(doc), entities=len(doc.ents), whitespace_entities=blank)
            row["problems"] += check_doc(text, doc, spans_key=spans_key)
        results[name] = row
    pipe_problems: list[str] = []
    try:
        batched = list(nlp.pipe(texts.values(), batch_size=batch_size))
    except Exception as err:  # noqa: BLE001
        pipe_problems.append(f"nlp.pipe crashed: {type(err).__name__}: {err}")
        batched = []
    for name, doc in zip(texts, batched):
        single = singles.get(name)
        if single is None:
            continue
        if _ent_rows(doc) != _ent_rows(single):
            pipe_problems.append(f"{name}: nlp.pipe entities differ from nlp(text)")
            continue
        a, b = _scores(doc, spans_key) or [], _scores(single, spans_key) or []
        if any(abs(x - y) > atol for x, y in zip(a, b)):
            pipe_problems.append(f"{name}: nlp.pipe confidences differ from nlp(text) by more than {atol}")
    ok = not pipe_problems and all(not row["problems"] for row in results.values())
    return {"texts": results, "pipe_problems": pipe_problems, "batch_size": batch_size, "ok": ok}


def write_hostile_text_check(
    model: str, output: str | Path, *, batch_size: int = 4, inference: str | None = None
) -> dict[str, Any]:
    """Load a pipeline, run `check_pipeline` and write its result as JSON.

    model (str): pipeline directory or installed package name.
    output (Union[str, Path]): the JSON file (checked before the pipeline is
        loaded, written atomically).
    batch_size (int): the batch size of `nlp.pipe`.
    inference (Optional[str]): "fp32" or "int8": the precision clinkd_ner
        runs at (a load-time setting); None: as saved.
    RETURNS (Dict[str, Any]): the result, plus `model` and `inference`.
    """
    import json

    from ..pipeline.loading import load_pipeline, precision_of

    check_output_file(output)
    nlp = load_pipeline(model, inference)
    if inference is None and "clinkd_ner" in nlp.pipe_names:
        inference = precision_of(nlp)
    result = {"model": model, "inference": inference, **check_pipeline(nlp, batch_size=batch_size)}
    # ASCII escapes: a message may quote a lone surrogate, which UTF-8 cannot hold.
    write_text_atomic(output, json.dumps(result, indent=2) + "\n")
    return result
