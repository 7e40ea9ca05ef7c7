-- Count an attempt as a failure (until its password proves right): after `free` failures within the window the
-- key is blocked for first_s, doubling with each further failure up to max_s. A failure after a quiet window
-- starts the count again. (The rows are locked by login_throttle_state in the same transaction.)
WITH counted AS (
    SELECT t.key, l.free,
           CASE WHEN t.last_failure_at < now() - make_interval(secs => :window_s) THEN 1
                ELSE t.failures + 1 END AS failures
    FROM login_throttle t
    JOIN unnest(CAST(:keys AS text[]), CAST(:frees AS int[])) AS l(key, free) ON l.key = t.key
)
UPDATE login_throttle t
SET failures = c.failures,
    last_failure_at = now(),
    refused = 0,
    blocked_until = CASE WHEN c.failures >= c.free THEN now() + make_interval(
        secs => least(CAST(:max_s AS float8), :first_s * power(2, least(c.failures - c.free, 30)))) END
FROM counted c
WHERE t.key = c.key
RETURNING t.key, t.failures, t.blocked_until
