"""The building blocks of the request and response models (pydantic v2) that each capability's schemas.py declares.

A model is the one declaration of a JSON shape: the OpenAPI document is generated from it (JSON Schema 2020-12,
which OpenAPI 3.1 uses as is), and its limits are constants the capability's services import. This module depends
on nothing of Majlis but its id range, so that a schemas module can be imported (and a limit overridden) first.
"""


from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from majlis.errors import MAX_ID

INT32_MAX = MAX_ID  # ids are 32-bit integers on PostgreSQL


def N_(text: str) -> str:  # noqa: N802 - the conventional no-op marker that pybabel extracts
    """Mark English text for the catalog; the docs page translates it when it renders."""
    return text


class Model(BaseModel):
    """A JSON object of the API; extra fields are ignored unless the model says `extra="forbid"` (closed)."""

    model_config = ConfigDict(frozen=True)


class Closed(Model):
    """A request object that refuses fields it does not name (additionalProperties: false)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def text(description: str | None = None, *, min_length: int | None = None, max_length: int | None = None,
         pattern: str | None = None, fmt: str | None = None, **extra: Any):
    """A string field with its limits (and a JSON Schema `format`, which pydantic leaves to the document)."""
    more = dict(extra)
    if fmt is not None:
        more["format"] = fmt
    return Annotated[str, Field(description=description, min_length=min_length, max_length=max_length,
                                pattern=pattern, json_schema_extra=more or None)]


def number(minimum: int | float | None = None, maximum: int | float | None = None, description: str | None = None,
           *, kind: type = int):
    return Annotated[kind, Field(ge=minimum, le=maximum, description=description)]


def schema(json_schema: dict, kind: Any = Any):
    """A field whose JSON Schema is written out (a shape no Python type says, e.g. an id as number or digits)."""
    return Annotated[kind, WithJsonSchema(json_schema)]


Id = number(1, INT32_MAX)
Count = number(0)
Instant = datetime
Day = Annotated[date, Field(description=N_("YYYY-MM-DD"))]
Number = float
Latitude = number(-90, 90, kind=float)
Longitude = number(-180, 180, kind=float)
LocalMinute = text(N_("Local wall time in the governorate's zone, YYYY-MM-DDTHH:MM"),
                   pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$")
InputInstant = Annotated[datetime, Field(description=N_("ISO 8601; without an offset it is the governorate's "
                                                        "local wall time"))]
DigitsId = schema({"type": ["integer", "string"], "minimum": 1, "maximum": INT32_MAX, "pattern": r"^[0-9]+$",
                   "description": N_("An id, as a number or a string of digits")})


def digits_id(description: str):
    return schema({"type": ["integer", "string"], "minimum": 1, "maximum": INT32_MAX, "pattern": r"^[0-9]+$",
                   "description": description})


def described(kind: Any, description: str):
    return Annotated[kind, Field(description=description)]


def enum_of(values, description: str | None = None):
    """A string out of fixed values (an Enum's or a list), inline rather than a component of its own."""
    found = [str(getattr(value, "value", value)) for value in values]
    body: dict = {"type": "string", "enum": found}
    if description:
        body["description"] = description
    return schema(body, str)


def array_of(item: dict, description: str | None = None, **extra):
    body = {"type": "array", "items": item, **extra}
    if description:
        body["description"] = description
    return schema(body, list)


__all__ = ["Closed", "Count", "Day", "DigitsId", "INT32_MAX", "Id", "Instant", "InputInstant", "Latitude",
           "LocalMinute", "Longitude", "Model", "N_", "Number", "array_of", "described", "digits_id", "enum_of",
           "number", "schema", "text"]
