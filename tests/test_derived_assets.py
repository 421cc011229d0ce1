"""spacy_clinkd.derived_assets and scripts/build_derived_assets.py: the
recipes that rebuild the derived assets, on tiny synthetic sources written
here (never the network), and, where the data mirror is at hand, on its real
sources against the checksums project.yml pins."""
import bz2
import gzip
import hashlib
import importlib.util
import io
import json
import shutil
import struct
import tarfile
from pathlib import Path

import pytest
import srsly

import spacy_clinkd.assets
import spacy_clinkd.derived_assets as derived
from spacy_clinkd.assets import BUILT, COPIED, UP_TO_DATE, build_derived, checksum
from spacy_clinkd.derived_assets import (
    RECIPES,
    brown_sentence_lines,
    content_md5,
    data_frame_columns,
    data_frame_csv,
    e3c_layer3_lines,
    extract_txt_members,
    read_rda,
    split_parts,
)
from spacy_clinkd.errors import ClinkdError
from tests.util import ROOT, refuse_downloads

SCRIPT = ROOT / "scripts" / "build_derived_assets.py"
_spec = importlib.util.spec_from_file_location("build_derived_assets", SCRIPT)
assert _spec is not None and _spec.loader is not None
script = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(script)


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test here goes online: one that downloads installs its own fake."""
    refuse_downloads(monkeypatch)


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def _tar(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


# -- Brown -------------------------------------------------------------------

# NLTK's layout: cats.txt, one file per id, tab-indented `word/tag` sentences
# between blank lines.
BROWN_FILES = {
    "cats.txt": "cb02 editorial\nca01 news\n",
    "ca01": "\n\n\tThe/at jury/nn said/vbd ./.\n\n\n\tAtlanta's/np$ 1/2/cd share/nn ./.\n\n",
    "cb02": "\n\n\tNo/at comment/nn ``/`` here/rb ''/''\n",
    "README": "not a corpus file\n",
}
BROWN_LINES = [
    "ca01\tnews\tThe jury said .\n",
    "ca01\tnews\tAtlanta's 1/2 share .\n",
    "cb02\teditorial\tNo comment `` here ''\n",
]


def _brown(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for name, text in BROWN_FILES.items():
        (folder / name).write_text(text)
    return folder


def test_brown_lines_strip_tags_at_the_last_slash(tmp_path: Path) -> None:
    assert brown_sentence_lines(_brown(tmp_path / "tagged")) == BROWN_LINES


def test_brown_errors_name_the_file(tmp_path: Path) -> None:
    tagged = _brown(tmp_path / "tagged")
    (tagged / "cb02").unlink()
    with pytest.raises(ClinkdError, match=r"cb02 is missing: .*cats.txt lists it"):
        brown_sentence_lines(tagged)
    (tagged / "cats.txt").write_text("ca01 news\nca02\n")
    with pytest.raises(ClinkdError, match=r"cats.txt:2: expected 'fileid category', got 'ca02'"):
        brown_sentence_lines(tagged)


def test_split_parts_fills_each_part_before_the_next() -> None:
    lines = ["aaaa\n", "bb\n", "cccccc\n", "d\n"]  # 5, 3, 7, 2 bytes
    assert split_parts(lines, max_bytes=8) == [b"aaaa\nbb\n", b"cccccc\n", b"d\n"]
    assert split_parts(lines, max_bytes=10) == [b"aaaa\nbb\n", b"cccccc\nd\n"]
    assert b"".join(split_parts(lines, max_bytes=7)) == "".join(lines).encode()
    with pytest.raises(ClinkdError, match="A line of 7 bytes cannot go into parts of at most 6 bytes"):
        split_parts(lines, max_bytes=6)


BROWN_PROJECT = """
vars:
  data_mirror: "../mirror"
assets:
  - dest: "assets/brown/tagged"
    git: {{repo: "https://github.com/example/brown", branch: "master", path: "corpora/brown"}}
    checksum: "{tagged}"
  - dest: "assets/brown/brown_sentences.part0.tsv"
    checksum: "{part0}"
  - dest: "assets/brown/brown_sentences.part1.tsv"
    checksum: "{part1}"
