-- An active user with their grid codes; $who (fixed SQL from gridsvc/db/queries/users.py) picks the user.
SELECT u.id, u.name, u.role, u.party_id,
       coalesce(array_agg(g.grid_code) FILTER (WHERE g.grid_code IS NOT NULL), '{}') AS grids
FROM users u LEFT JOIN user_grids g ON g.user_id = u.id
WHERE u.disabled_at IS NULL AND $who
GROUP BY u.id
