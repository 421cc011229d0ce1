"""Knowledge distillation: teachers, cached teacher targets, the corpus reader
whose examples carry them, and spaCy's training loop driven on it."""
