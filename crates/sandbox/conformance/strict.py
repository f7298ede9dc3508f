"""Strict validation of a JSON record by an official SDK's pydantic model: pydantic's strict
mode (no coercion: a number is not a string, a string not a number), every key of the record a
field the model declares (recursively: the sandbox invents nothing), and no enum value the SDK
only knows as its own `UNKNOWN` fallback (the server must send values it declares)."""
import enum
import json
import typing

import pydantic


def _models_in(annotation):
    """The pydantic models and enums an annotation can hold (through Optional, List, Dict...)."""
    origin = typing.get_origin(annotation)
    if origin is None:
        if isinstance(annotation, type) and issubclass(annotation, (pydantic.BaseModel, enum.Enum)):
            return [annotation]
        return []
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def _undeclared(model, value, path):
    """Paths of keys `model` does not declare, and of enum values outside its closed set."""
    problems = []
    if issubclass(model, enum.Enum):
        known = {m.value for m in model if m.value != "UNKNOWN"}
        if isinstance(value, str) and value not in known:
            problems.append(f"{path}: {value!r} is not one of {model.__name__} {sorted(known)}")
        return problems
    if not isinstance(value, dict):
        return problems
    by_alias = {(f.alias or name): f for name, f in model.model_fields.items()}
    for key, item in value.items():
        field = by_alias.get(key)
        if field is None:
            problems.append(f"{path}.{key}: not a field of {model.__name__}")
            continue
        if isinstance(item, list):
            elements = [(f"{path}.{key}[{i}]", e) for i, e in enumerate(item)]
        elif isinstance(item, dict) and _is_dict(field.annotation):
            elements = [(f"{path}.{key}.{k}", e) for k, e in item.items()]
        else:
            elements = [(f"{path}.{key}", item)]
        for inner in _models_in(field.annotation):
            for where, element in elements:
                problems += _undeclared(inner, element, where)
    return problems


def _is_dict(annotation):
    origin = typing.get_origin(annotation)
    if origin is dict:
        return True
    return any(_is_dict(a) for a in typing.get_args(annotation))


def check(model, record, what):
    """Validates `record` (JSON text or a decoded value) strictly by `model`; raises with every
    problem found."""
    text = record if isinstance(record, str) else json.dumps(record)
    try:
        model.model_validate_json(text, strict=True)
    except pydantic.ValidationError as error:
        raise AssertionError(f"{what}: {model.__name__} (strict) rejects it: {error}\n{text}") from None
    problems = _undeclared(model, json.loads(text), what)
    if problems:
        raise AssertionError(f"{what}: " + "; ".join(problems) + f"\n{text}")
