"""Rebuild the derived data assets from their public sources.

Five project.yml assets (four recipes) are not published as files anywhere: they were made
from a public source. Each `Recipe` here names the source assets it reads
(project.yml dests, with their own URL or git source), the assets it writes,
and the transformation, so that anyone with internet can rebuild them:

- Brown sentences (`assets/brown/brown_sentences.part{0,1}.tsv`) from NLTK's
  tagged Brown corpus (`assets/brown/tagged`): one line per sentence,
  `fileid<TAB>category<TAB>tokens`, each token's POS tag cut at its last "/",
  files in sorted id order, split greedily into parts of at most 3,500,000
  bytes (each under GitHub's 4 MiB snapshot limit).
- E3C English layer 3 (`assets/e3c_english/layer3_texts.jsonl`) from the
  E3C-Corpus repository archive at the pinned commit: the JSON files of
  `data_collection/English/layer3/` as one JSON object per line (fields
  `JSONL_FIELDS`, `pmid` parsed from a PubMed URL), sorted by id, less the
  documents `configs/e3c_removed_overlap.tsv` lists (they overlap MACCROBAT).
- MTSamples (`assets/mtsamples_full/mtsamples.csv.gz`) from clinspacy's
  `data/mtsamples.rda`: the R data frame as CSV (header row, Python's csv
  dialect, NA written as an empty field), gzip-compressed.
- CogStack's MTSamples notes (`assets/mtsamples/cogstack_txt_small`) from
  CogStack-Pipeline's `mtsamples-txt-small.tgz`: its .txt members, unchanged.

Every transformation is deterministic, so a rebuilt asset equals the pinned
one byte for byte, except for the gzip stream of the MTSamples CSV: deflate
output depends on the zlib build, so that output is pinned by the MD5 of its
decompressed content (`Recipe.content_md5`) instead.

The R data reader is a small one for what an .rda data frame holds (format
versions 2 and 3, XDR; vectors, pairlists, factors); it adds no dependency.
"""
import bz2
import csv
import gzip
import hashlib
import io
import json
import lzma
import math
import re
import struct
import tarfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ClinkdError, Errors

BROWN_PART_BYTES = 3_500_000
E3C_LAYER3 = re.compile(r"(?:^|/)data_collection/English/layer3/([^/]+)\.json$")
PUBMED_URL = re.compile(r"^https?://pubmed\.ncbi\.nlm\.nih\.gov/(\d+)/?$")
JSONL_FIELDS = ("id", "pmid", "doi", "url", "source", "type", "licence", "publication_date", "text")
E3C_REMOVED = "configs/e3c_removed_overlap.tsv"
MTSAMPLES_OBJECT = "mtsamples"
MTSAMPLES_CSV_NAME = "mtsamples.csv"


# -- Brown -------------------------------------------------------------------


