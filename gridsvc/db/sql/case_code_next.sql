INSERT INTO case_counters (day, n)
VALUES (:d, 1)
ON CONFLICT (day) DO UPDATE
SET n = case_counters.n + 1
RETURNING n
