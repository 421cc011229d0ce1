"""Entity-level evaluation: metrics, the training-time scorer, token
agreement, as plain data (the markdown and figures are
`spacy_clinkd.report`'s; speed and size `spacy_clinkd.benchmark`'s, except
the one timed pass `evaluate` keeps so its metrics JSON keeps its
`efficiency` field).
Import from the modules (`spacy_clinkd.evaluation.metrics`, …)."""
