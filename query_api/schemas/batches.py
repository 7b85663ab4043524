"""Batches, enrolments and programs (contracts.md section 2 LPA_BATCH / LPA_ENROLMENT fields)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, model_validator

from query_api.schemas.common import Id, Name, RequestModel, ResponseModel

EnrollmentType = Literal["open", "invite-only", "private"]


class BatchCreate(RequestModel):
    batchId: Id
    name: Name | None = None
    courseIds: list[Id] = Field(min_length=1, max_length=200)
    programId: Id | None = None
    enrollmentType: EnrollmentType = "open"
    mentors: list[Id] = Field(default_factory=list, max_length=200)
    createdBy: Id | None = Field(default=None, description="defaults to the caller; only operators may set another")

    @model_validator(mode="after")
    def _distinct(self) -> BatchCreate:
        if len(set(self.courseIds)) != len(self.courseIds):
            raise ValueError("courseIds has duplicates")
        return self


class BatchUpdate(RequestModel):
    name: Name | None = None
    courseIds: list[Id] | None = Field(default=None, min_length=1, max_length=200)
    programId: Id | None = None
    enrollmentType: EnrollmentType | None = None
    mentors: list[Id] | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _something(self) -> BatchUpdate:
        if not self.model_fields_set:
            raise ValueError("give at least one field to change")
        if self.courseIds is not None and len(set(self.courseIds)) != len(self.courseIds):
            raise ValueError("courseIds has duplicates")
        return self


class BatchOut(ResponseModel):
    batchId: str
    name: str | None = None
    courseIds: list[str]
    programId: str | None = None
    enrollmentType: EnrollmentType
    mentors: list[str]
    createdBy: str | None = None
    status: Literal["active", "closed"]
    groupId: str | None = None
    createdOn: datetime
    updatedOn: datetime | None = None
    closedOn: datetime | None = None


class EnrolmentOut(ResponseModel):
    batchId: str
    userId: str
    status: Literal["active", "inactive"]
    enrolledOn: datetime
    updatedOn: datetime | None = None


class EnrolmentList(ResponseModel):
    batchId: str
    enrolments: list[EnrolmentOut]


class ProgramOut(ResponseModel):
    programId: str
    courseIds: list[str] = Field(description="every course of the program's batches, first-seen order")
    batches: list[BatchOut]
