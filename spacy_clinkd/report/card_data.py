"""What the model card reads and computes before any markdown: its input
files (metrics JSON, the corpus facts, the saved pipeline config, the
encoder's vocabulary size) and the numbers it derives from them (teacher
ratio, the benchmark rows of this pipeline, which licences are
non-commercial, whether the model uses the vocabulary extension)."""
from __future__ import annotations

import configparser
import json
import re
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import srsly

from ..errors import ClinkdError, Errors

# "NC" as a word of a licence ("CC BY-NC 4.0", "CC-BY-NC-SA"), not inside one ("unclear").
NON_COMMERCIAL = re.compile(r"(?<![a-z])nc(?![a-z])", re.IGNORECASE)
META_KEYS = ("name", "version", "description", "license", "sources")
FACTS_KEYS = ("test_name", "label_meanings", "assertion", "domain", "external")
# the keys the card reads inside those sections
FACTS_SECTION_KEYS = {"assertion": ("learned", "linear", "hybrid", "hybrid_kept", "learned_caveat", "learned_dev"), "domain": ("text", "shift"), "external": ("sets",)}
# The corpus facts, relative to the project directory (`model-card` run from it).
DEFAULT_FACTS = Path("configs") / "model_card.yml"


def read_input(path: Path, what: str) -> dict[str, Any]:
    """Read a JSON object the card needs.

    path (Path): the file.
    what (str): what it is, for the error (e.g. "test metrics").
    RETURNS (Dict[str, Any]): its content.
    RAISES ClinkdError: E261 (cannot be read), E262 (not a JSON object).
    """
    try:
        text = Path(path).read_text(encoding="utf8")
    except (OSError, UnicodeDecodeError) as err:
        reason = getattr(err, "strerror", None) or type(err).__name__
        raise ClinkdError(Errors.E261.format(what=what, path=path, reason=reason)) from None
    try:
        data = json.loads(text)
    except ValueError as err:
        raise ClinkdError(Errors.E262.format(path=path, what=what, problem=f"not valid JSON ({err})")) from None
    if not isinstance(data, dict):
        raise ClinkdError(Errors.E262.format(path=path, what=what, problem="not a JSON object"))
    return data


def check_keys(data: Mapping[str, Any], keys: Sequence[str], path: Path, what: str) -> None:
    """RAISES ClinkdError: E262 when `data` (read from `path`) lacks one of `keys`."""
    missing = [key for key in keys if key not in data]
    if missing:
        problem = f"it has no {', '.join(repr(k) for k in missing)}"
        raise ClinkdError(Errors.E262.format(path=path, what=what, problem=problem))


def read_facts(path: str | Path) -> dict[str, Any]:
    """Read the corpus facts the card states (configs/model_card.yml): the test
    set's name, what each type is, the assertion and domain caveats, and the
    external sets' names and notes.

    path (Union[str, Path]): the YAML file.
    RETURNS (Dict[str, Any]): its content.
    RAISES ClinkdError: E263 (missing or unreadable), E262 (a key missing).
    """
    path = Path(path)
    if not path.is_file():
        raise ClinkdError(Errors.E263.format(path=path, reason="no such file"))
    try:
        data = srsly.read_yaml(path)
    except (OSError, ValueError) as err:  # srsly: ValueError for unreadable or invalid YAML
        raise ClinkdError(Errors.E263.format(path=path, reason=err)) from None
    if not isinstance(data, dict):
        raise ClinkdError(Errors.E262.format(path=path, what="corpus facts", problem="not a mapping"))
    check_keys(data, FACTS_KEYS, path, "corpus facts")
    for section, keys in FACTS_SECTION_KEYS.items():
        if not isinstance(data[section], dict):
            raise ClinkdError(Errors.E262.format(path=path, what="corpus facts", problem=f"{section!r} is not a mapping"))
        check_keys(data[section], keys, path, f"corpus facts' {section!r}")
    return data


