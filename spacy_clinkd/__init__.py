"""spacy_clinkd: clinical NER for spaCy on CPU, offline.

Importing this package has no side effects: registered functions reach spaCy
through the entry points declared in setup.py.
"""
from .about import __version__

__all__ = ["__version__"]
