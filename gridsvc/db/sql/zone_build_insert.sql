INSERT INTO zone_builds (policy, counts, unassigned) VALUES (:p, CAST(:c AS jsonb), CAST(:u AS jsonb))
RETURNING id
