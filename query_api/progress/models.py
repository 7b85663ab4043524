"""The progress report response (contracts.md section 6), field names exactly as the contract spells them.

`build_report` produces plain dicts of this shape (a report for 1,000 members x 20 courses has ~100k unit
entries, and building that many models costs several times the query); these models are the declared
schema: the tests validate every report against them, and the docs point to them.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UnitInfo(_Strict):
    unitId: str
    name: str
    leafCount: int = Field(ge=0)


class CourseInfo(_Strict):
    courseId: str
    name: str
    leafCount: int = Field(ge=0)
    units: list[UnitInfo]


class UnitProgress(_Strict):
    unitId: str
    completed: int = Field(ge=0)
    leafCount: int = Field(ge=0)
    percent: int = Field(ge=0, le=100)


class CourseProgress(_Strict):
    courseId: str
    batchId: str | None
    completed: int = Field(ge=0)
    leafCount: int = Field(ge=0)
    percent: int = Field(ge=0, le=100)
    lastActivity: str | None = Field(description='ISO 8601 UTC, e.g. "2024-11-25T02:00:00Z"')
    units: list[UnitProgress]


class MemberProgress(_Strict):
    userId: str
    courses: list[CourseProgress]


class ProgressReport(_Strict):
    groupId: str
    courses: list[CourseInfo]
    members: list[MemberProgress]