"""


def test_build_brown_from_the_mirror_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # parts of at most 60 bytes: the first two lines (23 + 32 bytes), then the third
    monkeypatch.setattr(derived, "BROWN_PART_BYTES", 60)
    part0, part1 = "".join(BROWN_LINES[:2]).encode(), BROWN_LINES[2].encode()
    project, mirror = tmp_path / "project", tmp_path / "mirror"
    project.mkdir()
    tagged = _brown(mirror / "brown" / "tagged")
    (project / "project.yml").write_text(
        BROWN_PROJECT.format(tagged=checksum(tagged), part0=_md5(part0), part1=_md5(part1))
    )
    report = build_derived(project, names=["brown"], download=False)
    assert [(r.dest, r.status) for r in report.results] == [
        ("assets/brown/tagged", COPIED),
        ("assets/brown/brown_sentences.part0.tsv", BUILT),
        ("assets/brown/brown_sentences.part1.tsv", BUILT),
    ]
    assert (project / "assets/brown/brown_sentences.part0.tsv").read_bytes() == part0
    assert (project / "assets/brown/brown_sentences.part1.tsv").read_bytes() == part1
    # Built and verified: a second run keeps them.
    again = build_derived(project, names=["brown"], download=False)
    assert [r.status for r in again.results] == [UP_TO_DATE, UP_TO_DATE]
    # A corpus that fills another number of parts is not the pinned one.
    monkeypatch.setattr(derived, "BROWN_PART_BYTES", 1000)
    with pytest.raises(ClinkdError, match=r"The lines fill 1 parts, but the recipe writes"):
        build_derived(project, names=["brown"], download=False, force=True)
    assert (project / "assets/brown/brown_sentences.part1.tsv").read_bytes() == part1


def test_unknown_recipe_is_named(tmp_path: Path) -> None:
    (tmp_path / "project.yml").write_text("assets: []\n")
    with pytest.raises(ClinkdError, match=r"--only browne: no such recipe; the recipes are brown, e3c"):
        build_derived(tmp_path, names=["browne"])


# -- E3C ---------------------------------------------------------------------

E3C_PREFIX = "E3C-Corpus-0123abc/data_collection"


def _e3c_doc(doc_id: str, url: str, text: str, **extra: object) -> bytes:
    doc = {
        "authors": [{"author": "A. Author"}], "doi": f"10.1/{doc_id}", "publication_date": "2020-01-02",
        "id": doc_id, "url": url, "source": "Journal", "source_url": "", "licence": "CC BY",
        "language": "en", "type": "pubmed", "description": "", "text": text, **extra,
    }
    return json.dumps(doc, indent=2).encode()


E3C_FILES = {
    f"{E3C_PREFIX}/English/layer3/EN2.json": _e3c_doc("EN2", "https://pubmed.ncbi.nlm.nih.gov/123", "Fever 38 °C."),
    f"{E3C_PREFIX}/English/layer3/EN1.json": _e3c_doc(
        "EN1", "https://www.journal.example/1/full/", "It’s a case.", type="journal", licence="CC BY 4.0"
    ),
    f"{E3C_PREFIX}/English/layer3/EN3.json": _e3c_doc("EN3", "https://pubmed.ncbi.nlm.nih.gov/9", "Removed."),
    f"{E3C_PREFIX}/English/layer1/EN9.json": _e3c_doc("EN9", "x", "Another layer."),
    f"{E3C_PREFIX}/Italian/layer3/IT1.json": _e3c_doc("IT1", "x", "Un caso."),
}
# One line per document, by id, the upstream fields in the JSONL's order, not ASCII-escaped.
E3C_JSONL = (
    '{"id": "EN1", "pmid": null, "doi": "10.1/EN1", "url": "https://www.journal.example/1/full/", '
    '"source": "Journal", "type": "journal", "licence": "CC BY 4.0", "publication_date": "2020-01-02", '
    '"text": "It’s a case."}\n'
    '{"id": "EN2", "pmid": "123", "doi": "10.1/EN2", "url": "https://pubmed.ncbi.nlm.nih.gov/123", '
    '"source": "Journal", "type": "pubmed", "licence": "CC BY", "publication_date": "2020-01-02", '
    '"text": "Fever 38 °C."}\n'
)


def test_e3c_layer3_from_the_repository_archive(tmp_path: Path) -> None:
    archive = _tar(tmp_path / "e3c.tar.gz", E3C_FILES)
    assert "".join(e3c_layer3_lines(archive, ["EN3"])) == E3C_JSONL
    # a checkout of the repository gives the same
    checkout = tmp_path / "checkout"
    for name, data in E3C_FILES.items():
        path = checkout / name.split("/", 1)[1]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    assert "".join(e3c_layer3_lines(checkout, ["EN3"])) == E3C_JSONL


def test_e3c_refuses_another_release(tmp_path: Path) -> None:
    archive = _tar(tmp_path / "e3c.tar.gz", E3C_FILES)
    with pytest.raises(ClinkdError, match=r"lists E3C documents that .* does not hold \(EN7\)"):
        e3c_layer3_lines(archive, ["EN3", "EN7"])
    twice = {**E3C_FILES, f"{E3C_PREFIX}/English/layer3/EN1b.json": _e3c_doc("EN1", "x", "Again.")}
    with pytest.raises(ClinkdError, match="The E3C document id 'EN1' occurs twice"):
        e3c_layer3_lines(_tar(tmp_path / "twice.tar.gz", twice), [])
    with pytest.raises(ClinkdError, match=r"holds no data_collection/English/layer3/\*.json"):
        e3c_layer3_lines(_tar(tmp_path / "none.tar.gz", {"README.md": b"hi"}), [])
    (tmp_path / "broken.tar.gz").write_bytes(b"not a tar")
    with pytest.raises(ClinkdError, match="Cannot read"):
        e3c_layer3_lines(tmp_path / "broken.tar.gz", [])


# -- MTSamples (R data) -----------------------------------------------------

# R's serialization format, written here from its description (R Internals,
# "Serialization formats"), independently of the reader: XDR ints, each item
# a flags int (type | object 1<<8 | attributes 1<<9 | tag 1<<10 | levels<<12).


def _int(value: int) -> bytes:
    return struct.pack(">i", value)


def _chars(text: str | None) -> bytes:
    if text is None:
        return _int(9) + _int(-1)
    data = text.encode("utf8")
    levels = 64 if text.isascii() else 8  # ASCII_MASK, UTF8_MASK
    return _int(9 | levels << 12) + _int(len(data)) + data


def _symbol(name: str, refs: list[str]) -> bytes:
    if name in refs:
        return _int(255 | (refs.index(name) + 1) << 8)
    refs.append(name)
    return _int(1) + _chars(name)


def _pairlist(items: list[tuple[str, bytes]], refs: list[str]) -> bytes:
    out = b""
    for tag, value in items:
        out += _int(2 | 1 << 10) + _symbol(tag, refs) + value
    return out + _int(254)


def _ints(values: list[int | None], *, attributes: bool = False) -> bytes:
    flags = 13 | (3 << 8 if attributes else 0)  # the attributes follow the values
    return _int(flags) + _int(len(values)) + b"".join(_int(-(2**31) if v is None else v) for v in values)


def _strs(values: list[str | None]) -> bytes:
    return _int(16) + _int(len(values)) + b"".join(_chars(v) for v in values)


def _rda(refs: list[str]) -> bytes:
    """A data frame `mtsamples` (an integer, a character and a factor column),
    written in stream order, so symbols are numbered as R numbers them."""
    out = b"RDX2\nX\n" + _int(2) + _int(0x030600) + _int(0x020300)
    out += _int(2 | 1 << 10) + _symbol("mtsamples", refs)  # the saved objects: a tagged pairlist
    out += _int(19 | 3 << 8) + _int(3)  # a list (object, with attributes) of 3 columns
    out += _ints([1, 2, 3])
    out += _strs(['a, "b"', None, "café"])
    out += _ints([2, 1, None], attributes=True)
    out += _pairlist([("levels", _strs(["high", "low"])), ("class", _strs(["factor"]))], refs)
    out += _pairlist(
        [
            ("names", _strs(["note_id", "text", "grade"])),
            ("row.names", _ints([None, -3])),
            ("class", _strs(["data.frame"])),  # "class" again: a reference to the symbol
        ],
        refs,
    )
    return bz2.compress(out + _int(254))  # the end of the saved objects' pairlist


MTSAMPLES_CSV = 'note_id,text,grade\r\n1,"a, ""b""",low\r\n2,,high\r\n3,café,\r\n'.encode()


