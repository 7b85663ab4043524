-- One row per learner x batch x course with content-state activity: completed current leaves, percent,
-- first/last activity and days since the last activity, measured up to the newest event in the store
-- (so a snapshot or a replayed history reads the same as live data).
-- Portable subset (Druid SQL and DuckDB); relation names are filled in per target by dashboards/build.py.
SELECT
    a.user_id AS user_id,
    a.batch_id AS batch_id,
    a.program_id AS program_id,
    a.course_id AS course_id,
    c.course_name AS course_name,
    COALESCE(p.completed, 0) AS completed,
    c.leaf_count AS leaf_count,
    CASE
        WHEN c.leaf_count = 0 THEN 0.0
        WHEN COALESCE(p.completed, 0) >= c.leaf_count THEN 100.0
        ELSE 100.0 * COALESCE(p.completed, 0) / c.leaf_count
    END AS percent,
    a.first_activity AS first_activity,
    a.last_activity AS last_activity,
    (EXTRACT(EPOCH FROM t.as_of) - EXTRACT(EPOCH FROM a.last_activity)) / 86400.0 AS days_inactive
FROM (
    SELECT user_id, batch_id, program_id, course_id, 1 AS k,
           MIN("__time") AS first_activity, MAX("__time") AS last_activity
    FROM {{enriched}}
    WHERE eid = 'BE_JOB_REQUEST'
    GROUP BY user_id, batch_id, program_id, course_id
) a
INNER JOIN {{courses}} c ON c.course_id = a.course_id
INNER JOIN (SELECT 1 AS k, MAX("__time") AS as_of FROM {{enriched}}) t ON t.k = a.k
LEFT JOIN (
    SELECT e.user_id AS user_id, e.batch_id AS batch_id, e.course_id AS course_id,
           COUNT(DISTINCT e.content_id) AS completed
    FROM {{enriched}} e
    INNER JOIN {{leaves}} l ON l.course_id = e.course_id AND l.leaf_id = e.content_id
    WHERE e.eid = 'BE_JOB_REQUEST' AND e.status = 2
    GROUP BY e.user_id, e.batch_id, e.course_id
) p ON p.user_id = a.user_id AND p.batch_id = a.batch_id AND p.course_id = a.course_id
