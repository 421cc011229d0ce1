import pytest

from spacy_clinkd.wordpiece.vocab_report import plot_report


def _report():
    side = lambda m: {"mean_pieces": m, "split_share": 0.5}  # noqa: E731
    return {
        "entity_words": {"DISEASE": {"before": side(2.0), "after": side(1.5)}},
        "documents": {"before": {"mean_pieces_per_doc": 300.0}, "after": {"mean_pieces_per_doc": 250.0}},
        "vocab_size": {"before": 30522, "after": 32022},
    }


def test_plot_report_writes_a_png_atomically(tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "plots" / "fragmentation.png"
    assert plot_report(_report(), path) == path
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # Written beside itself and renamed: no temporary file is left.
    assert sorted(p.name for p in path.parent.iterdir()) == ["fragmentation.png"]
    # Fixed metadata: the same numbers give the same bytes.
    first = path.read_bytes()
    plot_report(_report(), path)
    assert path.read_bytes() == first
