"""errors.py: one message, one code; no code that nothing raises."""
import re

from spacy_clinkd.errors import Errors, Warnings
from tests.util import ROOT

CODES = {
    name: message
    for cls in (Errors, Warnings)
    for name, message in vars(cls).items()
    if re.fullmatch(r"[EW]\d{3}", name)
}


def _gist(message: str) -> str:
    """The message with its placeholders (quoted or not) and end stop blanked out."""
    return re.sub(r"['\"]?\{[^}]*\}['\"]?", "{}", message).strip().rstrip(".").lower()


def test_every_message_has_one_code():
    codes_of: dict[str, list[str]] = {}
    for name, message in CODES.items():
        codes_of.setdefault(_gist(message), []).append(name)
    assert [names for names in codes_of.values() if len(names) > 1] == []


def test_every_code_is_used_in_the_package():
    package = ROOT / "spacy_clinkd"
    source = "\n".join(
        path.read_text(encoding="utf8") for path in sorted(package.rglob("*.py")) if path.name != "errors.py"
    )
    assert [name for name in CODES if not re.search(rf"\b{name}\b", source)] == []
