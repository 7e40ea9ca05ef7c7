SELECT password_hash FROM users WHERE name = :n AND disabled_at IS NULL
