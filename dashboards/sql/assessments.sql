-- Assessment submissions with the score as a percentage of the maximum and a 10-point score band
-- (a full score goes to the 90-100% band, so there are exactly ten bands).
SELECT
    e."__time" AS "__time",
    e.user_id AS user_id,
    e.batch_id AS batch_id,
    e.program_id AS program_id,
    e.course_id AS course_id,
    c.course_name AS course_name,
    e.content_id AS content_id,
    e.attempt_id AS attempt_id,
    e.score AS score,
    e.max_score AS max_score,
    100.0 * e.score / e.max_score AS score_pct,
    CASE
        WHEN e.score >= e.max_score THEN '90-100%'
        ELSE CAST(CAST(FLOOR(10.0 * e.score / e.max_score) * 10 AS BIGINT) AS VARCHAR) || '-'
             || CAST(CAST(FLOOR(10.0 * e.score / e.max_score) * 10 + 10 AS BIGINT) AS VARCHAR) || '%'
    END AS score_band
FROM {{enriched}} e
INNER JOIN {{courses}} c ON c.course_id = e.course_id
WHERE e.eid = 'LPA_ASSESSMENT' AND e.max_score > 0
