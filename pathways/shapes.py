"""JSON shapes: typed dataclasses from which both a JSON body and its JSON Schema are derived.

Contract:
- A shape is a dataclass whose fields, in order, are the keys of its JSON object. Its field types say
  what each value is: `str`, `int`, `bool`, another shape, `X | None`, `list[X]`, `tuple[X, Y]` (a
  fixed-length array), `dict[str, X]`; `Annotated[X, Doc(...)]` adds JSON Schema keywords
  (description, minimum, enum...) to that field.
- `as_json(shape)` is the JSON value of a shape: what a serialiser returns. `schemas(*shapes)` is the
  JSON Schema (2020-12, as OpenAPI 3.1 uses it) of each shape reachable from those given, by class
  name: objects whose every field is required. A field added to a shape is therefore in the body and in
  the schema at once, and the serialiser cannot build the shape without giving it. The objects are open
  (no `additionalProperties: false`): the contract lets fields be added, so a validator or a generated
  client built from today's document must accept tomorrow's fields.
- Standard library only.
"""

import types
import typing
from dataclasses import fields, is_dataclass

REF = "#/components/schemas/"
_TYPES = {str: "string", int: "integer", bool: "boolean"}


class Doc(dict):
    """JSON Schema keywords for a field, beside its type: `Annotated[int, Doc(minimum=0)]`."""


def as_json(value):
    """A shape as JSON values: shapes by their fields in order, tuples as lists."""
    if is_dataclass(value):
        return {f.name: as_json(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, list | tuple):
        return [as_json(item) for item in value]
    if isinstance(value, dict):
        return {key: as_json(item) for key, item in value.items()}
    return value


def schemas(*roots: type) -> dict[str, dict]:
    """The JSON Schema of every shape reachable from `roots`, by class name; shapes refer to one another by $ref."""
    found: dict[str, dict] = {}

    def shape(cls: type) -> dict:
        if cls.__name__ not in found:
            found[cls.__name__] = {}  # claimed first, so a shape that contains itself ends
            hints = typing.get_type_hints(cls, include_extras=True)
            properties = {f.name: schema(hints[f.name]) for f in fields(cls)}
            described = {}
            if cls.__doc__ and not cls.__doc__.startswith(f"{cls.__name__}("):  # not dataclass's own
                described["description"] = " ".join(cls.__doc__.split())
            found[cls.__name__] = {
                "type": "object",
                **described,
                "properties": properties,
                "required": list(properties),
            }
        return {"$ref": REF + cls.__name__}

    def schema(hint) -> dict:
        keywords = {}
        if typing.get_origin(hint) is typing.Annotated:
            for extra in hint.__metadata__:
                keywords.update(extra if isinstance(extra, Doc) else {})
            hint = hint.__origin__
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if origin in (types.UnionType, typing.Union):
            (inner,) = [arg for arg in args if arg is not type(None)]
            result = schema(inner)
            if isinstance(result.get("type"), str):
                result["type"] = [result["type"], "null"]
            else:
                result = {"oneOf": [result, {"type": "null"}]}
        elif origin is list:
            result = {"type": "array", "items": schema(args[0])}
        elif origin is tuple:
            result = {
                "type": "array",
                "prefixItems": [schema(arg) for arg in args],
                "minItems": len(args),
                "maxItems": len(args),
            }
        elif origin is dict:
            result = {"type": "object", "additionalProperties": schema(args[1])}
        elif is_dataclass(hint):
            result = shape(hint)
        elif hint in _TYPES:
            result = {"type": _TYPES[hint]}
        else:
            raise TypeError(f"No JSON Schema for {hint!r}")
        return {**result, **keywords}

    for root in roots:
        shape(root)
    return found
