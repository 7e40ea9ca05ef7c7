SELECT id FROM users WHERE name = :n AND disabled_at IS NULL
