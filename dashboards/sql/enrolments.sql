-- One row per learner x batch that had an enrolment event: enrolled now (the last action was `enrol`)?
-- Only MAX ... FILTER: Druid's LATEST and DuckDB's arg_max are not spelled the same.
SELECT
    user_id,
    batch_id,
    program_id,
    MAX("__time") FILTER (WHERE action = 'enrol') AS enrolled_at,
    MAX("__time") FILTER (WHERE action = 'unenrol') AS unenrolled_at,
    CASE
        WHEN MAX("__time") FILTER (WHERE action = 'enrol') IS NULL THEN 0
        WHEN MAX("__time") FILTER (WHERE action = 'unenrol') IS NULL THEN 1
        WHEN MAX("__time") FILTER (WHERE action = 'enrol') > MAX("__time") FILTER (WHERE action = 'unenrol') THEN 1
        ELSE 0
    END AS enrolled
FROM {{enriched}}
WHERE eid = 'LPA_ENROLMENT'
GROUP BY user_id, batch_id, program_id
