-- Content-state events (activity in the contract's sense), with the course's display name.
SELECT
    e."__time" AS "__time",
    e.user_id AS user_id,
    e.batch_id AS batch_id,
    e.program_id AS program_id,
    e.course_id AS course_id,
    c.course_name AS course_name,
    e.content_id AS content_id,
    e.status AS status
FROM {{enriched}} e
INNER JOIN {{courses}} c ON c.course_id = e.course_id
WHERE e.eid = 'BE_JOB_REQUEST'
