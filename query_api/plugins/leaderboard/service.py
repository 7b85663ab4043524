"""Leaderboard: rank the group's learners (non-admin members) in the configured scope.

Scope -> (courses, batches): a course counts progress in any batch (the learner's best batch, as the report);
a batch counts only that batch's courses, in that batch; a program counts its batches' courses, in its batches.
Metrics (both exact integers or sums of the stored scores, no approximate counts):
- progress: completed current leaves summed over the scope's courses (best batch per course, chosen among
  the scope's batches); `percent` is that over the scope's leaf count. Everyone has the same denominator,
  so ranking by completed leaves is ranking by percent, without rounding ties.
- assessment_score: the sum of the learner's best scores (highest per assessment content) in the scope.
Ranking is standard competition ranking ("1, 2, 2, 4"): a learner's rank is 1 + the number of learners
strictly ahead; equal values share a rank and are listed by userId. The board shows everyone ranked within
`size` (so a tie at the cut shows all of it), and the caller's own entry as `me`. Visible to all members.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from query_api.errors import NotFound
from query_api.models import Batch
from query_api.plugins import common
from query_api.plugins.leaderboard.plugin import PLUGIN_ID
from query_api.plugins.progress_report.report import hierarchies
from query_api.progress.compute import best_batches
from query_api.store.base import AnalyticsStore


@dataclass(frozen=True)
class Scope:
    course_ids: list[str]
    batch_ids: list[str] | None  # None: any batch


def resolve_scope(session: Session, scope: dict[str, Any]) -> Scope:
    kind = scope["type"]
    if kind == "course":
        return Scope([scope["courseId"]], None)
    if kind == "batch":
        batch = session.get(Batch, scope["batchId"])
        batches = [batch] if batch is not None else []
    else:
        batches = list(session.scalars(select(Batch).where(Batch.program_id == scope["programId"])
                                       .order_by(Batch.id)))
    if not batches:
        raise NotFound(f"the leaderboard's {kind} is not known", {"scope": scope}, code="scope_not_found")
    course_ids = list(dict.fromkeys(c for b in batches for c in b.course_ids))
    return Scope(course_ids, [b.id for b in batches])


def rank(values: dict[str, float]) -> list[tuple[int, str, float]]:
    """Standard competition ranking, highest first; ties share a rank and are ordered by userId."""
    ordered = sorted(values.items(), key=lambda item: (-item[1], item[0]))
    ranked: list[tuple[int, str, float]] = []
    for index, (user_id, value) in enumerate(ordered):
        position = ranked[-1][0] if ranked and ranked[-1][2] == value else index + 1
        ranked.append((position, user_id, value))
    return ranked


def progress_values(session: Session, store: AnalyticsStore, user_ids: list[str],
                    scope: Scope) -> tuple[dict[str, float], int]:
    leaf_total = sum(len(c.leaf_ids) for c in hierarchies(session, scope.course_ids))
    rows = store.progress_rows(user_ids, scope.course_ids).courses
    if scope.batch_ids is not None:
        allowed = set(scope.batch_ids)
        rows = [r for r in rows if r[1] in allowed]
    values: dict[str, float] = dict.fromkeys(user_ids, 0)
    for (user_id, _course), best in best_batches(rows).items():
        values[user_id] += best.completed
    return values, leaf_total


def score_values(store: AnalyticsStore, user_ids: list[str], scope: Scope,
                 content_ids: Sequence[str] | None) -> tuple[dict[str, float], dict[str, float]]:
    rows = store.best_attempts(user_ids, content_ids, scope.course_ids, scope.batch_ids)
    scores: dict[str, list[float]] = {u: [] for u in user_ids}
    maxima: dict[str, list[float]] = {u: [] for u in user_ids}
    for row in rows:
        scores[row.user_id].append(row.best_score)
        maxima[row.user_id].append(row.max_score)
    # fsum + rounding: the same scores always add up to the same value, whatever the row order
    return ({u: round(math.fsum(v), 6) for u, v in scores.items()},
            {u: round(math.fsum(v), 6) for u, v in maxima.items()})


def leaderboard(session: Session, group_id: str, user_id: str) -> dict[str, Any]:
    ctx = common.context(session, group_id, user_id, PLUGIN_ID)
    config = ctx.config
    size, metric = int(config.get("size", 10)), config["metric"]
    scope = resolve_scope(session, config["scope"])
    user_ids = common.learners(session, group_id)
    entries: list[dict[str, Any]] = []
    if user_ids:
        if metric == "progress":
            values, leaf_total = common.store_call(lambda s: progress_values(session, s, user_ids, scope))

            def extra(u: str) -> dict[str, Any]:
                done = int(values[u])
                return {"completed": done, "leafCount": leaf_total,
                        "percent": min(100, done * 100 // leaf_total) if leaf_total else 0}
        else:
            values, maxima = common.store_call(lambda s: score_values(s, user_ids, scope, config.get("contentIds")))

            def extra(u: str) -> dict[str, Any]:
                return {"score": values[u], "maxScore": maxima[u],
                        "percent": round(values[u] * 100 / maxima[u], 2) if maxima[u] else 0.0}
        entries = [{"rank": position, "userId": u, "value": value, **extra(u)}
                   for position, u, value in rank(values)]
    me = next((e for e in entries if e["userId"] == user_id), None)
    return {"groupId": group_id, "scope": config["scope"], "metric": metric, "size": size,
            "ranking": "competition", "courseIds": scope.course_ids, "batchIds": scope.batch_ids,
            "entries": [e for e in entries if e["rank"] <= size], "me": me, "learners": len(user_ids)}
