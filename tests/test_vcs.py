"""The git commit of a checkout, and whether tracked files differ from it."""
import subprocess

from spacy_clinkd.vcs import git_commit


def test_git_commit_and_uncommitted_changes(tmp_path, monkeypatch):
    assert git_commit(tmp_path) == {"commit": "unknown", "dirty": None}
    for key, value in {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
                       "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}.items():
        monkeypatch.setenv(key, value)
    (tmp_path / "a.txt").write_text("one", encoding="utf8")
    for args in (["init", "-q"], ["add", "a.txt"], ["commit", "-q", "-m", "one"]):
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True)
    head = subprocess.run(["git", "-C", str(tmp_path), "rev-parse", "HEAD"], check=True, capture_output=True, text=True)
    assert git_commit(tmp_path) == {"commit": head.stdout.strip(), "dirty": False}
    (tmp_path / "a.txt").write_text("two", encoding="utf8")
    assert git_commit(tmp_path)["dirty"] is True