def assertion_kind(pipeline_dir: Path) -> str:
    """RETURNS (str): how the saved pipeline's `clinkd_assertion` decides:
    "rules", "learned" (the encoder classifier), "linear" (the linear
    classifier, as its saved `classifier.json` says), "hybrid" (the linear
    classifier that keeps the rules' "possible" unless it finds the entity
    absent: `keep_rules` ["possible"], `overrides` ["absent"]) or "hybrid_kept"
    (the rules' "possible" always kept: `keep_rules` ["possible"], no
    `overrides`); other settings have no wording of their own and read as
    "linear")."""
    from ..models.assertion_linear import KIND as LINEAR
    from ..models.assertion_linear import SETTINGS_FILE
    from ..pipeline.assertion import CLASSIFIER_DIR

    backend = saved_setting(pipeline_dir, "clinkd_assertion", "backend") or "rules"
    settings_file = Path(pipeline_dir) / "clinkd_assertion" / CLASSIFIER_DIR / SETTINGS_FILE
    settings = srsly.read_json(settings_file) if backend == "learned" and settings_file.is_file() else {}
    if settings.get("kind") == LINEAR:
        if settings.get("keep_rules") != ["possible"]:
            return LINEAR
        overrides = settings.get("overrides") or []
        return "hybrid" if overrides == ["absent"] else "hybrid_kept" if not overrides else LINEAR
    return backend


def saved_setting(pipeline_dir: Path, factory: str, key: str) -> str | None:
    """RETURNS (Optional[str]): the `key` setting of the `factory` component
    saved in `pipeline_dir/config.cfg`, None if there is none."""
    from ..pipeline.loading import pipeline_config

    config_path = Path(pipeline_dir) / "config.cfg"
    if not config_path.is_file():
        return None
    try:
        config = pipeline_config(pipeline_dir)
    except (OSError, ValueError, configparser.Error) as err:
        raise ClinkdError(Errors.E262.format(path=config_path, what="pipeline config", problem=err)) from None
    for component in (config.get("components") or {}).values():
        if component.get("factory") == factory and component.get(key):
            return str(component[key])
    return None


def encoder_vocab_size(encoder_dir: str | Path) -> int:
    """RETURNS (int): `vocab_size` of the Hugging Face encoder saved in
    `encoder_dir` (its config.json), the encoder the student was trained from.
    RAISES ClinkdError: E261 (cannot be read), E262 (no integer vocab_size).
    """
    path = Path(encoder_dir) / "config.json"
    data = read_input(path, "encoder config")
    size = data.get("vocab_size")
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
        raise ClinkdError(Errors.E262.format(path=path, what="encoder config", problem=f"vocab_size is {size!r}"))
    return size


def package_name(meta: Mapping[str, Any]) -> str:
    """RETURNS (str): the installed package's name, `<lang>_<name>` (e.g. en_clinkd_ner)."""
    return f"{meta.get('lang', 'en')}_{meta['name']}"


def intervals_of(boot: Mapping[str, Any] | None, scoring: str, label: str | None) -> Mapping[str, Any]:
    """The {p, r, f: [lo, hi]} intervals of one label (None: micro), or {}."""
    if not boot or scoring not in boot:
        return {}
    side = boot[scoring]
    found = side.get("micro") if label is None else side.get("per_label", {}).get(label)
    return found or {}


def teacher_ratio(test: Mapping[str, Any], teacher: Mapping[str, Any]) -> float | None:
    """Strict micro F1 of the pipeline over its teacher's.

    test (Mapping[str, Any]): the pipeline's `evaluate` output.
    teacher (Mapping[str, Any]): the teacher's, on the same test set.
    RETURNS (Optional[float]): the ratio; None when the teacher's F1 is 0.
    """
    teacher_f = teacher["micro"]["f"]
    return None if teacher_f == 0 else test["micro"]["f"] / teacher_f


def assertion_macro_f(metrics: Mapping[str, Any]) -> float | None:
    """RETURNS (Optional[float]): the macro F1 of the assertion classes on gold
    entities (`macro_f`, else the mean of the per-class F1), None without scores."""
    on_gold = (metrics.get("assertion") or {}).get("on_gold_entities")
    if not on_gold:
        return None
    if on_gold.get("macro_f") is not None:
        return on_gold["macro_f"]
    per_class = on_gold["per_class"]
    return sum(row["f"] for row in per_class.values()) / len(per_class) if per_class else None


def default_external_name(metrics: Mapping[str, Any], path: Path, facts: Mapping[str, Any]) -> str:
    """The name of an external set given without --external-name: the facts'
    set whose `data` is the metrics' data path and whose `labels` (if it
    names any) are the labels scored, else the data file's folder and stem
    ("bc5cdr test"), else the metrics file's stem. Two sets on one data file
    (BC5CDR's Disease and Chemical) are told apart by their `labels`.

    RETURNS (str): the name.
    """
    data_path = (metrics.get("data") or {}).get("path")
    if data_path:
        scored = sorted(metrics.get("labels") or metrics.get("per_label") or [])
        for known in (facts.get("external") or {}).get("sets") or []:
            if not known.get("data") or Path(known["data"]) != Path(data_path):
                continue
            if known.get("labels") is None or sorted(known["labels"]) == scored:
                return str(known["name"])
        data = Path(data_path)
        return f"{data.parent.name} {data.stem}".strip()
    return Path(path).stem


