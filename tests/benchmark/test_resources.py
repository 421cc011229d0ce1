"""Memory, disk and parameters: the readings every benchmark is built on."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from spacy_clinkd.benchmark.resources import count_parameters, current_rss_mib, directory_bytes, peak_rss_mib
from tests.util import random_head_pipeline


def test_rss_is_measured_in_mib():
    before = current_rss_mib()
    block = b"\x01" * (64 * 2**20)  # written, so resident
    after = current_rss_mib()
    assert 60 <= after - before <= 72
    # the high-water mark is at least the current RSS, in the same unit
    assert peak_rss_mib() >= after - 1
    del block


def test_directory_bytes_counts_nested_files(tmp_path):
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / "a.bin").write_bytes(b"x" * 3)
    (tmp_path / "sub" / "b.bin").write_bytes(b"x" * 5)
    (tmp_path / "sub" / "deeper" / "c.bin").write_bytes(b"x" * 7)
    assert directory_bytes(tmp_path) == 15
    assert directory_bytes(tmp_path / "sub") == 12


def test_fresh_process_peak_is_its_own(tmp_path):
    """A child's ru_maxrss starts at its parent's peak (Linux carries it over
    fork and exec); the fresh-process peak must be the child's own."""
    if not Path("/proc/self/status").exists():
        pytest.skip("VmHWM is Linux's")
    block = b"\x01" * (768 * 2**20)  # written, so resident in this (the parent) process
    code = (
        "import json, resource; from spacy_clinkd.benchmark.resources import peak_rss_mib; "
        "print(json.dumps([peak_rss_mib(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024]))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    own, inherited = json.loads(done.stdout.splitlines()[-1])
    assert inherited >= 768  # what ru_maxrss alone would report
    assert own < 768 - 100
    del block


def test_parameters_count_the_encoder_and_the_head(tiny_bert):
    nlp = random_head_pipeline(tiny_bert)
    ner = nlp.get_pipe("clinkd_ner")
    encoder = next(node.transformer for node in ner.model.walk() if hasattr(node, "transformer"))
    n_encoder = sum(p.numel() for p in encoder.parameters())
    head = ner.model.get_ref("output_layer")
    n_head = head.get_param("W").size + head.get_param("b").size
    assert n_encoder > 0 and n_head > 0
    assert count_parameters(nlp) == n_encoder + n_head
