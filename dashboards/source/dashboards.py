"""The program managers' dashboards: one definition each, charts inline (a chart belongs to one dashboard).

Thresholds that define "at risk" are chart filters (below 50 % and no activity for 7 days); a program manager
changes them in the chart's filters in Superset, or here for everyone.
"""

from __future__ import annotations

from dashboards.model import Bar, BigNumber, Dashboard, Filter, Line, Table

AT_RISK_MAX_PERCENT = 50
AT_RISK_MIN_DAYS_INACTIVE = 7

PROGRAM_OVERVIEW = Dashboard(
    slug="program-overview", title="Program overview",
    description="Enrolment, active learners and completion by course.",
    rows=(
        (BigNumber(name="enrolled_learners", title="Enrolled learners", dataset="enrolments",
                   metric="enrolled_learners", subheader="enrolled now, all batches"),
         BigNumber(name="active_learners", title="Active learners (last 7 days)", dataset="learner_course",
                   metric="active_learners_7d", subheader="up to the newest event"),
         BigNumber(name="learners_with_activity", title="Learners with activity", dataset="learner_course",
                   metric="learners", subheader="any course, any batch"),
         BigNumber(name="completed_learners", title="Completions", dataset="learner_course",
                   metric="completed_learners", subheader="learners who finished a course")),
        (Bar(name="completion_by_course", title="Completion by course", dataset="learner_course", x="course_name",
             metrics=("avg_percent", "completion_rate"), y_title="%", width=6),
         Bar(name="enrolment_by_batch", title="Enrolment by batch", dataset="enrolments", x="batch_id",
             metrics=("enrolled_learners", "unenrolled_learners"), stacked=True, width=6)),
        (Line(name="weekly_active_learners", title="Active learners per week", dataset="activity", x="__time",
              time_grain="P1W", metrics=("learners",), series="course_name", width=12),),
    ),
)

COURSE_FUNNEL = Dashboard(
    slug="course-funnel", title="Course funnel",
    description="Completion by unit: how far learners get through each course.",
    rows=(
        (Bar(name="unit_completion_funnel", title="Learners who finished each unit", dataset="unit_progress",
             x="unit_label", metrics=("unit_done_rate",), series="course_name", y_title="% of learners",
             label_rotation=30, width=12, height=60),),
        (Table(name="unit_funnel_table", title="Completion by unit", dataset="unit_progress",
               columns=("course_name", "unit_label"),
               metrics=("learners", "unit_started_learners", "unit_done_learners", "unit_done_rate"),
               order_by="unit_done_rate", width=12, height=60),),
    ),
)

BATCH_COMPARISON = Dashboard(
    slug="batch-comparison", title="Batch comparison",
    description="Progress and completion side by side for every batch.",
    rows=(
        (Bar(name="batch_progress", title="Average progress by batch and course", dataset="learner_course",
             x="batch_id", metrics=("avg_percent",), series="course_name", y_title="%", width=6),
         Bar(name="batch_completion", title="Completion rate by batch", dataset="learner_course", x="batch_id",
             metrics=("completion_rate",), y_title="%", width=6)),
        (Table(name="batch_table", title="Batches", dataset="learner_course", columns=("batch_id", "course_name"),
               metrics=("learners", "active_learners_7d", "avg_percent", "completion_rate"),
               order_by="avg_percent", width=12),),
    ),
)

LEARNERS_AT_RISK = Dashboard(
    slug="learners-at-risk", title="Learners at risk",
    description=f"Below {AT_RISK_MAX_PERCENT} % of a course and inactive for {AT_RISK_MIN_DAYS_INACTIVE}+ days.",
    rows=(
        (BigNumber(name="at_risk_learners", title="Learners at risk", dataset="learner_course", metric="learners",
                   subheader=f"< {AT_RISK_MAX_PERCENT} % and {AT_RISK_MIN_DAYS_INACTIVE}+ days inactive",
                   filters=(Filter(column="percent", op="<", value=AT_RISK_MAX_PERCENT),
                            Filter(column="days_inactive", op=">=", value=AT_RISK_MIN_DAYS_INACTIVE)),
                   width=4),
         Bar(name="at_risk_by_course", title="At risk by course", dataset="learner_course", x="course_name",
             metrics=("learners",),
             filters=(Filter(column="percent", op="<", value=AT_RISK_MAX_PERCENT),
                      Filter(column="days_inactive", op=">=", value=AT_RISK_MIN_DAYS_INACTIVE)),
             width=8, height=30)),
        (Table(name="at_risk_table", title="Learners at risk", dataset="learner_course",
               columns=("user_id", "course_name", "batch_id", "percent", "last_activity", "days_inactive"),
               filters=(Filter(column="percent", op="<", value=AT_RISK_MAX_PERCENT),
                        Filter(column="days_inactive", op=">=", value=AT_RISK_MIN_DAYS_INACTIVE)),
               order_by="days_inactive", width=12, height=80),),
    ),
)

ASSESSMENT_SCORES = Dashboard(
    slug="assessment-scores", title="Assessment scores",
    description="Distribution of assessment scores (% of the maximum) by course.",
    rows=(
        (Bar(name="score_distribution", title="Score distribution", dataset="assessments", x="score_band",
             metrics=("attempts",), series="course_name", stacked=True, x_title="score (% of max)",
             y_title="attempts", width=8, height=60),
         Table(name="score_by_course", title="Scores by course", dataset="assessments", columns=("course_name",),
               metrics=("attempts", "learners", "avg_score_pct"), order_by="avg_score_pct", width=4, height=60)),
    ),
)

PROGRESS_TREND = Dashboard(
    slug="progress-trend", title="Progress trend",
    description="Average progress and completions per course, day by day, from the daily rollups.",
    rows=(
        (Line(name="progress_trend_avg", title="Average progress per course", dataset="progress_trend", x="__time",
              metrics=("avg_percent",), series="course_name", y_title="%", width=12),),
        (Line(name="progress_trend_completed", title="Learners who completed, per course",
              dataset="progress_trend", x="__time", metrics=("completed_learners",), series="course_name",
              width=12),),
    ),
)

DASHBOARDS: tuple[Dashboard, ...] = (PROGRAM_OVERVIEW, COURSE_FUNNEL, BATCH_COMPARISON, LEARNERS_AT_RISK,
                                     ASSESSMENT_SCORES, PROGRESS_TREND)