def external_note(name: str, facts: Mapping[str, Any]) -> str:
    """RETURNS (str): what the facts say about the external set `name` (its `note`, else `default_note`)."""
    external = facts.get("external") or {}
    for known in external.get("sets") or []:
        if known.get("name") == name:
            return str(known.get("note", ""))
    return str(external.get("default_note", ""))


def scored_types(metrics: Mapping[str, Any]) -> list[str]:
    """The gold types an `evaluate` output scores, each with the pipeline's type
    scored as it when the label map renames one (`CHEMICAL (the pipeline's MEDICATION)`).

    RETURNS (List[str]): one entry per scored type.
    """
    label_map = metrics.get("label_map") or {}
    found = []
    for label in metrics["per_label"]:
        ours = [pred for pred, gold in label_map.items() if gold == label and pred != label]
        found.append(f"{label} (the pipeline's {', '.join(ours)})" if ours else label)
    return found


def words_per_second(row: Mapping[str, Any], key: int) -> float | None:
    """RETURNS (Optional[float]): a benchmark row's median words/s at batch size `key`."""
    passes = (row.get("throughput") or {}).get(str(key))
    return None if not passes else passes.get("median")


def benchmark_key(benchmark: Mapping[str, Any]) -> int:
    """RETURNS (int): the batch size whose words/s the card reports (the benchmark's key batch size)."""
    settings = benchmark.get("settings") or {}
    if settings.get("key_batch_size") is not None:
        return int(settings["key_batch_size"])
    sizes = sorted(int(b) for b in settings.get("batch_sizes", [8]))
    return 8 if 8 in sizes else sizes[len(sizes) // 2]


def own_rows(
    benchmark: Mapping[str, Any], *, names: Collection[str] = (), models: Collection[str] = ()
) -> list[Mapping[str, Any]]:
    """The benchmark's rows of this pipeline: those named in `names` if any
    are given, else those whose model is one of `models`.

    RETURNS (List[Mapping[str, Any]]): the rows, in benchmark order.
    """
    if names:
        return [row for row in benchmark["pipelines"] if row["name"] in names]
    return [row for row in benchmark["pipelines"] if row.get("model") in models]


def speed_f1_intervals(
    benchmark: Mapping[str, Any],
    *,
    own_names: Collection[str] = (),
    test: Mapping[str, Any] | None = None,
    teacher: Mapping[str, Any] | None = None,
    teacher_name: str = "teacher",
) -> dict[str, list[float]]:
    """The F1 interval of each benchmark row whose F1 is one `evaluate` scored
    with a bootstrap: this pipeline's rows against `test`, the teacher's
    against `teacher`, each only if the two F1s are the same number (the same
    predictions scored on the same documents).

    RETURNS (Dict[str, List[float]]): benchmark name → [lo, hi].
    """
    found: dict[str, list[float]] = {}
    for row in benchmark["pipelines"]:
        source = test if row["name"] in own_names else teacher if row["name"] == teacher_name else None
        if source is None or row.get("f1") is None:
            continue
        interval = intervals_of(source.get("bootstrap"), "strict", None).get("f")
        if interval is not None and abs(source["micro"]["f"] - row["f1"]) < 1e-9:
            found[row["name"]] = list(interval)
    return found


def non_commercial_licences(transfer: Mapping[str, Any] | None) -> list[str]:
    """RETURNS (List[str]): the non-commercial licences ("NC" in them, e.g.
    CC BY-NC 4.0) of the notes the transfer report lists as written."""
    if not transfer:
        return []
    written = transfer.get("licences_written") or {}
    return [licence for licence, n in written.items() if n and NON_COMMERCIAL.search(licence)]


def uses_extension(fragmentation: Mapping[str, Any] | None, vocab_size: int | None) -> bool:
    """Whether this model's encoder has the extended vocabulary of the
    fragmentation report (its `vocab_size` is the report's "after" size, and
    the extension added tokens): only then does the fragmentation plot
    describe the shipped model."""
    if fragmentation is None or vocab_size is None:
        return False
    sizes = fragmentation.get("vocab_size") or {}
    after, before = sizes.get("after"), sizes.get("before")
    return after is not None and vocab_size == after and after != before and fragmentation.get("tokens_added") != 0
