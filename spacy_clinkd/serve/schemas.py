"""The bodies of the API, as pydantic models: FastAPI validates requests
with them and writes the OpenAPI schema (GET /openapi.json) from them.

A request holds one note (`text`), several (`texts`) or several with ids
(`notes`, annotate's JSONL input objects); its schema spells out the three
forms (`oneOf`), and each server writes its limits into it.

A record is exactly annotate's JSONL record (`annotate/records.py`,
`doc_record`): the responses are built by `doc_record` and only described
here. Offsets count Unicode code points of the text as sent (Python's
`str` indices; a page in a browser, whose strings count UTF-16 units, has
to convert: an emoji is one code point but two UTF-16 units).
"""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    WithJsonSchema,
    model_validator,
)


def _integral(value: float) -> int:
    if not value.is_integer():
        raise ValueError("an id is a string or an integer")
    return int(value)


# A string or an integer; JSON Schema counts 30.0 as an integer, so it is one here too.
NoteId = Annotated[
    StrictStr | StrictInt | Annotated[StrictFloat, AfterValidator(_integral)],
    WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "integer"}]}),
]
FORMS = ("text", "texts", "notes")


class Note(BaseModel):
    """One note as annotate reads it from JSONL: `{"id", "text"}`."""

    model_config = ConfigDict(extra="forbid")

    id: NoteId = Field(description="The record id (an integer becomes its decimal string).")
    text: StrictStr


def _exact_forms(schema: dict[str, Any]) -> None:
    """The request schema as the three forms it takes (`oneOf`), so that a
    client, or a fuzzer, knows which bodies are valid: pydantic alone would
    describe four optional fields."""
    props = schema.pop("properties")
    for key in ("required", "additionalProperties", "type"):
        schema.pop(key, None)
    note_ref = props["notes"]["anyOf"][0]["items"]

    def form(**fields: dict[str, Any]) -> dict[str, Any]:
        required = [name for name in fields if name != "id"]
        return {"type": "object", "properties": fields, "required": required, "additionalProperties": False}

    schema["oneOf"] = [
        form(text={"type": "string", "description": props["text"]["description"]},
             id={"anyOf": [{"type": "string"}, {"type": "integer"}], "description": props["id"]["description"]}),
        form(texts={"type": "array", "items": {"type": "string"}, "minItems": 1,
                    "description": props["texts"]["description"]}),
        form(notes={"type": "array", "items": note_ref, "minItems": 1, "description": props["notes"]["description"]}),
    ]
    schema["examples"] = [
        {"text": "Patient denies chest pain. Started on aspirin.", "id": "note-1"},
        {"texts": ["No fever.", "Possible pneumonia."]},
        {"notes": [{"id": "a", "text": "No fever."}, {"id": "b", "text": "Possible pneumonia."}]},
    ]