def test_read_rda_data_frame(tmp_path: Path) -> None:
    refs: list[str] = []
    rda = tmp_path / "mtsamples.rda"
    rda.write_bytes(_rda(refs))
    assert refs == ["mtsamples", "levels", "class", "names", "row.names"]
    objects = read_rda(rda)
    assert list(objects) == ["mtsamples"]
    names, columns = data_frame_columns(objects["mtsamples"], where="mtsamples")
    assert names == ["note_id", "text", "grade"]
    assert columns == [[1, 2, 3], ['a, "b"', None, "café"], ["low", "high", None]]
    assert data_frame_csv(names, columns) == MTSAMPLES_CSV


def test_build_mtsamples_writes_a_reproducible_gzip(tmp_path: Path) -> None:
    rda = tmp_path / "mtsamples.rda"
    rda.write_bytes(_rda([]))
    out = tmp_path / "a.csv.gz"
    derived.build_mtsamples({"assets/mtsamples_full/mtsamples.rda": rda}, {"x": out}, tmp_path)
    data = out.read_bytes()
    assert gzip.decompress(data) == MTSAMPLES_CSV
    assert content_md5(out) == _md5(MTSAMPLES_CSV)
    # header: the name mtsamples.csv, modification time 0 (no clock in the bytes)
    assert data[3] & 0x08 and data[4:8] == b"\0\0\0\0"
    assert data[10:24] == b"mtsamples.csv\0"
    out2 = tmp_path / "b.csv.gz"
    derived.build_mtsamples({"assets/mtsamples_full/mtsamples.rda": rda}, {"x": out2}, tmp_path)
    assert out2.read_bytes() == data


