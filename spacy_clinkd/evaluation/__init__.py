"""Entity-level evaluation: metrics, the training-time scorer, token
agreement, the efficiency benchmark and reports. Import from the modules
(`spacy_clinkd.evaluation.metrics`, …)."""
