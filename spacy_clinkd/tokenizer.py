"""A spaCy tokenizer for clinical text.

English rules plus infixes that clinical writing needs so that entity edges
fall on token boundaries: numbers glued to units ("5mg", "10mg/kg"), slashes
("aspirin/clopidogrel", "mg/dL"), brackets inside words ("pt(3)") and
zero-width characters (U+200B, U+2060 and the BOM U+FEFF, which
`str.isspace` does not treat as spaces, so spaCy does not split on them).

- `clinkd.clinical_tokenizer.v2` splits a zero-width character off wherever it
  is: inside a token (infix), and at its start (prefix) or end (suffix), so
  that no entity reads "\\u200bfever" or "\\ufeffFever". The project's configs
  use it.
- `clinkd.clinical_tokenizer.v1` splits them only inside a token, as it always
  did (a published v1 keeps its behaviour).

Both replace each lone surrogate ("\\ud800", which a Python string can hold
but no file can) by U+FFFD before tokenizing: spaCy's string store cannot
encode one and would raise. The replacement has the same length, so
character offsets into the caller's string stay valid.

The affix patterns are saved with the pipeline's tokenizer, so a packaged
pipeline keeps the ones it was trained with.
"""
import re
from collections.abc import Callable

import spacy
from spacy.lang.en import English
from spacy.language import Language
from spacy.tokenizer import Tokenizer
from spacy.util import compile_infix_regex, compile_prefix_regex, compile_suffix_regex

# Invisible characters that are not whitespace to Python: zero-width space,
# word joiner, byte order mark (zero-width no-break space).
ZERO_WIDTH = "\u200b\u2060\ufeff"
_ZERO_WIDTH_CLASS = "[\u200b\u2060\ufeff]"

CLINICAL_INFIXES: list[str] = [
    # a number glued to a unit: 5mg, 10mg/kg, 3cm (not HbA1c or T2)
    r"(?<=[0-9])(?=(?:[mµμn]?g|kg|m?[lL]|d[lL]|m?mol|mEq|[IiUu]|IU|units?|[mc]?m|mmHg|hr?s?|min|wk|%)\b)",
    r"/",  # mg/dL, 120/80, aspirin/clopidogrel
    r"(?<=[A-Za-z0-9])[()\[\]](?=[A-Za-z0-9])",  # pt(3), IL-[6]
    _ZERO_WIDTH_CLASS,
    r"(?<=[A-Za-z0-9])[;=+~](?=[A-Za-z0-9])",
    r"(?<=[A-Za-z])[:,](?=[A-Za-z0-9])",
]
# v2: zero-width characters at a token's edges, too.
CLINICAL_PREFIXES: list[str] = [_ZERO_WIDTH_CLASS]
CLINICAL_SUFFIXES: list[str] = [_ZERO_WIDTH_CLASS]

LONE_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def replace_lone_surrogates(text: str) -> str:
    """RETURNS (str): `text` with each lone surrogate replaced by U+FFFD (same length)."""
    return LONE_SURROGATE.sub(REPLACEMENT, text)


class ClinicalTokenizer(Tokenizer):
    """spaCy's Tokenizer, taking any Python string (see the module docstring)."""

    def __call__(self, text: str):
        return super().__call__(replace_lone_surrogates(text))


def create_clinical_tokenizer() -> Callable[[Language], Tokenizer]:
    """Registered as `clinkd.clinical_tokenizer.v1` (spacy_tokenizers).

    RETURNS (Callable[[Language], Tokenizer]): builds English's tokenizer with
        CLINICAL_INFIXES added.
    """

    def make_tokenizer(nlp: Language) -> Tokenizer:
        return build_clinical_tokenizer(nlp, zero_width_affixes=False)

    return make_tokenizer


def create_clinical_tokenizer_v2() -> Callable[[Language], Tokenizer]:
    """Registered as `clinkd.clinical_tokenizer.v2` (spacy_tokenizers).

    RETURNS (Callable[[Language], Tokenizer]): builds English's tokenizer with
        CLINICAL_INFIXES added and zero-width characters split off at token
        edges (CLINICAL_PREFIXES, CLINICAL_SUFFIXES).
    """

    def make_tokenizer(nlp: Language) -> Tokenizer:
        return build_clinical_tokenizer(nlp, zero_width_affixes=True)

    return make_tokenizer


def build_clinical_tokenizer(nlp: Language, *, zero_width_affixes: bool = True) -> ClinicalTokenizer:
    """The clinical tokenizer for `nlp`'s vocab.

    nlp (Language): supplies the vocab, prefixes, suffixes and exceptions.
    zero_width_affixes (bool): split zero-width characters at token edges (v2).
    RETURNS (ClinicalTokenizer): the tokenizer.
    """
    defaults = nlp.Defaults
    prefixes = list(defaults.prefixes or [])
    suffixes = list(defaults.suffixes or [])
    if zero_width_affixes:
        prefixes += CLINICAL_PREFIXES
        suffixes += CLINICAL_SUFFIXES
    infixes = list(English.Defaults.infixes or []) + CLINICAL_INFIXES
    return ClinicalTokenizer(
        nlp.vocab,
        rules=defaults.tokenizer_exceptions,
        prefix_search=compile_prefix_regex(prefixes).search if prefixes else None,
        suffix_search=compile_suffix_regex(suffixes).search if suffixes else None,
        infix_finditer=compile_infix_regex(infixes).finditer,
        token_match=defaults.token_match,
        url_match=defaults.url_match,
    )


def customize_tokenizer(tokenizer: Tokenizer) -> Tokenizer:
    """Add CLINICAL_INFIXES to `tokenizer` in place and return it (v1's rules)."""
    infixes = list(English.Defaults.infixes or []) + CLINICAL_INFIXES
    tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
    return tokenizer


def clinical_blank(lang: str = "en") -> Language:
    """A blank pipeline with the clinical tokenizer (v2), for corpus conversion."""
    config = {"nlp": {"tokenizer": {"@tokenizers": "clinkd.clinical_tokenizer.v2"}}}
    return spacy.blank(lang, config=config)
