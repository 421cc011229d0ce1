"""User paths: outputs checked before any work, written atomically, OSErrors
as numbered errors naming the path."""
import errno
import os

import pytest

from spacy_clinkd.errors import ClinkdError
from spacy_clinkd.paths import (
    atomic_output,
    check_distinct,
    check_output_dir,
    check_output_file,
    write_text_atomic,
)

pytestmark = pytest.mark.hostile


def test_an_output_may_not_be_an_input(tmp_path):
    source = tmp_path / "x.bio"
    source.write_text("A\tO\n", encoding="utf8")
    with pytest.raises(ClinkdError, match=r"x\.bio is also an input \(the input file\)"):
        check_output_file(tmp_path / "sub" / ".." / "x.bio", inputs={"the input file": source})
    link = tmp_path / "link.bio"
    link.symlink_to(source)
    with pytest.raises(ClinkdError, match="is also an input"):
        check_output_file(link, inputs={"the input file": source})


@pytest.mark.parametrize(
    "make,reason",
    [
        (lambda p: (p / "out.spacy").mkdir(), "it is a folder"),
        (lambda p: (p / "file").write_text("x"), "is a file, not a folder"),
    ],
    ids=["folder-in-the-way", "parent-is-a-file"],
)
def test_outputs_that_cannot_be_written_are_refused(tmp_path, make, reason):
    make(tmp_path)
    target = tmp_path / "out.spacy" if reason == "it is a folder" else tmp_path / "file" / "deeper" / "out.spacy"
    with pytest.raises(ClinkdError, match=f"Cannot write {target}: .*{reason}"):
        check_output_file(target)
    assert not (tmp_path / "file" / "deeper").exists()


def test_unwritable_folder_is_refused_even_for_root():
    # os.access says yes to root; the check creates a file to find out.
    with pytest.raises(ClinkdError, match=r"Cannot write /sys/clinkd/out\.spacy: cannot create files in /sys"):
        check_output_file("/sys/clinkd/out.spacy")
    with pytest.raises(ClinkdError, match="cannot create files in /sys"):
        check_output_dir("/sys/clinkd_out")


def test_output_dir_that_is_a_file(tmp_path):
    (tmp_path / "corpus").write_text("x", encoding="utf8")
    with pytest.raises(ClinkdError, match="corpus: it is a file, not a folder"):
        check_output_dir(tmp_path / "corpus")


def test_two_outputs_may_not_be_one_file(tmp_path):
    with pytest.raises(ClinkdError, match="Two outputs are the same file .*: --output and --markdown"):
        check_distinct({"--output": tmp_path / "a", "--markdown": tmp_path / "." / "a"})


def test_a_failed_write_leaves_the_old_file_and_no_partial_one(tmp_path):
    target = tmp_path / "report.json"
    target.write_text("old", encoding="utf8")
    with pytest.raises(RuntimeError):
        with atomic_output(target) as tmp:
            tmp.write_text("half", encoding="utf8")
            raise RuntimeError("killed")
    assert target.read_text(encoding="utf8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_a_full_disk_is_a_numbered_error_naming_the_file(tmp_path, monkeypatch):
    target = tmp_path / "train.spacy"

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("pathlib.Path.write_text", full)
    with pytest.raises(ClinkdError, match=f"Cannot write {target}: No space left on device"):
        write_text_atomic(target, "data")
    assert list(tmp_path.iterdir()) == []


def test_atomic_output_keeps_the_usual_permissions(tmp_path):
    write_text_atomic(tmp_path / "a.json", "{}")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "a.json").stat().st_mode & 0o777 == 0o666 & ~umask