class AnnotateRequest(BaseModel):
    """One note (`text`, optionally `id`), several (`texts`, ids "0", "1", ...)
    or several with ids (`notes`: annotate's `{"id", "text"}` input objects)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra=_exact_forms,
    )

    text: StrictStr | None = Field(None, description="One note; its record id is `id` (default \"0\").")
    id: NoteId | None = Field(None, description="The record id of `text` (an integer becomes its decimal string).")
    texts: list[StrictStr] | None = Field(
        None, description="Several notes, annotated together; one record each, in order, ids \"0\", \"1\", ..."
    )
    notes: list[Note] | None = Field(
        None, description="Several notes with their ids (annotate's JSONL input objects); one record each, in order."
    )

    @model_validator(mode="after")
    def _one_form(self) -> AnnotateRequest:
        for name in sorted(self.model_fields_set):
            if getattr(self, name) is None:
                raise ValueError(f"\"{name}\" is null: leave it out, or give a value")
        given = [name for name in FORMS if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of \"text\", \"texts\" and \"notes\"")
        if self.id is not None and self.text is None:
            raise ValueError("\"id\" goes with \"text\"; give several notes their ids with \"notes\"")
        if self.texts is not None and not self.texts or self.notes is not None and not self.notes:
            raise ValueError(f"\"{given[0]}\" is empty: give at least one")
        return self

    def items(self) -> tuple[list[str], list[str]]:
        """RETURNS (Tuple[List[str], List[str]]): the texts and their record ids."""
        if self.text is not None:
            return [self.text], ["0" if self.id is None else str(self.id)]
        if self.notes is not None:
            return [note.text for note in self.notes], [str(note.id) for note in self.notes]
        texts = list(self.texts or [])
        return texts, [str(i) for i in range(len(texts))]


def limit_request_schema(schemas: dict[str, Any], *, max_chars: int, max_texts: int) -> None:
    """Write a server's limits into its OpenAPI component schemas (maxLength of
    every text, maxItems of `texts` and `notes`): a text within them is
    taken, a longer one is a 413."""
    for form in schemas["AnnotateRequest"]["oneOf"]:
        for name, prop in form["properties"].items():
            if name == "text":
                prop["maxLength"] = max_chars
            elif name == "texts":
                prop["maxItems"] = max_texts
                prop["items"]["maxLength"] = max_chars
            elif name == "notes":
                prop["maxItems"] = max_texts
    schemas["Note"]["properties"]["text"]["maxLength"] = max_chars


class Entity(BaseModel):
    start: int = Field(description="Offset of the first character (code points into the text as sent).")
    end: int = Field(description="Offset after the last character.")
    label: str = Field(description="The entity type, e.g. DISEASE, MEDICATION, SYMPTOM.")
    text: str = Field(description="text[start:end].")
    score: float | None = Field(description="The entity's confidence, 4 decimals; null if the pipeline gives none.")
    assertion: Literal["present", "absent", "possible"] | None = Field(
        description="absent: negated; possible: uncertain; null without an assertion component."
    )
    context: list[Literal["historical", "hypothetical", "family"]] | None = Field(
        description="ConText categories of the entity (the patient's past; spoken of as one that may come; "
        "someone else's), [] for none; null without an assertion component."
    )


class Record(BaseModel):
    """annotate's JSONL record."""

    id: str
    entities: list[Entity]


class AnnotateResponse(BaseModel):
    records: list[Record] = Field(description="One record per text, in the order sent.")


class CardScores(BaseModel):
    p: float | None = None
    r: float | None = None
    f: float | None = None
    f_interval: list[float] | None = Field(None, description="The bootstrap interval of F1, if the card has one.")
    support: int | None = None


class ModelScores(BaseModel):
    source: str = Field(description="Where the scores come from (the model card, README.md).")
    test_set: str | None = Field(None, description="The test set the card scores, e.g. 'MACCROBAT test'.")
    strict: CardScores | None = Field(None, description="Micro scores, exact span and type.")
    lenient: CardScores | None = Field(None, description="Micro scores, overlapping span and same type.")
    assertion_accuracy: float | None = Field(None, description="Assertion status on the gold test entities.")


class ModelInfo(BaseModel):
    name: str
    version: str
    description: str | None = None
    labels: list[str]
    assertions: list[str] = Field(description="The assertion values the pipeline sets; empty without one.")
    contexts: list[str] = Field(
        description="The ConText categories an entity's `context` may hold; empty without an assertion component."
    )
    licence: str | None = None
    precision: str = Field(description="The encoder's precision: fp32 or int8.")
    pipeline: list[str]
    scores: ModelScores | None = Field(None, description="The model card's headline scores; null without a card.")
    max_chars: int = Field(description="The longest text this server takes (--max-chars).")
    max_texts: int = Field(description="The most texts one request may hold.")
    batch_size: int


class Health(BaseModel):
    status: Literal["ok"]
    queued: int = Field(description="Texts waiting for the pipeline.")


class ErrorDetail(BaseModel):
    code: str = Field(description="The numbered error (E471-E485), see spacy_clinkd/errors.py.")
    status: int
    message: str = Field(description="What went wrong and what to do.")
    problems: list[str] | None = Field(None, description="Each problem of a request that does not fit the schema.")


class ErrorBody(BaseModel):
    error: ErrorDetail
