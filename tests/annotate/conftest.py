"""Fixtures of the annotate tests: small saved rule pipelines (an entity ruler
on the clinical tokenizer), fast enough for real subprocesses, real signals
and notes of megabytes, and the helpers that read and write their files."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import spacy

from tests.util import ROOT

RULE_PATTERNS = [
    {"label": "SYMPTOM", "pattern": "fever"},
    {"label": "SYMPTOM", "pattern": "cough"},
    {"label": "SYMPTOM", "pattern": [{"LOWER": "chest"}, {"LOWER": "pain"}]},
    {"label": "MEDICATION", "pattern": "aspirin"},
    {"label": "DISEASE", "pattern": "diabetes"},
]


def write_rule_pipeline(path: Path, *, version: str) -> Path:
    """Save `en_clinkd_rules` VERSION: the clinical tokenizer and an entity ruler."""
    config = {"nlp": {"tokenizer": {"@tokenizers": "clinkd.clinical_tokenizer.v1"}}}
    nlp = spacy.blank("en", config=config)
    nlp.add_pipe("entity_ruler").add_patterns(RULE_PATTERNS)
    nlp.meta["name"] = "clinkd_rules"
    nlp.meta["version"] = version
    nlp.to_disk(path)
    return path


@pytest.fixture(scope="session")
def rule_pipeline(tmp_path_factory) -> Path:
    return write_rule_pipeline(tmp_path_factory.mktemp("rules") / "model", version="1.0.0")


@pytest.fixture(scope="session")
def rule_pipeline_v2(tmp_path_factory) -> Path:
    """The same rules under another version: another model to a resume."""
    return write_rule_pipeline(tmp_path_factory.mktemp("rules_v2") / "model", version="2.0.0")


def write_jsonl(path: Path, notes: list[dict]) -> Path:
    path.write_text("".join(json.dumps(note) + "\n" for note in notes), encoding="utf8")
    return path


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf8").splitlines()]


def annotate_command(*args) -> list[str]:
    """`python -m spacy_clinkd annotate ARGS --no-progress` as a process argv."""
    return [sys.executable, "-m", "spacy_clinkd", "annotate", *(str(a) for a in args), "--no-progress"]


def run_annotate(*args, timeout: float = 300, **kwargs) -> subprocess.CompletedProcess:
    """Run annotate in a fresh process from the repository root."""
    return subprocess.run(annotate_command(*args), cwd=ROOT, capture_output=True, timeout=timeout, **kwargs)


@pytest.fixture(scope="session")
def annotate_io():
    """The helpers above, for test modules (imported one way: through this fixture)."""

    class IO:
        write_jsonl = staticmethod(write_jsonl)
        read_jsonl = staticmethod(read_jsonl)
        command = staticmethod(annotate_command)
        run = staticmethod(run_annotate)

    return IO