def brown_sentence_lines(tagged_dir: str | Path) -> list[str]:
    """The Brown corpus as one TSV line per sentence, POS tags removed.

    tagged_dir (str | Path): NLTK's corpora/brown folder: `cats.txt` (one
        `fileid category` per line) and one file per id, each sentence on one
        line of whitespace-separated `word/tag` tokens.
    RETURNS (list[str]): `fileid\\tcategory\\tw1 w2 …\\n` lines, files in sorted
        id order. A token keeps everything before its last "/" (so `1/2/cd`
        stays `1/2`).
    """
    tagged_dir = Path(tagged_dir)
    categories: dict[str, str] = {}
    cats = tagged_dir / "cats.txt"
    for n, line in enumerate(_read_text(cats).splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2:
            raise ClinkdError(Errors.E214.format(path=cats, line=n, text=line))
        categories[parts[0]] = parts[1]
    lines = []
    for fileid in sorted(categories):
        path = tagged_dir / fileid
        if not path.is_file():
            raise ClinkdError(Errors.E215.format(path=path, cats=cats))
        for raw in _read_text(path).split("\n"):
            tokens = raw.split()
            if tokens:
                words = " ".join(token.rsplit("/", 1)[0] for token in tokens)
                lines.append(f"{fileid}\t{categories[fileid]}\t{words}\n")
    return lines


def split_parts(lines: Sequence[str], *, max_bytes: int = BROWN_PART_BYTES) -> list[bytes]:
    """Split lines into consecutive parts of at most `max_bytes` UTF-8 bytes.

    lines (Sequence[str]): The lines, each ending in "\\n".
    max_bytes (int): The most bytes a part may hold; a part is filled before
        the next is begun.
    RETURNS (list[bytes]): The parts; concatenated, they are the lines.
    """
    parts: list[bytes] = []
    current: list[bytes] = []
    size = 0
    for line in lines:
        data = line.encode("utf8")
        if len(data) > max_bytes:
            raise ClinkdError(Errors.E216.format(n=len(data), max_bytes=max_bytes))
        if size + len(data) > max_bytes:
            parts.append(b"".join(current))
            current, size = [], 0
        current.append(data)
        size += len(data)
    if current:
        parts.append(b"".join(current))
    return parts


def build_brown(sources: Mapping[str, Path], outputs: Mapping[str, Path], project_dir: Path) -> None:
    """Recipe step: Brown sentences from the tagged corpus (see module doc)."""
    parts = split_parts(brown_sentence_lines(sources["assets/brown/tagged"]), max_bytes=BROWN_PART_BYTES)
    if len(parts) != len(outputs):
        raise ClinkdError(Errors.E217.format(n=len(parts), outputs=", ".join(outputs)))
    for part, path in zip(parts, outputs.values()):
        path.write_bytes(part)


# -- E3C ---------------------------------------------------------------------


def e3c_record(upstream: Mapping[str, Any], *, where: str) -> dict[str, Any]:
    """One E3C layer-3 document, as a line of the JSONL.

    upstream (Mapping[str, Any]): The document's upstream JSON object.
    where (str): Its file, for errors.
    RETURNS (dict[str, Any]): The fields `JSONL_FIELDS`, in that order; a
        field upstream lacks is None; `pmid` is the PubMed id of a PubMed
        `url`, else None.
    """
    if not isinstance(upstream.get("id"), str) or not isinstance(upstream.get("text"), str):
        raise ClinkdError(Errors.E218.format(path=where))
    record = {name: upstream.get(name) for name in JSONL_FIELDS if name != "pmid"}
    url = upstream.get("url")
    match = PUBMED_URL.match(url) if isinstance(url, str) else None
    record["pmid"] = match.group(1) if match else None
    return {name: record[name] for name in JSONL_FIELDS}


def iter_e3c_layer3(source: str | Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """Read the English layer-3 documents of an E3C-Corpus archive or checkout.

    source (str | Path): A .tar.gz of the repository (as GitHub serves it:
        one top folder) or a folder holding `data_collection/English/layer3/`.
    YIELDS (tuple[str, dict[str, Any]]): (file name, parsed JSON) per document.
    """
    source = Path(source)
    if source.is_dir():
        folder = source / "data_collection" / "English" / "layer3"
        for path in sorted(folder.glob("*.json")):
            yield path.name, _parse_json(path.read_bytes(), where=str(path))
        return
    try:
        with tarfile.open(source, "r:*") as archive:
            for member in archive:
                if member.isfile() and E3C_LAYER3.search(member.name):
                    handle = archive.extractfile(member)
                    assert handle is not None  # a regular file always has one
                    yield member.name, _parse_json(handle.read(), where=f"{source}:{member.name}")
    except (tarfile.TarError, OSError, EOFError) as err:
        raise ClinkdError(Errors.E022.format(path=source, reason=err)) from None


def e3c_layer3_lines(source: str | Path, removed: Sequence[str]) -> list[str]:
    """The E3C layer-3 JSONL (see module doc), one line per document.

    source (str | Path): See `iter_e3c_layer3`.
    removed (Sequence[str]): Document ids to leave out; each must be in the
        source (else the list was made for another release).
    RETURNS (list[str]): `json.dumps(record, ensure_ascii=False) + "\\n"`, by id.
    """
    records: dict[str, dict[str, Any]] = {}
    for name, upstream in iter_e3c_layer3(source):
        if not isinstance(upstream, dict):
            raise ClinkdError(Errors.E218.format(path=name))
        record = e3c_record(upstream, where=name)
        if record["id"] in records:
            raise ClinkdError(Errors.E220.format(doc_id=record["id"], path=source))
        records[record["id"]] = record
    if not records:
        raise ClinkdError(Errors.E221.format(path=source, what="data_collection/English/layer3/*.json"))
    absent = sorted(set(removed) - set(records))
    if absent:
        raise ClinkdError(Errors.E222.format(ids=", ".join(absent), path=source, removed=E3C_REMOVED))
    drop = set(removed)
    return [
        json.dumps(records[doc_id], ensure_ascii=False) + "\n"
        for doc_id in sorted(records)
        if doc_id not in drop
    ]


def read_removed_ids(path: str | Path) -> list[str]:
    """The first column of a TSV with a header row (`e3c_id` …), blank lines skipped.

    path (str | Path): E.g. configs/e3c_removed_overlap.tsv.
    RETURNS (list[str]): The ids, in file order.
    """
    lines = _read_text(Path(path)).splitlines()
    return [line.split("\t", 1)[0] for line in lines[1:] if line.strip()]


def build_e3c(sources: Mapping[str, Path], outputs: Mapping[str, Path], project_dir: Path) -> None:
    """Recipe step: the E3C layer-3 JSONL from the repository archive."""
    (source,) = sources.values()
    (output,) = outputs.values()
    removed = read_removed_ids(project_dir / E3C_REMOVED)
    output.write_text("".join(e3c_layer3_lines(source, removed)), encoding="utf8")


# -- MTSamples (R data) -----------------------------------------------------


@dataclass
class RObject:
    """An R object read from an .rda file.

    kind (str): "integer", "logical", "double", "character", "list", "pairlist".
    values (list[Any]): The elements (NA is None); a pairlist's are (tag, value).
    attributes (dict[str, RObject]): Its attributes, e.g. names, class, levels.
    """

    kind: str
    values: list[Any]
    attributes: dict[str, "RObject"] = field(default_factory=dict)

    def strings(self, name: str) -> list[str]:
        """RETURNS (list[str]): The character attribute `name` ([] if absent)."""
        attribute = self.attributes.get(name)
        return [str(v) for v in attribute.values] if attribute is not None else []


_VECTOR_KINDS = {10: "logical", 13: "integer", 14: "double", 16: "character", 19: "list"}
_NA_INT = -(2**31)


class _RDataReader:
    """R's serialization format (XDR, versions 2 and 3): what data files use."""

    def __init__(self, data: bytes, path: Path) -> None:
        self.data = data
        self.pos = 0
        self.path = path
        self.refs: list[Any] = []
        self.encoding = "utf8"

    def fail(self, reason: str) -> ClinkdError:
        return ClinkdError(Errors.E223.format(path=self.path, reason=reason))

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise self.fail("the data ends early")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def int(self) -> int:
        return struct.unpack(">i", self.take(4))[0]

    def length(self) -> int:
        n = self.int()
        if n == -1:  # a long vector: two more ints
            upper, lower = self.int(), self.int()
            n = (upper << 32) + (lower & 0xFFFFFFFF)
        if n < 0:
            raise self.fail(f"negative length {n}")
        return n

    def header(self) -> None:
        magic = self.take(5)
        if magic not in (b"RDX2\n", b"RDX3\n"):
            raise self.fail(f"not an .rda file (it begins {magic!r})")
        if self.take(2) != b"X\n":
            raise self.fail("only the XDR (binary, portable) format is read")
        version = self.int()
        self.int(), self.int()  # R version that wrote it, oldest that reads it
        if version == 3:
            self.encoding = self.take(self.int()).decode("ascii").lower().replace("utf-8", "utf8")
        elif version != 2:
            raise self.fail(f"format version {version}")

    def item(self) -> Any:
        flags = self.int()
        kind = flags & 0xFF
        has_attr, has_tag, levels = flags & (1 << 9), flags & (1 << 10), flags >> 12
        if kind == 254:  # NULL
            return None
        if kind == 255:  # a reference to an earlier symbol
            index = flags >> 8 or self.int()
            return self.refs[index - 1]
        if kind == 1:  # symbol: its name as a CHARSXP
            name = self.item()
            self.refs.append(name)
            return name
        if kind == 9:
            return self.charsxp(levels)
        if kind == 2:  # pairlist, read along its cdr chain
            values: list[tuple[Any, Any]] = []
            attributes: dict[str, RObject] = {}
            while kind == 2:
                if has_attr:
                    attributes.update(self.attributes())
                tag = self.item() if has_tag else None
                values.append((tag, self.item()))
                flags = self.int()
                kind, has_attr, has_tag = flags & 0xFF, flags & (1 << 9), flags & (1 << 10)
            if kind != 254:
                raise self.fail(f"a pairlist ends in type {kind}")
            return RObject("pairlist", values, attributes)
        if kind not in _VECTOR_KINDS:
            raise self.fail(f"R object type {kind} (not a vector, factor or data frame)")
        n = self.length()
        values_: list[Any]
        if kind in (10, 13):
            values_ = [None if v == _NA_INT else v for v in struct.unpack(f">{n}i", self.take(4 * n))]
            if kind == 10:
                values_ = [None if v is None else bool(v) for v in values_]
        elif kind == 14:
            values_ = list(struct.unpack(f">{n}d", self.take(8 * n)))
        else:
            values_ = [self.item() for _ in range(n)]
        obj = RObject(_VECTOR_KINDS[kind], values_)
        if has_attr:
            obj.attributes = self.attributes()
        return obj

    def charsxp(self, levels: int) -> str | None:
        n = self.int()
        if n == -1:
            return None
        raw = self.take(n)
        if levels & (1 << 3):
            encoding = "utf8"
        elif levels & (1 << 2):
            encoding = "latin-1"
        elif levels & (1 << 6):
            encoding = "ascii"
        else:
            encoding = self.encoding
        try:
            return raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as err:
            raise self.fail(f"a string is not {encoding}: {err}") from None

    def attributes(self) -> dict[str, RObject]:
        pairs = self.item()
        if not isinstance(pairs, RObject) or pairs.kind != "pairlist":
            raise self.fail("attributes are not a pairlist")
        return {str(tag): value for tag, value in pairs.values}


def read_rda(path: str | Path) -> dict[str, Any]:
    """Read the objects an .rda file (R's `save()`) holds.

    path (str | Path): The file, gzip, bzip2, xz or not compressed.
    RETURNS (dict[str, Any]): Object name → RObject (or None for NULL).
    """
    path = Path(path)
    try:
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        elif data[:3] == b"BZh":
            data = bz2.decompress(data)
        elif data[:6] == b"\xfd7zXZ\x00":
            data = lzma.decompress(data)
    except (OSError, EOFError, ValueError, lzma.LZMAError) as err:
        raise ClinkdError(Errors.E223.format(path=path, reason=err)) from None
    reader = _RDataReader(data, path)
    reader.header()
    top = reader.item()
    if not isinstance(top, RObject) or top.kind != "pairlist":
        raise reader.fail("it holds no named objects")
    return {str(tag): value for tag, value in top.values}


def data_frame_columns(frame: Any, *, where: str) -> tuple[list[str], list[list[Any]]]:
    """The columns of an R data frame, factors as their labels.

    frame (Any): An RObject of class data.frame.
    where (str): The object, for errors.
    RETURNS (tuple[list[str], list[list[Any]]]): Column names, column values.
    """
    if not isinstance(frame, RObject) or frame.kind != "list" or "data.frame" not in frame.strings("class"):
        raise ClinkdError(Errors.E224.format(what=where))
    names = frame.strings("names")
    columns = []
    for column in frame.values:
        if not isinstance(column, RObject) or column.kind == "list":
            raise ClinkdError(Errors.E224.format(what=f"{where} (a column is not an atomic vector)"))
        values = column.values
        if "factor" in column.strings("class"):
            labels = column.strings("levels")
            if any(code is not None and not 1 <= code <= len(labels) for code in values):
                raise ClinkdError(Errors.E224.format(what=f"{where} (a factor code has no level)"))
            values = [None if code is None else labels[code - 1] for code in values]
        columns.append(values)
    if len(names) != len(columns) or len({len(c) for c in columns}) > 1:
        raise ClinkdError(Errors.E224.format(what=f"{where} (names and column lengths disagree)"))
    return names, columns


def _csv_field(value: Any) -> str:
    # As pandas writes them: NA and NaN empty, logicals True/False.
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def data_frame_csv(names: Sequence[str], columns: Sequence[Sequence[Any]]) -> bytes:
    """RETURNS (bytes): The table as UTF-8 CSV: a header row, then one row per
    record, Python's default dialect (minimal quoting, "\\r\\n" line ends)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(names)
    for row in zip(*columns):
        writer.writerow([_csv_field(v) for v in row])
    return buffer.getvalue().encode("utf8")


def gzip_bytes(data: bytes, *, name: str) -> bytes:
    """RETURNS (bytes): `data` gzip-compressed at level 9, with the file name
    `name` and modification time 0 in the header (no clock in the output)."""
    out = io.BytesIO()
    with gzip.GzipFile(filename=name, mode="wb", fileobj=out, compresslevel=9, mtime=0) as handle:
        handle.write(data)
    return out.getvalue()


def build_mtsamples(sources: Mapping[str, Path], outputs: Mapping[str, Path], project_dir: Path) -> None:
    """Recipe step: the MTSamples CSV from clinspacy's mtsamples.rda."""
    (rda,) = sources.values()
    (output,) = outputs.values()
    objects = read_rda(rda)
    if MTSAMPLES_OBJECT not in objects:
        raise ClinkdError(Errors.E224.format(what=f"{rda}: no object '{MTSAMPLES_OBJECT}' (has {sorted(objects)})"))
    names, columns = data_frame_columns(objects[MTSAMPLES_OBJECT], where=f"{rda}:{MTSAMPLES_OBJECT}")
    output.write_bytes(gzip_bytes(data_frame_csv(names, columns), name=MTSAMPLES_CSV_NAME))


# -- CogStack ---------------------------------------------------------------


def extract_txt_members(archive: str | Path, out_dir: str | Path) -> list[str]:
    """Write an archive's .txt files, unchanged, into one folder.

    archive (str | Path): A tar archive (any compression tarfile reads).
    out_dir (str | Path): The folder (created); members keep their base name.
        Hidden files (macOS `._*` metadata among them) are not text files.
    RETURNS (list[str]): The names written, sorted.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, str] = {}
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in tar:
                name = member.name.rsplit("/", 1)[-1]
                if not member.isfile() or not name.endswith(".txt") or name.startswith("."):
                    continue
                if name in written:
                    raise ClinkdError(Errors.E225.format(name=name, path=archive, a=written[name], b=member.name))
                handle = tar.extractfile(member)
                assert handle is not None  # a regular file always has one
                (out_dir / name).write_bytes(handle.read())
                written[name] = member.name
    except (tarfile.TarError, OSError, EOFError) as err:
        raise ClinkdError(Errors.E022.format(path=archive, reason=err)) from None
    if not written:
        raise ClinkdError(Errors.E221.format(path=archive, what="*.txt"))
    return sorted(written)


def build_cogstack(sources: Mapping[str, Path], outputs: Mapping[str, Path], project_dir: Path) -> None:
    """Recipe step: the CogStack .txt notes from mtsamples-txt-small.tgz."""
    (archive,) = sources.values()
    (output,) = outputs.values()
    extract_txt_members(archive, output)


# -- recipes -----------------------------------------------------------------

BuildStep = Callable[[Mapping[str, Path], Mapping[str, Path], Path], None]


@dataclass(frozen=True)
class Recipe:
    """How some derived assets are rebuilt from source assets.

    name (str): Short name, e.g. "brown" (`build_derived_assets.py --only`).
    outputs (tuple[str, ...]): Asset dests it writes (project.yml, no URL).
    sources (tuple[str, ...]): Asset dests it reads (project.yml, each with a
        URL or git source, or a mirror copy).
    build (BuildStep): `build(sources, outputs, project_dir)`: source dest →
        path, output dest → path to write (a file, or a folder to fill).
    inputs (tuple[str, ...]): Project files it reads besides the sources.
    content_md5 (Mapping[str, str]): For an output whose bytes are not
        reproducible (gzip), the MD5 of its decompressed content; the others
        are checked against their project.yml checksum.
    """

    name: str
    outputs: tuple[str, ...]
    sources: tuple[str, ...]
    build: BuildStep
    inputs: tuple[str, ...] = ()
    content_md5: Mapping[str, str] = field(default_factory=dict)


RECIPES: tuple[Recipe, ...] = (
    Recipe(
        name="brown",
        outputs=("assets/brown/brown_sentences.part0.tsv", "assets/brown/brown_sentences.part1.tsv"),
        sources=("assets/brown/tagged",),
        build=build_brown,
    ),
    Recipe(
        name="e3c",
        outputs=("assets/e3c_english/layer3_texts.jsonl",),
        sources=("assets/e3c_english/E3C-Corpus-8196181eacd5d65828d324dcc63970c503aff5e9.tar.gz",),
        build=build_e3c,
        inputs=(E3C_REMOVED,),
    ),
    Recipe(
        name="mtsamples_full",
        outputs=("assets/mtsamples_full/mtsamples.csv.gz",),
        sources=("assets/mtsamples_full/mtsamples.rda",),
        build=build_mtsamples,
        content_md5={"assets/mtsamples_full/mtsamples.csv.gz": "d1152fff3e165b8d436dea548bf680c8"},
    ),
    Recipe(
        name="cogstack",
        outputs=("assets/mtsamples/cogstack_txt_small",),
        sources=("assets/mtsamples/mtsamples-txt-small.tgz",),
        build=build_cogstack,
    ),
)


def recipe_for(dest: str, recipes: Sequence[Recipe] = RECIPES) -> Recipe | None:
    """RETURNS (Recipe | None): The recipe that writes `dest`, if any."""
    for recipe in recipes:
        if dest in recipe.outputs:
            return recipe
    return None


def content_md5(path: str | Path) -> str:
    """RETURNS (str): The MD5 of a gzip file's decompressed content."""
    digest = hashlib.md5()
    try:
        with gzip.open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except (OSError, EOFError) as err:
        raise ClinkdError(Errors.E022.format(path=path, reason=err)) from None
    return digest.hexdigest()


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf8")
    except OSError as err:
        raise ClinkdError(Errors.E022.format(path=path, reason=err.strerror or err)) from None
    except UnicodeDecodeError as err:
        raise ClinkdError(Errors.E022.format(path=path, reason=err)) from None


def _parse_json(data: bytes, *, where: str) -> Any:
    try:
        return json.loads(data.decode("utf8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise ClinkdError(Errors.E218.format(path=f"{where} ({err})")) from None
