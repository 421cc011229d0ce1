"""Batch annotation of notes: inputs, records, the resumable writer, the
manifest, engines and their worker processes.

`annotate()` (in `run.py`) is what `python -m spacy_clinkd annotate` runs.
"""
