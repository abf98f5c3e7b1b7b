"""pathways.shapes: one dataclass gives both a JSON body and its JSON Schema (pure, no database)."""

from dataclasses import dataclass
from typing import Annotated

import pytest
from jsonschema import Draft202012Validator, ValidationError
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from pathways.shapes import Doc, as_json, schemas


@dataclass(kw_only=True)
class Part:
    code: str


@dataclass(kw_only=True)
class Whole:
    """Something made of parts."""

    name: Annotated[str, Doc(description="What it is called.")]
    count: Annotated[int, Doc(minimum=0)] | None
    part: Part | None
    span: tuple[int, int | None]
    parts: list[Part]
    flags: dict[str, bool]


WHOLE = Whole(name="w", count=None, part=Part(code="a"), span=(1, None), parts=[Part(code="b")], flags={"x": True})


def _validator(found):
    registry = Registry().with_resource("urn:s", DRAFT202012.create_resource({"components": {"schemas": found}}))
    return Draft202012Validator({"$ref": "urn:s#/components/schemas/Whole"}, registry=registry)


def test_the_json_has_the_fields_in_order_and_the_schema_requires_exactly_them():
    body = as_json(WHOLE)
    assert body == {"name": "w", "count": None, "part": {"code": "a"}, "span": [1, None], "parts": [{"code": "b"}],
                    "flags": {"x": True}}  # fmt: skip
    found = schemas(Whole)
    assert set(found) == {"Whole", "Part"}
    assert found["Whole"]["required"] == list(body)
    assert found["Whole"]["description"] == "Something made of parts."
    assert "description" not in found["Part"], "dataclass's generated signature is no description"
    assert found["Whole"]["properties"]["count"] == {"type": ["integer", "null"], "minimum": 0}
    _validator(found).validate(body)


@pytest.mark.parametrize(
    "change",
    [{"span": [1]}, {"count": -1}, {"part": {"more": ""}}, {"flags": {"x": "yes"}}],
)
def test_a_body_that_strays_from_its_shape_fails_the_schema(change):
    with pytest.raises(ValidationError):
        _validator(schemas(Whole)).validate(as_json(WHOLE) | change)


def test_a_body_with_fields_added_still_matches_the_schema():
    # "Fields may be added": a validator or client built from today's document accepts tomorrow's bodies.
    _validator(schemas(Whole)).validate(as_json(WHOLE) | {"extra": 1, "part": {"code": "a", "more": ""}})


def test_a_field_type_with_no_json_schema_is_refused():
    @dataclass
    class Odd:
        ratio: float

    with pytest.raises(TypeError, match="float"):
        schemas(Odd)
