UPDATE api_tokens t SET revoked_at = now() FROM users u WHERE u.id = t.user_id AND u.name = :n
  AND t.revoked_at IS NULL