MT_PROJECT = """
assets:
  - dest: "assets/mtsamples_full/mtsamples.csv.gz"
    checksum: "{gz_md5}"
  - dest: "assets/mtsamples_full/mtsamples.rda"
    url: "https://example.org/mtsamples.rda"
    checksum: "{rda_md5}"
    extra: true
"""


def test_a_rebuilt_gzip_is_verified_by_its_content(tmp_path: Path) -> None:
    """The pinned .gz (the mirror's) came from another zlib: a rebuilt one
    differs in bytes, so it is checked by the MD5 of what it decompresses to."""
    from spacy_clinkd.derived_assets import Recipe, build_mtsamples

    project, mirror = tmp_path / "project", tmp_path / "mirror"
    (mirror / "mtsamples_full").mkdir(parents=True)
    project.mkdir()
    rda = mirror / "mtsamples_full" / "mtsamples.rda"
    rda.write_bytes(_rda([]))
    mirror_gz = gzip.compress(MTSAMPLES_CSV, compresslevel=1)  # same content, other bytes
    (project / "project.yml").write_text(MT_PROJECT.format(gz_md5=_md5(mirror_gz), rda_md5=_md5(rda.read_bytes())))
    dest = "assets/mtsamples_full/mtsamples.csv.gz"
    recipe = Recipe(
        name="mt", outputs=(dest,), sources=("assets/mtsamples_full/mtsamples.rda",),
        build=build_mtsamples, content_md5={dest: _md5(MTSAMPLES_CSV)},
    )
    report = build_derived(project, mirror=mirror, download=False, recipes=[recipe])
    built = report.results[-1]
    assert (built.dest, built.status, built.checksum) == (dest, BUILT, _md5(MTSAMPLES_CSV))
    assert _md5((project / dest).read_bytes()) != _md5(mirror_gz)
    # fetch-assets, without the .gz in the mirror, keeps the rebuilt copy
    result = spacy_clinkd.assets.fetch_assets(project, mirror=mirror, recipes=[recipe]).results[0]
    assert (result.status, result.checksum) == (UP_TO_DATE, _md5(MTSAMPLES_CSV))
    assert result.note is not None and "content is verified" in result.note
    # other content is refused, and the copy in place is kept
    wrong = Recipe(**{**recipe.__dict__, "content_md5": {dest: "0" * 32}})
    with pytest.raises(ClinkdError, match=r"has decompressed content MD5 [0-9a-f]{32}, but its recipe .* pins 0{32}"):
        build_derived(project, mirror=mirror, download=False, force=True, recipes=[wrong])
    assert gzip.decompress((project / dest).read_bytes()) == MTSAMPLES_CSV


def test_read_rda_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.rda"
    bad.write_bytes(bz2.compress(b"RDA2\nA\n"))
    with pytest.raises(ClinkdError, match=r"not an .rda file \(it begins b'RDA2\\n'\)"):
        read_rda(bad)
    bad.write_bytes(_rda([])[:-40])
    with pytest.raises(ClinkdError, match="Cannot read the R data file"):
        read_rda(bad)
    body = b"RDX2\nX\n" + _int(2) + _int(0) + _int(0) + _pairlist([("x", _strs(["a"]))], [])
    bad.write_bytes(body)  # not compressed: read as is
    with pytest.raises(ClinkdError, match=r"Not an R data frame: x"):
        data_frame_columns(read_rda(bad)["x"], where="x")


# -- CogStack ------------------------------------------------------------------


