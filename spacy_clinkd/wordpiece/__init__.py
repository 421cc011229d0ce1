"""The adaptive WordPiece vocabulary (Sachidananda et al. 2021): text specs
to count, KL-divergence token selection, WordPiece extension, embedding
initialisation and the vocabulary report. Not spaCy's tokenizer: that is
`spacy_clinkd.tokenizer`. Import from the modules
(`spacy_clinkd.wordpiece.scoring`, …)."""
