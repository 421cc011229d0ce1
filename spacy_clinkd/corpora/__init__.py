"""Corpus readers: brat standoff, CoNLL/BIO and PubTator → spaCy Docs/DocBins."""
from .brat import (
    convert_brat,
    load_split,
    parse_ann,
    read_brat_document,
    read_brat_split,
)
from .conll import convert_conll, read_conll
from .labels import load_label_map
from .pubtator import PubTatorDocument, convert_pubtator, iter_pubtator, read_pubtator
from .report import ConversionReport
from .spans import CharSpan, align_span, resolve_overlaps, set_entities, trim_whitespace
from .textio import read_lines, read_text, write_docbin

__all__ = [
    "CharSpan",
    "ConversionReport",
    "PubTatorDocument",
    "align_span",
    "convert_brat",
    "convert_conll",
    "convert_pubtator",
    "iter_pubtator",
    "load_label_map",
    "load_split",
    "parse_ann",
    "read_brat_document",
    "read_brat_split",
    "read_conll",
    "read_lines",
    "read_pubtator",
    "read_text",
    "resolve_overlaps",
    "set_entities",
    "trim_whitespace",
    "write_docbin",
]
