"""Reports: markdown tables and cells (`tables`), figures, the markdown of
`evaluate` and the assertion CV (`scores`), and the model card rendered from
its jinja2 template (`model_card`). Scores come from `spacy_clinkd.evaluation`
as plain data; this package only writes them. Import from the modules."""
