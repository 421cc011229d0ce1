"""Batch annotation of notes: inputs, records, the resumable writer, engines.

`annotate()` (in `run.py`) is what `python -m spacy_clinkd annotate` runs.
"""
