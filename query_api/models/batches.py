"""Batches (one or several courses; a program batch has several) and enrolments.

`last_ets` makes event application order-safe: an event older than what was already applied (a replay, a
redelivery) changes nothing. `revision` comes from the `batches` counter so caches can fetch what changed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from query_api.models.base import Base, UtcDateTime, utcnow


class Batch(Base):
    __tablename__ = "batches"

    id: Mapped[str] = mapped_column(String(256), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(256))
    program_id: Mapped[str | None] = mapped_column(String(256), index=True)
    enrollment_type: Mapped[str] = mapped_column(String(20), default="open")
    status: Mapped[str] = mapped_column(String(10), default="active")  # active | closed
    course_ids: Mapped[list[str]] = mapped_column(JSON)
    mentors: Mapped[list[str]] = mapped_column(JSON)
    created_by: Mapped[str | None] = mapped_column(String(256))
    created_on: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_on: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_on: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_ets: Mapped[int] = mapped_column(BigInteger, default=0)
    revision: Mapped[int] = mapped_column(BigInteger, default=0, index=True)


class Enrolment(Base):
    __tablename__ = "enrolments"

    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    status: Mapped[str] = mapped_column(String(10), default="active")  # active | inactive
    enrolled_on: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_on: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_ets: Mapped[int] = mapped_column(BigInteger, default=0)
