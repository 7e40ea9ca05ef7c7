UPDATE users SET disabled_at = now() WHERE name = :n AND disabled_at IS NULL
