"""Entity-level evaluation: metrics, the training-time scorer and reports."""
from .bootstrap import bootstrap_intervals
from .metrics import aggregate_counts, count_doc, remap_entities, score_entities
from .report import metrics_to_markdown
from .scorer import make_ner_scorer

__all__ = [
    "bootstrap_intervals",
    "aggregate_counts",
    "count_doc",
    "make_ner_scorer",
    "metrics_to_markdown",
    "remap_entities",
    "score_entities",
]
