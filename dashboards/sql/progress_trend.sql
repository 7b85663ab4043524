-- Course progress per learner on every day, from the daily rollups. A rollup row holds from its day until
-- `valid_to` (exclusive; null: still current), so each day of the calendar (the rollup's own days) is joined
-- to the rows valid on it. The constant key `k` keeps the join an equality, which Druid requires.
SELECT
    cal.day_time AS "__time",
    r.user_id AS user_id,
    r.batch_id AS batch_id,
    r.course_id AS course_id,
    c.course_name AS course_name,
    r.completed AS completed,
    r.leaf_count AS leaf_count,
    r.percent AS percent
FROM (
    SELECT "__time" AS day_time, valid_to, user_id, batch_id, course_id, completed, leaf_count, percent, 1 AS k
    FROM {{daily_progress}}
    WHERE level = 'course'
) r
INNER JOIN (SELECT 1 AS k, "__time" AS day_time FROM {{daily_progress}} GROUP BY "__time") cal ON cal.k = r.k
INNER JOIN {{courses}} c ON c.course_id = r.course_id
WHERE r.day_time <= cal.day_time AND (r.valid_to IS NULL OR cal.day_time < r.valid_to)
