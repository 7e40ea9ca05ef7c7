SELECT u.name, u.role, u.party_id, u.created_at, u.disabled_at,
       coalesce(array_agg(DISTINCT g.grid_code) FILTER (WHERE g.grid_code IS NOT NULL), '{}') AS grids,
       count(DISTINCT t.id) FILTER (WHERE t.revoked_at IS NULL) AS active_tokens
FROM users u LEFT JOIN user_grids g ON g.user_id = u.id LEFT JOIN api_tokens t ON t.user_id = u.id
GROUP BY u.id ORDER BY u.name
