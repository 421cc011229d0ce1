"""Token-level agreement of tag logits."""
import numpy
import pytest

from spacy_clinkd.evaluation.agreement import argmax_agreement, tag_accuracy


def test_agreement_and_accuracy():
    a = numpy.array([[2.0, 0.0], [0.0, 1.0], [3.0, 1.0]])
    b = numpy.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    assert argmax_agreement([a], [b]) == pytest.approx(2 / 3)
    assert tag_accuracy([a], [numpy.array([0, 1, 1])], [numpy.array([1.0, 1.0, 0.0])]) == 1.0
