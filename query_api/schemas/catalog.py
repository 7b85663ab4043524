"""Course catalog: search parameters and results."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from query_api.schemas.common import RequestModel, ResponseModel


class CourseQuery(RequestModel):
    board: str | None = Field(default=None, max_length=256)
    medium: str | None = Field(default=None, max_length=256)
    gradeLevel: str | None = Field(default=None, max_length=256)
    subject: str | None = Field(default=None, max_length=256)
    q: str | None = Field(default=None, max_length=256, description="text in the course name or id")
    limit: int = Field(default=20, ge=1, le=100)
    offset: int = Field(default=0, ge=0, le=1_000_000)


class UnitOut(ResponseModel):
    unitId: str
    name: str
    leafCount: int
    optional: bool


class CourseOut(ResponseModel):
    courseId: str
    name: str
    board: str | None = None
    medium: list[str]
    gradeLevel: list[str]
    subject: list[str]
    leafCount: int
    unitCount: int
    version: int
    updatedOn: datetime | None = None
    units: list[UnitOut] | None = None


class CoursePage(ResponseModel):
    count: int = Field(description="total matches, for pagination")
    limit: int
    offset: int
    courses: list[CourseOut]


class HierarchyStored(ResponseModel):
    course: CourseOut
    changed: bool = Field(description="false when the same JSON was already stored (nothing replaced)")
