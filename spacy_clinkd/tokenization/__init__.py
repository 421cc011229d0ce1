"""Adaptive tokenization: KL-divergence token selection, WordPiece
extension and embedding initialisation (Sachidananda et al. 2021)."""
from .corpus import (
    DEFAULT_CLINICAL,
    DEFAULT_GENERAL,
    CorpusSpec,
    iter_texts,
    parse_spec,
    parse_specs,
)
from .counting import PieceCache, WordSplitter, count_words, piece_runs, wordpiece
from .embeddings import extend_model, init_new_rows
from .extend import extend_tokenizer, load_tokenizer
from .report import fragmentation_report, write_report
from .scoring import Candidate, Selection, score_candidates, select_tokens

__all__ = [
    "DEFAULT_CLINICAL",
    "DEFAULT_GENERAL",
    "Candidate",
    "CorpusSpec",
    "PieceCache",
    "Selection",
    "WordSplitter",
    "count_words",
    "extend_model",
    "extend_tokenizer",
    "fragmentation_report",
    "init_new_rows",
    "iter_texts",
    "load_tokenizer",
    "parse_spec",
    "parse_specs",
    "piece_runs",
    "score_candidates",
    "select_tokens",
    "wordpiece",
    "write_report",
]