def test_extract_txt_members(tmp_path: Path) -> None:
    archive = _tar(
        tmp_path / "notes.tgz",
        {
            "mtsamples-txt-small/b.txt": b"second\n",
            "mtsamples-txt-small/sub/a.txt": b"first\r\n",
            "mtsamples-txt-small/._a.txt": b"macOS metadata",
            "mtsamples-txt-small/index.csv": b"a,b\n",
        },
    )
    assert extract_txt_members(archive, tmp_path / "out") == ["a.txt", "b.txt"]
    assert (tmp_path / "out" / "a.txt").read_bytes() == b"first\r\n"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.txt", "b.txt"]
    twice = _tar(tmp_path / "twice.tgz", {"x/a.txt": b"1", "y/a.txt": b"2"})
    with pytest.raises(ClinkdError, match=r"Two .txt files of .* are both called 'a.txt' \(x/a.txt, y/a.txt\)"):
        extract_txt_members(twice, tmp_path / "out2")


# -- the script ----------------------------------------------------------------

COGSTACK_PROJECT = """
vars:
  data_mirror: "../no_mirror"
assets:
  - dest: "assets/mtsamples/cogstack_txt_small"
    checksum: "{md5}"
  - dest: "assets/mtsamples/mtsamples-txt-small.tgz"
    url: "https://example.org/mtsamples-txt-small.tgz"
    extra: true
"""


def test_script_builds_and_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    md5 = _md5(b"first\nsecond\n")  # the folder's files in name order
    (project / "project.yml").write_text(COGSTACK_PROJECT.format(md5=md5))
    archive = _tar(tmp_path / "up.tgz", {"d/a.txt": b"first\n", "d/b.txt": b"second\n"})
    # --offline: the missing source is named with its URL, exit 1
    assert script.main([str(project), "--only", "cogstack", "--offline"]) == 1
    err = capsys.readouterr().err
    assert "- assets/mtsamples/cogstack_txt_small: its source assets/mtsamples/mtsamples-txt-small.tgz is not" in err
    assert "from https://example.org/mtsamples-txt-small.tgz" in err

    def fake_download(url: str, dest: Path) -> None:
        assert url == "https://example.org/mtsamples-txt-small.tgz"
        shutil.copyfile(archive, dest)

    monkeypatch.setattr(spacy_clinkd.assets, "download_url", fake_download)
    assert script.main([str(project), "--only", "cogstack"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "⚠ downloaded assets/mtsamples/mtsamples-txt-small.tgz (not verified: no checksum in project.yml)"
    assert out[1] == f"✔ built      assets/mtsamples/cogstack_txt_small (2 files, MD5 verified {md5})"
    assert out[2].startswith("✔ 2 assets: 0 copied (0 files), 1 downloaded, 1 built, 0 up to date")
    assert [r.status for r in build_derived(project, names=["cogstack"]).results] == [UP_TO_DATE]
    assert [r.status for r in build_derived(project, names=["cogstack"], force=True).results] == [
        UP_TO_DATE,  # the source, already in the project
        BUILT,
    ]


# -- the real sources, where the data mirror is at hand --------------------------


def _mirror() -> Path:
    config = srsly.read_yaml(ROOT / "project.yml")
    return (ROOT / config["vars"]["data_mirror"]).resolve()


@pytest.mark.slow
def test_recipes_rebuild_the_pinned_files_from_the_mirror_sources(tmp_path: Path) -> None:
    """Brown (byte for byte) and MTSamples (content) rebuilt from the mirror's
    copies of their public sources match the checksums project.yml pins. (E3C
    and CogStack: the mirror holds no copy of their source archives.)"""
    mirror = _mirror()
    if not (mirror / "brown" / "tagged").is_dir() or not (mirror / "mtsamples_full" / "mtsamples.rda").is_file():
        pytest.skip(f"no data mirror at {mirror}")
    project = tmp_path / "project"
    project.mkdir()
    shutil.copyfile(ROOT / "project.yml", project / "project.yml")
    report = build_derived(project, mirror=mirror, names=["brown", "mtsamples_full"], download=False)
    pinned = {a["dest"]: a.get("checksum") for a in srsly.read_yaml(ROOT / "project.yml")["assets"]}
    recipes = {r.name: r for r in RECIPES}
    built = {r.dest: r for r in report.results if r.status == BUILT}
    assert sorted(built) == sorted(recipes["brown"].outputs + recipes["mtsamples_full"].outputs)
    for dest in recipes["brown"].outputs:
        assert checksum(project / dest) == pinned[dest] == built[dest].checksum
    gz = "assets/mtsamples_full/mtsamples.csv.gz"
    assert content_md5(project / gz) == content_md5(mirror / "mtsamples_full" / "mtsamples.csv.gz")
    assert built[gz].checksum == recipes["mtsamples_full"].content_md5[gz]
