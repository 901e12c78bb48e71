"""Turn pydantic's validation errors into the API server's ``path: message`` wording.

Kept apart from the models in ``spec`` because it is a translation table, not part of the
ServiceLevel API: pydantic reports ``loc`` tuples and its own phrases, while a user fixing a
manifest should read what ``kubectl apply`` would have said — ``spec.dependencies[0].availability:
required for an external dependency``. ``FieldError`` is how a cross-field check in a model names
the field it is about; it never leaves ``spec.parse_service_level_spec``, which raises
``errors.InputError`` instead.
"""

from __future__ import annotations

import pydantic_core


class FieldError(ValueError):
    """A cross-field check failed; ``field`` is the camelCase name it is reported on."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


_MESSAGES = {
    "missing": "required",
    "extra_forbidden": "unknown field",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "dict_type": "must be an object",
    "tuple_type": "must be a list",
    "list_type": "must be a list",
    "literal_error": "",  # pydantic's own wording names the allowed values
}


def problem(error: pydantic_core.ErrorDetails) -> tuple[str, str]:
    """``(field path, message)`` for one pydantic error, in the API server's path style."""
    loc: tuple[int | str, ...] = tuple(error["loc"])
    message = _MESSAGES.get(error["type"]) or str(error["msg"])
    cause: object = (error.get("ctx") or {}).get("error")
    if isinstance(cause, FieldError):
        message = str(cause)
        if cause.field is not None:
            loc = (*loc, cause.field)
    elif isinstance(cause, ValueError):
        message = str(cause)  # our constraints' wording, without pydantic's "Value error, "
    elif error["type"] == "too_long":
        message = f"must have at most {(error.get('ctx') or {}).get('max_length')} items"
    elif error["type"] == "literal_error":
        message = str(error["msg"]).replace("Input should be", "must be")
    path = "spec" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)
    return path, message
