"""Corpus readers: brat standoff, CoNLL/BIO, PubTator and transfer texts →
spaCy Docs/DocBins. Import from the modules (`spacy_clinkd.corpora.brat`, …)."""
