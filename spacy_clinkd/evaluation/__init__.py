"""Entity-level evaluation: metrics, the training-time scorer, token
agreement and reports (speed and size are `spacy_clinkd.benchmark`'s).
Import from the modules (`spacy_clinkd.evaluation.metrics`, …)."""
