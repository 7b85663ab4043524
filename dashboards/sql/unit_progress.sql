-- One row per learner x batch x course x reported unit: completed current leaves of the unit and whether
-- the learner finished it (a unit with no required leaf is never "done"). The course funnel reads this.
SELECT
    a.user_id AS user_id,
    a.batch_id AS batch_id,
    a.program_id AS program_id,
    a.course_id AS course_id,
    c.course_name AS course_name,
    u.unit_id AS unit_id,
    u.unit_label AS unit_label,
    u.unit_index AS unit_index,
    u.leaf_count AS leaf_count,
    COALESCE(p.completed, 0) AS completed,
    CASE WHEN u.leaf_count > 0 AND COALESCE(p.completed, 0) >= u.leaf_count THEN 1 ELSE 0 END AS unit_done,
    CASE WHEN COALESCE(p.completed, 0) > 0 THEN 1 ELSE 0 END AS unit_started
FROM (
    SELECT user_id, batch_id, program_id, course_id
    FROM {{enriched}}
    WHERE eid = 'BE_JOB_REQUEST'
    GROUP BY user_id, batch_id, program_id, course_id
) a
INNER JOIN {{courses}} c ON c.course_id = a.course_id
INNER JOIN {{units}} u ON u.course_id = a.course_id
LEFT JOIN (
    SELECT e.user_id AS user_id, e.batch_id AS batch_id, e.course_id AS course_id, l.unit_id AS unit_id,
           COUNT(DISTINCT e.content_id) AS completed
    FROM {{enriched}} e
    INNER JOIN {{leaves}} l ON l.course_id = e.course_id AND l.leaf_id = e.content_id
    WHERE e.eid = 'BE_JOB_REQUEST' AND e.status = 2 AND l.unit_id IS NOT NULL
    GROUP BY e.user_id, e.batch_id, e.course_id, l.unit_id
) p ON p.user_id = a.user_id AND p.batch_id = a.batch_id AND p.course_id = a.course_id AND p.unit_id = u.unit_id
