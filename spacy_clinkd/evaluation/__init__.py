"""Entity-level evaluation: metrics, the training-time scorer, token
agreement, as plain data (speed and size are `spacy_clinkd.benchmark`'s, the
markdown and figures `spacy_clinkd.report`'s).
Import from the modules (`spacy_clinkd.evaluation.metrics`, …)."""
