"""The course catalog: the raw hierarchy JSON (a republish replaces it) plus what search needs.

Facet values live in their own table (lower-cased) so that list-valued facets (medium, gradeLevel, subject)
are searched the same way on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from query_api.models.base import Base, UtcDateTime, utcnow


class Course(Base):
    __tablename__ = "courses"

    id: Mapped[str] = mapped_column(String(256), primary_key=True)
    name: Mapped[str] = mapped_column(String(512))
    board: Mapped[str | None] = mapped_column(String(256))
    medium: Mapped[list[str]] = mapped_column(JSON)
    grade_level: Mapped[list[str]] = mapped_column(JSON)
    subject: Mapped[list[str]] = mapped_column(JSON)
    leaf_count: Mapped[int] = mapped_column(Integer, default=0)
    unit_count: Mapped[int] = mapped_column(Integer, default=0)
    hierarchy: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)  # +1 on each republish that changes the JSON
    revision: Mapped[int] = mapped_column(BigInteger, default=0, index=True)  # global catalog counter
    created_on: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_on: Mapped[datetime | None] = mapped_column(UtcDateTime)


class CourseFacet(Base):
    __tablename__ = "course_facets"
    __table_args__ = (Index("ix_course_facets_facet_value", "facet", "value"),)

    course_id: Mapped[str] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True)
    facet: Mapped[str] = mapped_column(String(20), primary_key=True)  # board | medium | gradeLevel | subject
    value: Mapped[str] = mapped_column(String(256), primary_key=True)  # lower-cased


class Counter(Base):
    """Monotonic counters (`catalog`, `batches`). Incrementing takes the row lock until commit, so on
    PostgreSQL revisions become visible in order and a cache that reads `revision > last_seen` misses nothing."""

    __tablename__ = "lpa_counters"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
