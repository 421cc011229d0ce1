"""A spaCy tokenizer for clinical text.

English rules plus infixes that clinical writing needs so that entity edges
fall on token boundaries: numbers glued to units ("5mg", "10mg/kg"), slashes
("aspirin/clopidogrel", "mg/dL"), brackets inside words ("pt(3)") and
zero-width characters (U+200B, which `str.isspace` does not treat as a space,
so spaCy does not split on it). The patterns are saved with the pipeline's
tokenizer, so a packaged pipeline keeps them.
"""
from collections.abc import Callable

import spacy
from spacy.lang.en import English
from spacy.language import Language, create_tokenizer
from spacy.tokenizer import Tokenizer
from spacy.util import compile_infix_regex

CLINICAL_INFIXES: list[str] = [
    # a number glued to a unit: 5mg, 10mg/kg, 3cm (not HbA1c or T2)
    r"(?<=[0-9])(?=(?:[mµμn]?g|kg|m?[lL]|d[lL]|m?mol|mEq|[IiUu]|IU|units?|[mc]?m|mmHg|hr?s?|min|wk|%)\b)",
    r"/",  # mg/dL, 120/80, aspirin/clopidogrel
    r"(?<=[A-Za-z0-9])[()\[\]](?=[A-Za-z0-9])",  # pt(3), IL-[6]
    r"[\u200b\u2060\ufeff]",  # zero-width space, word joiner, BOM
    r"(?<=[A-Za-z0-9])[;=+~](?=[A-Za-z0-9])",
    r"(?<=[A-Za-z])[:,](?=[A-Za-z0-9])",
]


def create_clinical_tokenizer() -> Callable[[Language], Tokenizer]:
    """Registered as `clinkd.clinical_tokenizer.v1` (spacy_tokenizers).

    RETURNS (Callable[[Language], Tokenizer]): builds English's tokenizer with
        CLINICAL_INFIXES added.
    """

    def make_tokenizer(nlp: Language) -> Tokenizer:
        return customize_tokenizer(create_tokenizer()(nlp))

    return make_tokenizer


def customize_tokenizer(tokenizer: Tokenizer) -> Tokenizer:
    """Add CLINICAL_INFIXES to `tokenizer` in place and return it."""
    infixes = list(English.Defaults.infixes or []) + CLINICAL_INFIXES
    tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
    return tokenizer


def clinical_blank(lang: str = "en") -> Language:
    """A blank pipeline with the clinical tokenizer, for corpus conversion."""
    config = {"nlp": {"tokenizer": {"@tokenizers": "clinkd.clinical_tokenizer.v1"}}}
    return spacy.blank(lang, config=config)
