__title__ = "spacy_clinkd"
__version__ = "0.1.0"
__summary__ = "Small, fast clinical NER for spaCy: adaptive tokenization and knowledge distillation"
