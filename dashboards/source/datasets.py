"""The virtual datasets every chart reads. SQL in dashboards/sql/<name>.sql; metrics are portable SQL too.

Metrics count learners with COUNT(DISTINCT user_id): a learner in two batches of a course is one learner.
"""

from __future__ import annotations

from dashboards.model import Column, Dataset, Metric

V, B, D, T = "VARCHAR", "BIGINT", "DOUBLE", "TIMESTAMP"


def _cols(*specs: tuple[str, str, str]) -> tuple[Column, ...]:
    return tuple(Column(name=name, type=kind, label=label) for name, kind, label in specs)  # type: ignore[arg-type]


_WHO = (("user_id", V, "Learner"), ("batch_id", V, "Batch"), ("program_id", V, "Program"),
        ("course_id", V, "Course id"), ("course_name", V, "Course"))

LEARNERS = Metric(name="learners", expression="COUNT(DISTINCT user_id)", label="Learners")

LEARNER_COURSE = Dataset(
    name="learner_course",
    description="Learner x batch x course: completed current leaves, percent, last activity, days inactive.",
    columns=_cols(*_WHO, ("completed", B, "Completed leaves"), ("leaf_count", B, "Leaves"),
                  ("percent", D, "Progress %"), ("first_activity", T, "First activity"),
                  ("last_activity", T, "Last activity"), ("days_inactive", D, "Days inactive")),
    main_dttm_col="last_activity",
    metrics=(
        LEARNERS,
        Metric(name="active_learners_7d", expression="COUNT(DISTINCT CASE WHEN days_inactive < 7 THEN user_id END)",
               label="Active learners (last 7 days)"),
        Metric(name="completed_learners", expression="COUNT(DISTINCT CASE WHEN percent >= 100 THEN user_id END)",
               label="Learners who completed"),
        Metric(name="completion_rate",
               expression="100.0 * COUNT(DISTINCT CASE WHEN percent >= 100 THEN user_id END)"
                          " / COUNT(DISTINCT user_id)",
               label="Completion rate %", d3format=".1f"),
        Metric(name="avg_percent", expression="AVG(percent)", label="Average progress %", d3format=".1f"),
    ),
)

UNIT_PROGRESS = Dataset(
    name="unit_progress",
    description="Learner x batch x course x reported unit: completed leaves of the unit, done/started flags.",
    columns=_cols(*_WHO, ("unit_id", V, "Unit id"), ("unit_label", V, "Unit"), ("unit_index", B, "Unit #"),
                  ("leaf_count", B, "Leaves"), ("completed", B, "Completed leaves"),
                  ("unit_done", B, "Unit done"), ("unit_started", B, "Unit started")),
    metrics=(
        LEARNERS,
        Metric(name="unit_done_learners", expression="COUNT(DISTINCT CASE WHEN unit_done = 1 THEN user_id END)",
               label="Finished the unit"),
        Metric(name="unit_started_learners",
               expression="COUNT(DISTINCT CASE WHEN unit_started = 1 THEN user_id END)", label="Started the unit"),
        Metric(name="unit_done_rate",
               expression="100.0 * COUNT(DISTINCT CASE WHEN unit_done = 1 THEN user_id END)"
                          " / COUNT(DISTINCT user_id)",
               label="Finished the unit %", d3format=".1f"),
    ),
)

ENROLMENTS = Dataset(
    name="enrolments",
    description="Learner x batch with enrolment events: enrolled now (last action `enrol`) or not.",
    columns=_cols(("user_id", V, "Learner"), ("batch_id", V, "Batch"), ("program_id", V, "Program"),
                  ("enrolled_at", T, "Enrolled at"), ("unenrolled_at", T, "Unenrolled at"),
                  ("enrolled", B, "Enrolled")),
    main_dttm_col="enrolled_at",
    metrics=(
        Metric(name="enrolled_learners", expression="COUNT(DISTINCT CASE WHEN enrolled = 1 THEN user_id END)",
               label="Enrolled learners"),
        Metric(name="unenrolled_learners",
               expression="COUNT(DISTINCT CASE WHEN enrolled = 0 THEN user_id END)", label="Unenrolled"),
    ),
)

ACTIVITY = Dataset(
    name="activity",
    description="Content-state events (activity) with the course name.",
    columns=_cols(("__time", T, "Time"), *_WHO, ("content_id", V, "Content"), ("status", B, "Status")),
    main_dttm_col="__time",
    metrics=(LEARNERS, Metric(name="events", expression="COUNT(*)", label="Events")),
)

ASSESSMENTS = Dataset(
    name="assessments",
    description="Assessment submissions: score, % of max and 10-point score band.",
    columns=_cols(("__time", T, "Time"), *_WHO, ("content_id", V, "Assessment"), ("attempt_id", V, "Attempt"),
                  ("score", D, "Score"), ("max_score", D, "Max score"), ("score_pct", D, "Score %"),
                  ("score_band", V, "Score band")),
    main_dttm_col="__time",
    metrics=(
        LEARNERS,
        Metric(name="attempts", expression="COUNT(*)", label="Attempts"),
        Metric(name="avg_score_pct", expression="AVG(score_pct)", label="Average score %", d3format=".1f"),
    ),
)

PROGRESS_TREND = Dataset(
    name="progress_trend",
    description="Learner x course progress on each day of the daily rollups.",
    columns=_cols(("__time", T, "Day"), ("user_id", V, "Learner"), ("batch_id", V, "Batch"),
                  ("course_id", V, "Course id"), ("course_name", V, "Course"), ("completed", B, "Completed leaves"),
                  ("leaf_count", B, "Leaves"), ("percent", D, "Progress %")),
    main_dttm_col="__time",
    metrics=(
        LEARNERS,
        Metric(name="avg_percent", expression="AVG(percent)", label="Average progress %", d3format=".1f"),
        Metric(name="completed_learners", expression="COUNT(DISTINCT CASE WHEN percent >= 100 THEN user_id END)",
               label="Learners who completed"),
    ),
)

DATASETS: tuple[Dataset, ...] = (LEARNER_COURSE, UNIT_PROGRESS, ENROLMENTS, ACTIVITY, ASSESSMENTS, PROGRESS_TREND)
