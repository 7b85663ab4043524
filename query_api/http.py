"""Request parsing and response helpers: bodies through pydantic models, answers as their JSON."""

from __future__ import annotations

from typing import TypeVar

from flask import Response, current_app, request
from pydantic import BaseModel

from lpa.settings import Settings
from query_api.errors import Invalid

M = TypeVar("M", bound=BaseModel)


def body(model: type[M]) -> M:
    """The JSON body validated as `model`; not JSON or not an object -> 422, field errors -> 422 (handler)."""
    data = request.get_json(silent=True, force=True) if request.get_data(cache=True) else None
    if data is None:
        raise Invalid("the request body must be a JSON object", code="invalid_json")
    if not isinstance(data, dict):
        raise Invalid(f"the request body must be a JSON object, not {type(data).__name__}", code="invalid_json")
    return model.model_validate(data)


def query(model: type[M]) -> M:
    return model.model_validate(request.args.to_dict())


def respond(model: BaseModel, status: int = 200) -> Response:
    return Response(model.model_dump_json(exclude_none=False), status=status, mimetype="application/json")


def no_content() -> Response:
    return Response(status=204)


def settings() -> Settings:
    return current_app.extensions["lpa.settings"]
