"""Shared field types and the error body."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL: refuse it at the boundary
Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=256, pattern=NO_NUL)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=NO_NUL)]
LongText = Annotated[str, StringConstraints(max_length=2000, pattern=NO_NUL)]


class RequestModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ResponseModel(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


class ErrorDetail(ResponseModel):
    code: str = Field(description="stable machine-readable code, e.g. not_found, limit_exceeded")
    message: str
    details: Any = None


class ErrorBody(ResponseModel):
    error: ErrorDetail


class Check(ResponseModel):
    name: str
    ok: bool
    detail: str = ""


class Readiness(ResponseModel):
    status: str
    checks: list[Check]


class Health(ResponseModel):
    status: str
