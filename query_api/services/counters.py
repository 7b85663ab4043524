"""Monotonic revision numbers: caches ask "what changed since revision N" with one cheap query."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from query_api.models import Counter


def next_revision(session: Session, name: str) -> int:
    """+1 and return; on PostgreSQL the row lock orders concurrent writers until they commit."""
    value = session.scalar(update(Counter).where(Counter.name == name).values(value=Counter.value + 1)
                           .returning(Counter.value))
    if value is None:
        raise RuntimeError(f"counter {name!r} is missing: run `lpa db upgrade`")
    return int(value)


def current_revision(session: Session, name: str) -> int:
    return int(session.scalar(select(Counter.value).where(Counter.name == name)) or 0)
